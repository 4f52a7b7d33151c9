#include "kafka/kafka_changelog.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <thread>

#include "kafka/client_config.h"
#include "state/changelog_restore.h"

namespace slawatch {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long a wait for acknowledgements, or a read without progress, may last
// before it is reported (librdkafka keeps retrying in the background).
constexpr auto kPatience = std::chrono::seconds(30);
constexpr int kPollMillis = 50;
constexpr int kAdminTimeoutMillis = 15000;

Status set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string reason;
  if (conf.set(name, value, reason) != RdKafka::Conf::CONF_OK) {
    return make_error("changelog client property '" + name + "': " + reason);
  }
  return ok_status();
}

// How one of the two changelog readers (restore, standby tail) differs.
struct ChangelogReaderRole {
  std::string_view group_suffix;
  std::string_view client_id;
  std::string_view fetch_wait_max_ms;
  bool partition_eof;
  RdKafka::EventCb* events;  // nullptr: errors are read from the consume results only
};

// A consumer that is assigned partitions and offsets, never subscribed and
// never committing: it must not join, or move, the input's consumer group.
Result<std::unique_ptr<RdKafka::KafkaConsumer>> make_changelog_reader(const KafkaConfig& config,
                                                                      const ChangelogReaderRole& role) {
  auto conf = make_client_conf(config, KafkaClientRole::consumer);
  if (!conf.ok()) return conf.error();
  if (auto s = set(**conf, "group.id", config.group_id + std::string(role.group_suffix)); !s.ok()) return s.error();
  if (auto s = set(**conf, "enable.auto.commit", "false"); !s.ok()) return s.error();
  if (auto s = set(**conf, "enable.partition.eof", role.partition_eof ? "true" : "false"); !s.ok()) return s.error();
  if (auto s = set(**conf, "client.id", std::string(role.client_id)); !s.ok()) return s.error();
  if (auto s = set(**conf, "fetch.wait.max.ms", std::string(role.fetch_wait_max_ms)); !s.ok()) return s.error();
  std::string reason;
  if (role.events != nullptr && (*conf)->set("event_cb", role.events, reason) != RdKafka::Conf::CONF_OK) {
    return make_error(reason);
  }
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf->get(), reason));
  if (!consumer) return make_error(reason);
  return consumer;
}

}  // namespace

std::string changelog_topic_name(const KafkaConfig& config) { return config.group_id + ".state-changelog"; }

struct KafkaChangelog::Callbacks : RdKafka::DeliveryReportCb, RdKafka::EventCb {
  Callbacks(KafkaChangelog& owner, KafkaErrorHandler handler) : owner(owner), on_error(std::move(handler)) {}

  void dr_cb(RdKafka::Message& message) override {
    auto* tracker = static_cast<Tracker*>(message.msg_opaque());
    if (tracker == nullptr) return;
    std::lock_guard lock(owner.trackers_mutex_);
    --tracker->in_flight;
    if (message.err() != RdKafka::ERR_NO_ERROR) {
      ++tracker->refused;
      tracker->last_error = message.errstr();
    } else if (message.offset() >= 0) {
      tracker->acknowledged = ChangelogOffset{message.offset() + 1, from_millis(message.timestamp().timestamp)};
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR && on_error) {
      on_error("kafka changelog: " + RdKafka::err2str(event.err()) + ": " + event.str(), event.fatal());
    }
  }

  KafkaChangelog& owner;
  KafkaErrorHandler on_error;
};

