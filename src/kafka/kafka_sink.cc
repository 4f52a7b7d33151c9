#include "kafka/kafka_sink.h"

#include <librdkafka/rdkafkacpp.h>
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>

#include "kafka/client_config.h"

namespace slawatch {
namespace {

// Rides with each produced record and comes back in its delivery report.
struct DeliveryTicket {
  std::shared_ptr<KafkaSink::Tracker> tracker;
  uint64_t seq;
};

struct EncodedRecord {
  std::string value;
  RecordHeaders headers;
};

// CloudEvents Kafka binding, binary mode: context attributes become ce_*
// headers, `data` becomes the value, `datacontenttype` the content-type.
Result<EncodedRecord> to_binary_mode(std::string_view structured) {
  rapidjson::Document doc;
  doc.Parse(structured.data(), structured.size());
  if (doc.HasParseError() || !doc.IsObject()) return make_error("alert is not a JSON object");
  EncodedRecord out;
  std::string content_type = "application/json";
  for (const auto& member : doc.GetObject()) {
    const std::string name(member.name.GetString(), member.name.GetStringLength());
    if (name == "data") {
      rapidjson::StringBuffer buffer;
      rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
      member.value.Accept(writer);
      out.value.assign(buffer.GetString(), buffer.GetSize());
    } else if (name == "datacontenttype" && member.value.IsString()) {
      content_type = member.value.GetString();
    } else if (member.value.IsString()) {
      out.headers.push_back({"ce_" + name, std::string(member.value.GetString(), member.value.GetStringLength())});
    }
  }
  out.headers.push_back({"content-type", content_type});
  return out;
}

}  // namespace

struct KafkaProducer::Callbacks : RdKafka::DeliveryReportCb, RdKafka::EventCb {
  explicit Callbacks(KafkaErrorHandler handler) : on_error(std::move(handler)) {}

  void dr_cb(RdKafka::Message& message) override {
    std::unique_ptr<DeliveryTicket> ticket(static_cast<DeliveryTicket*>(message.msg_opaque()));
    if (!ticket) return;
    auto& tracker = *ticket->tracker;
    std::lock_guard lock(tracker.mutex);
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      tracker.in_flight[ticket->seq] = true;
    } else {
      tracker.in_flight.erase(ticket->seq);
      ++tracker.failed;
      tracker.last_error = message.errstr();
    }
  }

  void event_cb(RdKafka::Event& event) override {
    if (event.type() == RdKafka::Event::EVENT_ERROR && on_error) {
      on_error("kafka producer: " + RdKafka::err2str(event.err()) + ": " + event.str(), event.fatal());
    }
  }

