#include "kafka/kafka_source.h"

#include <librdkafka/rdkafkacpp.h>

#include <charconv>
#include <chrono>
#include <map>
#include <set>

#include "kafka/client_config.h"

namespace slawatch {

std::string kafka_position(int64_t next_offset, std::string_view topic, int32_t partition) {
  return std::to_string(next_offset) + "@" + std::string(topic) + "/" + std::to_string(partition);
}

Result<std::optional<int64_t>> resume_offset(std::string_view position, std::string_view topic, int32_t partition) {
  if (position.empty()) return std::optional<int64_t>{};
  const auto at = position.find('@');
  const std::string_view number = position.substr(0, at);
  int64_t offset = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), offset);
  if (number.empty() || ec != std::errc{} || end != number.data() + number.size() || offset < 0) {
    return make_error("bad Kafka position '" + std::string(position) + "' in the checkpoint of partition " +
                      std::to_string(partition));
  }
  if (at != std::string_view::npos) {
    const std::string_view recorded = position.substr(at + 1);
    const std::string expected = std::string(topic) + "/" + std::to_string(partition);
    if (recorded != expected) {
      return make_error("the state of partition " + std::to_string(partition) + " was built from " +
                        std::string(recorded) + ", not from " + expected +
                        ": refusing to resume it on another topic (use another state directory)");
    }
  }
  return std::optional<int64_t>{offset};
}

struct KafkaSource::Callbacks : RdKafka::RebalanceCb, RdKafka::EventCb {
  Callbacks(PartitionListener& l, KafkaErrorHandler handler) : listener(l), on_error(std::move(handler)) {}

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      for (auto* tp : partitions) {
        auto offset = listener.on_partition_assigned(tp->partition());
        if (!offset.ok()) {
          if (!failure) failure = offset.error();
          continue;
        }
        tp->set_offset(offset->has_value() ? **offset : RdKafka::Topic::OFFSET_BEGINNING);
        assigned.insert(tp->partition());
      }
      consumer->assign(partitions);
    } else {
      for (auto* tp : partitions) {
        queried_end.erase(tp->partition());
        if (assigned.erase(tp->partition()) > 0) listener.on_partition_revoked(tp->partition());
      }
      consumer->unassign();
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_ERROR) return;
    if (event.fatal() || event.err() == RdKafka::ERR__FATAL) fatal = true;
    if (on_error) on_error("kafka consumer: " + RdKafka::err2str(event.err()) + ": " + event.str(), event.fatal());
  }

  PartitionListener& listener;
  KafkaErrorHandler on_error;
  std::set<int32_t> assigned;
  std::map<int32_t, int64_t> queried_end;  // end offsets asked of the broker (ask_unknown_end_offsets)
  std::optional<Error> failure;
  bool fatal = false;  // the consumer is unusable (fenced): poll() replaces it
};

Result<std::unique_ptr<KafkaSource>> KafkaSource::create(const KafkaConfig& config, PartitionListener& listener,
                                                         KafkaErrorHandler on_error, size_t max_record_bytes) {
  auto conf = make_client_conf(config, KafkaClientRole::consumer);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaSource> source(new KafkaSource());
  source->topic_ = config.events_topic;
  source->instance_id_ = config.instance_id;
  source->max_record_bytes_ = max_record_bytes;
  source->callbacks_ = std::make_unique<Callbacks>(listener, std::move(on_error));
  std::string reason;
  if ((*conf)->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(source->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(source->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK) {
    return make_error("kafka consumer: " + reason);
  }
  source->conf_ = std::move(conf).value();
  if (auto s = source->connect(); !s.ok()) return s.error();
  return source;
}

Status KafkaSource::connect() {
  std::string reason;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf_.get(), reason));  // copies the configuration
  if (!consumer_) return make_error("kafka consumer: " + reason);
  if (auto err = consumer_->subscribe({topic_}); err != RdKafka::ERR_NO_ERROR) {
    return make_error("subscribing to " + topic_ + ": " + RdKafka::err2str(err));
  }
  return ok_status();
}

// librdkafka 2.0.2 can fence a static member by itself: after a broker
// restart it may rejoin under a new member id while its old one still
// heartbeats, and the broker fences the old one (confluent-kafka-go #494).
// The consumer is then unusable, and a monitor left with no partitions would
// miss every breach while looking alive. A new consumer with the same
// instance id takes the membership back. A second fencing soon after means
// another process runs with this instance id: two monitors would fence each
// other forever, so that is an error naming the id.
Status KafkaSource::rejoin_after_fencing() {
  std::string reason;
  consumer_->fatal_error(reason);
  const auto now = std::chrono::steady_clock::now();
  if (last_rejoin_ && now - *last_rejoin_ < kRefencedWithin) {
    return make_error("kafka consumer fenced again " +
                      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - *last_rejoin_).count()) +
                      " s after rejoining (" + reason + "): another instance runs with group.instance.id '" +
                      instance_id_ + "'; give each instance its own kafka.instance_id");
  }
  last_rejoin_ = now;
  if (callbacks_->on_error) {
    callbacks_->on_error("kafka consumer fenced (" + reason + "): rejoining the group as '" + instance_id_ +
                             "' with a new consumer", false);
  }
  consumer_->close();  // revokes what is still assigned through the listener...
  // ...which a fenced consumer may skip: the new consumer's assignment must
  // find every partition let go.
  for (const int32_t partition : std::set<int32_t>(callbacks_->assigned)) callbacks_->listener.on_partition_revoked(partition);
  callbacks_->fatal = false;
  callbacks_->assigned.clear();
  callbacks_->queried_end.clear();
  ++rejoins_;
  return connect();
}

KafkaSource::~KafkaSource() { close(); }