Result<std::unique_ptr<KafkaChangelog>> KafkaChangelog::create(const KafkaConfig& config,
                                                               KafkaErrorHandler on_error) {
  auto conf = make_client_conf(config, KafkaClientRole::producer);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaChangelog> changelog(new KafkaChangelog());
  changelog->config_ = config;
  changelog->topic_ = changelog_topic_name(config);
  changelog->callbacks_ = std::make_unique<Callbacks>(*changelog, std::move(on_error));
  std::string reason;
  // Order within a partition is the whole point: the idempotent producer
  // (also set by make_client_conf) keeps it across retries.
  if (auto s = set(**conf, "enable.idempotence", "true"); !s.ok()) return s.error();
  if (auto s = set(**conf, "acks", "all"); !s.ok()) return s.error();
  if (auto s = set(**conf, "client.id", "slawatch-changelog"); !s.ok()) return s.error();
  // A commit's records are produced back to back and batch by themselves; the
  // next commit waits for their acknowledgement, so lingering only adds to that wait.
  if (auto s = set(**conf, "linger.ms", "0"); !s.ok()) return s.error();
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(changelog->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(changelog->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK) {
    return make_error("kafka changelog producer: " + reason);
  }
  changelog->producer_.reset(RdKafka::Producer::create(conf->get(), reason));
  if (!changelog->producer_) return make_error("kafka changelog producer: " + reason);
  changelog->producer_topic_.reset(RdKafka::Topic::create(changelog->producer_.get(), changelog->topic_, nullptr,
                                                          reason));
  if (!changelog->producer_topic_) return make_error("kafka changelog topic handle: " + reason);

  // A restore reads to a known end: no reason to let the broker hold a fetch back.
  auto reader = make_changelog_reader(
      config, ChangelogReaderRole{".changelog-reader", "slawatch-changelog-reader", "10", true, nullptr});
  if (!reader.ok()) return make_error("kafka changelog reader: " + reader.error().message);
  changelog->reader_ = std::move(*reader);
  return changelog;
}

KafkaChangelog::~KafkaChangelog() {
  if (producer_) producer_->flush(static_cast<int>(std::chrono::milliseconds(kPatience).count()));
  if (reader_) reader_->close();
}

Result<int32_t> KafkaChangelog::partition_count(const std::string& topic) {
  std::string reason;
  std::unique_ptr<RdKafka::Topic> handle(RdKafka::Topic::create(producer_.get(), topic, nullptr, reason));
  if (!handle) return make_error("topic handle '" + topic + "': " + reason);
  RdKafka::Metadata* raw = nullptr;
  // Asking for one topic's metadata must not create it (the broker may auto-create topics).
  const auto err = producer_->metadata(false, handle.get(), &raw, kAdminTimeoutMillis);
  std::unique_ptr<RdKafka::Metadata> metadata(raw);
  if (err != RdKafka::ERR_NO_ERROR) return make_error("metadata of '" + topic + "': " + RdKafka::err2str(err));
  for (const auto* info : *metadata->topics()) {
    if (info->topic() != topic) continue;
    if (info->err() == RdKafka::ERR_UNKNOWN_TOPIC_OR_PART) return int32_t{0};
    if (info->err() != RdKafka::ERR_NO_ERROR) {
      return make_error("metadata of '" + topic + "': " + RdKafka::err2str(info->err()));
    }
    return static_cast<int32_t>(info->partitions()->size());
  }
  return int32_t{0};
}

Status KafkaChangelog::ensure_topic(const std::string& input_topic) {
  auto wanted = partition_count(input_topic);
  if (!wanted.ok()) return wanted.error();
  if (*wanted == 0) return make_error("cannot size the changelog topic '" + topic_ + "': the input topic '" +
                                      input_topic + "' does not exist");
  auto existing = partition_count(topic_);
  if (!existing.ok()) return existing.error();
  if (*existing >= *wanted) return ok_status();
  if (*existing > 0) {
    return make_error("changelog topic '" + topic_ + "' has " + std::to_string(*existing) + " partitions, fewer than " +
                      input_topic + "'s " + std::to_string(*wanted) + ": add partitions to it");
  }
  char reason[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(topic_.c_str(), *wanted, -1, reason, sizeof(reason));
  if (new_topic == nullptr) return make_error("changelog topic '" + topic_ + "': " + reason);
  rd_kafka_NewTopic_set_config(new_topic, "cleanup.policy", "compact");
  // Set, not left to the broker's default: a copy catches up from the tail
  // only while the tail's tombstones are surely kept (changelog_restore.h).
  const std::string tombstones_kept = std::to_string(
      std::chrono::duration_cast<std::chrono::milliseconds>(kChangelogTombstoneRetention).count());
  rd_kafka_NewTopic_set_config(new_topic, "delete.retention.ms", tombstones_kept.c_str());
  rd_kafka_t* client = producer_->c_ptr();
  rd_kafka_queue_t* queue = rd_kafka_queue_new(client);
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(client, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, kAdminTimeoutMillis, reason, sizeof(reason));
  rd_kafka_CreateTopics(client, &new_topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kAdminTimeoutMillis + 5000);
  Status status = ok_status();
  if (event == nullptr) {
    status = make_error("creating changelog topic '" + topic_ + "': no answer from the broker");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = make_error("creating changelog topic '" + topic_ + "': " + rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count; ++i) {
      const auto err = rd_kafka_topic_result_error(results[i]);
      // Another instance of the group may have created it first.
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = make_error("creating changelog topic '" + topic_ + "': " + rd_kafka_topic_result_error_string(results[i]));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(new_topic);
  rd_kafka_queue_destroy(queue);
  return status;
}

Status KafkaChangelog::append(uint16_t partition, const std::vector<ChangelogRecord>& records) {
  Tracker* tracker = nullptr;
  {
    std::lock_guard lock(trackers_mutex_);
    tracker = &trackers_[partition];
    tracker->in_flight += records.size();
  }
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& record = records[i];
    const std::string key = record.topic_key();
    for (;;) {
      const auto err = producer_->produce(
          producer_topic_.get(), partition, RdKafka::Producer::RK_MSG_COPY,
          record.value ? const_cast<char*>(record.value->data()) : nullptr, record.value ? record.value->size() : 0,
          &key, tracker);
      if (err == RdKafka::ERR_NO_ERROR) break;
      if (err == RdKafka::ERR__QUEUE_FULL) {
        producer_->poll(kPollMillis);
        continue;
      }
      std::lock_guard lock(trackers_mutex_);
      tracker->in_flight -= records.size() - i;
      return make_error("changelog partition " + std::to_string(partition) + ": " + RdKafka::err2str(err));
    }
  }
  producer_->poll(0);
  return ok_status();
}

Result<bool> KafkaChangelog::acknowledged_now(uint16_t partition) {
  std::lock_guard lock(trackers_mutex_);
  Tracker& tracker = trackers_[partition];
  if (tracker.refused > 0) {
    const auto refused = tracker.refused;
    tracker.refused = 0;
    return make_error("changelog partition " + std::to_string(partition) + ": " + std::to_string(refused) +
                      " record(s) refused: " + tracker.last_error);
  }
  return tracker.in_flight == 0;
}

Status KafkaChangelog::wait_acknowledged(uint16_t partition) {
  const auto deadline = SteadyClock::now() + kPatience;
  for (;;) {
    auto acknowledged = acknowledged_now(partition);
    if (!acknowledged.ok()) return acknowledged.error();
    if (*acknowledged) return ok_status();
    if (SteadyClock::now() >= deadline) {
      return make_error("changelog partition " + std::to_string(partition) + ": not acknowledged within " +
                        std::to_string(kPatience.count()) + " s");
    }
    producer_->poll(kPollMillis);
  }
}

Result<bool> KafkaChangelog::poll_acknowledged(uint16_t partition) {
  producer_->poll(0);
  return acknowledged_now(partition);
}

std::optional<ChangelogOffset> KafkaChangelog::last_acknowledged(uint16_t partition) {
  std::lock_guard lock(trackers_mutex_);
  return trackers_[partition].acknowledged;
}

Result<ChangelogBounds> KafkaChangelog::bounds(uint16_t partition) {
  std::lock_guard lock(reader_mutex_);
  return query_bounds(partition);
}

Result<ChangelogBounds> KafkaChangelog::query_bounds(uint16_t partition) {
  int64_t low = 0;
  int64_t high = 0;
  // A topic created a moment ago has no partition leader yet: such errors pass within kPatience.
  const auto give_up = SteadyClock::now() + kPatience;
  for (;;) {
    const auto err = reader_->query_watermark_offsets(topic_, partition, &low, &high, kAdminTimeoutMillis);
    if (err == RdKafka::ERR_NO_ERROR) return ChangelogBounds{low, high};
    if (SteadyClock::now() >= give_up) {
      return make_error("changelog partition " + std::to_string(partition) + ": reading its end: " +
                        RdKafka::err2str(err));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kPollMillis * 4));
  }
}

Status KafkaChangelog::read_range(uint16_t partition, std::optional<int64_t> from,
                                  const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) {
  std::lock_guard lock(reader_mutex_);
  auto range = query_bounds(partition);
  if (!range.ok()) return range.error();
  const int64_t low = range->start;
  const int64_t high = range->end;
  const int64_t start = from ? std::max(*from, low) : high - 1;
  if (high <= low || start >= high) return ok_status();
  std::vector<RdKafka::TopicPartition*> assignment{RdKafka::TopicPartition::create(topic_, partition, start)};
  const auto assigned = reader_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (assigned != RdKafka::ERR_NO_ERROR) {
    return make_error("changelog partition " + std::to_string(partition) + ": " + RdKafka::err2str(assigned));
  }
  Status status = ok_status();
  auto last_progress = SteadyClock::now();
  for (bool done = false; !done && status.ok();) {
    std::unique_ptr<RdKafka::Message> message(reader_->consume(kPollMillis * 4));
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR: {
        last_progress = SteadyClock::now();
        std::optional<std::string> value;
        if (message->payload() != nullptr) value.emplace(static_cast<const char*>(message->payload()), message->len());
        const std::string_view key = message->key() ? std::string_view(*message->key()) : std::string_view();
        auto record = ChangelogRecord::from_topic(key, std::move(value));
        if (!record) {
          status = make_error("changelog partition " + std::to_string(partition) + " offset " +
                              std::to_string(message->offset()) + ": a record with an unknown key");
          break;
        }
        status = fn(std::move(*record),
                    ChangelogOffset{message->offset() + 1, from_millis(message->timestamp().timestamp)});
        done = message->offset() >= high - 1;
        break;
      }
      case RdKafka::ERR__PARTITION_EOF: done = message->offset() >= high; break;
      case RdKafka::ERR__TIMED_OUT:
        if (SteadyClock::now() - last_progress > kPatience) {
          status = make_error("changelog partition " + std::to_string(partition) + ": no progress reading up to offset " +
                              std::to_string(high) + " for " + std::to_string(kPatience.count()) + " s");
        }
        break;
      default:
        status = make_error("changelog partition " + std::to_string(partition) + ": " + message->errstr());
        break;
    }
  }
  reader_->unassign();
  return status;
}

Result<std::optional<ChangelogRecord>> KafkaChangelog::last_record(uint16_t partition) {
  std::optional<ChangelogRecord> last;
  auto s = read_range(partition, std::nullopt, [&last](ChangelogRecord&& record, const ChangelogOffset&) {
    last = std::move(record);
    return ok_status();
  });
  if (!s.ok()) return s.error();
  return last;
}

Status KafkaChangelog::read_from(uint16_t partition, int64_t from,
                                 const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) {
  return read_range(partition, from, fn);
}

struct KafkaChangelogTail::Events : RdKafka::EventCb {
  explicit Events(KafkaErrorHandler handler) : on_error(std::move(handler)) {}
  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR && on_error) {
      on_error("kafka changelog tail: " + RdKafka::err2str(event.err()) + ": " + event.str(), event.fatal());
    }
  }
  KafkaErrorHandler on_error;
};