  KafkaErrorHandler on_error;
};

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::create(const KafkaConfig& config,
                                                             KafkaErrorHandler on_error) {
  auto conf = make_client_conf(config, KafkaClientRole::producer);
  if (!conf.ok()) return conf.error();
  std::unique_ptr<KafkaProducer> producer(new KafkaProducer());
  producer->callbacks_ = std::make_unique<Callbacks>(std::move(on_error));
  std::string reason;
  if ((*conf)->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(producer->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK ||
      (*conf)->set("event_cb", static_cast<RdKafka::EventCb*>(producer->callbacks_.get()), reason) !=
          RdKafka::Conf::CONF_OK) {
    return make_error("kafka producer: " + reason);
  }
  producer->producer_.reset(RdKafka::Producer::create(conf->get(), reason));
  if (!producer->producer_) return make_error("kafka producer: " + reason);
  return producer;
}

KafkaProducer::~KafkaProducer() {
  if (!producer_) return;
  // Records still queued stay in the outbox and are produced again after a
  // restart; give the broker a moment, then drop their tickets.
  producer_->flush(2000);
  producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
  producer_->poll(0);
}

void KafkaProducer::poll() { producer_->poll(0); }

bool KafkaProducer::flush(Duration wait) {
  return producer_->flush(static_cast<int>(wait.count())) == RdKafka::ERR_NO_ERROR;
}

size_t KafkaProducer::outstanding() const { return static_cast<size_t>(producer_->outq_len()); }

KafkaSink::KafkaSink(KafkaProducer& producer, std::string topic, KafkaPayloadMode mode, Duration delivery_wait)
    : producer_(producer),
      topic_(std::move(topic)),
      mode_(mode),
      delivery_wait_(delivery_wait),
      tracker_(std::make_shared<Tracker>()) {}

KafkaSink::~KafkaSink() = default;

Status KafkaSink::write(const OutboundRecord& record) {
  // Held until the entry is in: produce() serves no delivery report, but a
  // poll on another thread could, and must find the entry once it runs.
  std::lock_guard lock(tracker_->mutex);
  if (tracker_->in_flight.contains(record.seq)) return ok_status();
  EncodedRecord encoded;
  if (mode_ == KafkaPayloadMode::cloudevent_binary) {
    auto binary = to_binary_mode(record.payload);
    if (!binary.ok()) return binary.error();
    encoded = std::move(binary).value();
  } else {
    encoded.value.assign(record.payload);
    if (mode_ == KafkaPayloadMode::cloudevent_structured) {
      encoded.headers.push_back({"content-type", std::string(kStructuredCloudEventContentType)});
    }
  }
  if (record.headers != nullptr) {
    encoded.headers.insert(encoded.headers.end(), record.headers->begin(), record.headers->end());
  }
  RdKafka::Headers* headers = nullptr;
  if (!encoded.headers.empty()) {
    headers = RdKafka::Headers::create();
    for (const auto& h : encoded.headers) headers->add(h.name, h.value.data(), h.value.size());
  }
  auto ticket = std::make_unique<DeliveryTicket>(DeliveryTicket{tracker_, record.seq});
  const auto err = producer_.client().produce(
      topic_, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY, encoded.value.data(),
      encoded.value.size(), record.key.data(), record.key.size(), 0, headers, ticket.get());
  if (err != RdKafka::ERR_NO_ERROR) {
    delete headers;  // ownership passes to librdkafka only on success
    return make_error("producing to " + topic_ + ": " + RdKafka::err2str(err));
  }
  ticket.release();
  tracker_->in_flight.emplace(record.seq, false);
  return ok_status();
}

Status KafkaSink::flush() {
  auto waiting = [&] {
    std::lock_guard lock(tracker_->mutex);
    size_t n = 0;
    for (const auto& [seq, acknowledged] : tracker_->in_flight) n += acknowledged ? 0 : 1;
    return n;
  };
  producer_.poll();
  if (waiting() > 0) producer_.flush(delivery_wait_);
  if (auto s = take_refusals(); !s.ok()) return s;
  if (const size_t n = waiting(); n > 0) {
    return make_error(std::to_string(n) + " record(s) to " + topic_ + " still await the broker's acknowledgement");
  }
  std::lock_guard lock(tracker_->mutex);
  tracker_->in_flight.clear();
  return ok_status();
}

Status KafkaSink::collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) {
  producer_.poll();
  std::lock_guard lock(tracker_->mutex);
  for (const uint64_t seq : written) {
    auto it = tracker_->in_flight.find(seq);
    if (it == tracker_->in_flight.end() || !it->second) continue;  // waiting, or refused (resent by the next write)
    acknowledged.push_back(seq);
    tracker_->in_flight.erase(it);
  }
  return take_refusals_locked();
}

Status KafkaSink::take_refusals() {
  std::lock_guard lock(tracker_->mutex);
  return take_refusals_locked();
}

Status KafkaSink::take_refusals_locked() {
  if (tracker_->failed == 0) return ok_status();
  const std::string reason = tracker_->last_error;
  const size_t failed = tracker_->failed;
  tracker_->failed = 0;
  return make_error(std::to_string(failed) + " record(s) to " + topic_ + " were refused: " + reason);
}

}  // namespace slawatch