Status KafkaSource::poll(std::vector<ConsumedRecord>& out, size_t max, Duration wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (out.size() < max) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    // Wait only for the first record; after that take what is already fetched.
    const int timeout = out.empty() ? static_cast<int>(std::max<int64_t>(0, left.count())) : 0;
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(timeout));
    if (callbacks_->failure) return *callbacks_->failure;
    // Fencing arrives as an error event or as a consumed message's error.
    if (callbacks_->fatal || message->err() == RdKafka::ERR__FATAL) {
      out.clear();  // fetched by the fenced member: the new one reads them again from the state's offsets
      return rejoin_after_fencing();
    }
    if (message->err() == RdKafka::ERR__TIMED_OUT) break;
    if (message->err() != RdKafka::ERR_NO_ERROR) {
      if (callbacks_->on_error) callbacks_->on_error("kafka consumer: " + message->errstr(), false);
      if (out.empty() && std::chrono::steady_clock::now() < deadline) continue;
      break;
    }
    ConsumedRecord& consumed = out.emplace_back();
    consumed.partition = message->partition();
    consumed.offset = message->offset();
    RawRecord& record = consumed.record;
    const size_t size = message->len();
    record.oversize_bytes = 0;
    if (size > max_record_bytes_) {
      record.bytes.assign(static_cast<const char*>(message->payload()), std::min(size, kOversizeKeptBytes));
      mark_oversize(record, size, max_record_bytes_);
    } else {
      record.bytes.assign(static_cast<const char*>(message->payload()), size);
    }
    if (message->key_pointer() != nullptr) {
      record.key.assign(static_cast<const char*>(message->key_pointer()), message->key_len());
    }
    if (RdKafka::Headers* headers = message->headers()) {
      for (const auto& h : headers->get_all()) {
        record.headers.push_back(
            {h.key(), h.value() != nullptr ? std::string(static_cast<const char*>(h.value()), h.value_size())
                                           : std::string()});
      }
    }
    const std::string partition = std::to_string(consumed.partition);
    const std::string offset = std::to_string(consumed.offset);
    record.origin = message->topic_name() + "/" + partition + "@" + offset;
    record.provenance = {{"slawatch.source.topic", message->topic_name()},
                         {"slawatch.source.partition", partition},
                         {"slawatch.source.offset", offset}};
  }
  return ok_status();
}

void KafkaSource::commit_offsets(const std::map<int32_t, int64_t>& next_offsets, bool wait) {
  if (next_offsets.empty() || closed_) return;
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& [partition, offset] : next_offsets) {
    offsets.push_back(RdKafka::TopicPartition::create(topic_, partition, offset));
  }
  if (wait) {
    consumer_->commitSync(offsets);
  } else {
    consumer_->commitAsync(offsets);
  }
  RdKafka::TopicPartition::destroy(offsets);
}

void KafkaSource::close() {
  if (closed_ || !consumer_) return;
  closed_ = true;
  // A static member (group.instance.id) sends no LeaveGroup from close(): the
  // group would wait a whole session timeout before handing its partitions to
  // the others. Unsubscribing first does send it (librdkafka skips the leave
  // only while terminating), so a clean stop hands over at once.
  if (consumer_->unsubscribe() == RdKafka::ERR_NO_ERROR) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    // The revocation runs in this loop; records fetched meanwhile are dropped:
    // the next owner resumes from the committed state, not from them.
    while (!callbacks_->assigned.empty() && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> dropped(consumer_->consume(100));
    }
    // The LeaveGroup goes out once librdkafka has finished the unassignment,
    // after the callback: give it that moment before close() starts terminating.
    std::unique_ptr<RdKafka::Message> dropped(consumer_->consume(200));
  }
  consumer_->close();  // runs the revoke callback for anything left
}

size_t KafkaSource::assigned_partitions() const { return callbacks_->assigned.size(); }

std::optional<int> KafkaSource::topic_partition_count(Duration timeout) const {
  RdKafka::Metadata* raw = nullptr;
  std::unique_ptr<RdKafka::Topic> topic(RdKafka::Topic::create(consumer_.get(), topic_, nullptr, errstr_));
  if (!topic || consumer_->metadata(false, topic.get(), &raw, static_cast<int>(timeout.count())) !=
                    RdKafka::ERR_NO_ERROR) {
    return std::nullopt;
  }
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  for (const auto* t : *metadata->topics()) {
    if (t->topic() == topic_ && t->err() == RdKafka::ERR_NO_ERROR) return static_cast<int>(t->partitions()->size());
  }
  return std::nullopt;
}

std::optional<int64_t> KafkaSource::end_offset(int32_t partition) const {
  int64_t low = 0, high = 0;
  if (consumer_->get_watermark_offsets(topic_, partition, &low, &high) == RdKafka::ERR_NO_ERROR && high >= 0) {
    return high;
  }
  // Nothing fetched yet in this assignment (a partition already read to its
  // end fetches nothing): the end the broker told us when asked.
  if (auto it = callbacks_->queried_end.find(partition); it != callbacks_->queried_end.end()) return it->second;
  return std::nullopt;
}

void KafkaSource::ask_unknown_end_offsets(Duration timeout) {
  for (int32_t partition : callbacks_->assigned) {
    int64_t low = 0, high = 0;
    if (consumer_->get_watermark_offsets(topic_, partition, &low, &high) == RdKafka::ERR_NO_ERROR && high >= 0) {
      continue;
    }
    if (consumer_->query_watermark_offsets(topic_, partition, &low, &high, static_cast<int>(timeout.count())) ==
            RdKafka::ERR_NO_ERROR &&
        high >= 0) {
      callbacks_->queried_end[partition] = high;
    }
  }
}

}  // namespace slawatch