Result<std::unique_ptr<KafkaChangelogTail>> KafkaChangelogTail::create(const KafkaConfig& config,
                                                                       KafkaErrorHandler on_error) {
  std::unique_ptr<KafkaChangelogTail> tail(new KafkaChangelogTail());
  tail->topic_ = changelog_topic_name(config);
  tail->events_ = std::make_unique<Events>(std::move(on_error));
  auto consumer = make_changelog_reader(
      config, ChangelogReaderRole{".standby", "slawatch-changelog-standby", "100", false, tail->events_.get()});
  if (!consumer.ok()) return make_error("kafka changelog tail: " + consumer.error().message);
  tail->consumer_ = std::move(*consumer);
  return tail;
}

KafkaChangelogTail::~KafkaChangelogTail() {
  if (consumer_) consumer_->close();
}

Status KafkaChangelogTail::start(uint16_t partition, int64_t offset) {
  next_[partition] = offset;
  return reassign();
}

Status KafkaChangelogTail::stop(uint16_t partition) {
  if (next_.erase(partition) == 0) return ok_status();
  return reassign();
}

Status KafkaChangelogTail::reassign() {
  // A whole assign() from where each partition's reading stands: the records
  // already handed out are not read again, and the plain assign the other
  // readers use serves a consumer outside any group.
  std::vector<RdKafka::TopicPartition*> assignment;
  for (const auto& [partition, next] : next_) {
    assignment.push_back(RdKafka::TopicPartition::create(topic_, partition, next));
  }
  const auto err = assignment.empty() ? consumer_->unassign() : consumer_->assign(assignment);
  RdKafka::TopicPartition::destroy(assignment);
  if (err != RdKafka::ERR_NO_ERROR) return make_error("changelog tail: assigning partitions: " + RdKafka::err2str(err));
  return ok_status();
}

Status KafkaChangelogTail::poll(std::vector<TailRecord>& out, size_t max, Duration wait) {
  int timeout = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(wait).count());
  while (out.size() < max) {
    std::unique_ptr<RdKafka::Message> message(consumer_->consume(timeout));
    timeout = 0;  // only the first waits: then take what is there
    switch (message->err()) {
      case RdKafka::ERR_NO_ERROR: {
        // Records of a partition stopped a moment ago may still be queued.
        const auto partition = static_cast<uint16_t>(message->partition());
        const auto followed = next_.find(partition);
        if (followed == next_.end()) break;
        followed->second = message->offset() + 1;
        std::optional<std::string> value;
        if (message->payload() != nullptr) value.emplace(static_cast<const char*>(message->payload()), message->len());
        const std::string_view key = message->key() ? std::string_view(*message->key()) : std::string_view();
        auto record = ChangelogRecord::from_topic(key, std::move(value));
        if (!record) {
          return make_error("changelog partition " + std::to_string(partition) + " offset " +
                            std::to_string(message->offset()) + ": a record with an unknown key");
        }
        out.push_back(TailRecord{partition, std::move(*record),
                                 ChangelogOffset{message->offset() + 1, from_millis(message->timestamp().timestamp)}});
        break;
      }
      case RdKafka::ERR__TIMED_OUT:
      case RdKafka::ERR__PARTITION_EOF:
        return ok_status();
      default:
        return make_error("changelog tail: " + message->errstr());
    }
  }
  return ok_status();
}

std::optional<int64_t> KafkaChangelogTail::end_offset(uint16_t partition) {
  int64_t low = 0;
  int64_t high = 0;
  if (consumer_->get_watermark_offsets(topic_, partition, &low, &high) != RdKafka::ERR_NO_ERROR || high < 0) {
    return std::nullopt;
  }
  return high;
}

}  // namespace slawatch
