#pragma once
// Output to Kafka. One KafkaProducer (idempotent, acks=all) is shared by
// every partition's pipeline; each pipeline writes through its own KafkaSink
// per topic, which tracks its records until the broker acknowledges them, so
// a record is removed from the outbox only once it is safely in Kafka.
// Threading: a sink is used by one thread at a time (its lane's worker), but
// delivery reports for every sink arrive inside poll()/flush() on whichever
// thread calls them, so each sink's Tracker has its own lock.
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "io/io.h"
#include "kafka/kafka_config.h"

namespace RdKafka {
class Producer;
}

namespace slawatch {

// Client-level problems (broker down, authentication...), reported as text
// for the caller to log; librdkafka keeps retrying on its own.
using KafkaErrorHandler = std::function<void(const std::string& message, bool fatal)>;

class KafkaProducer {
 public:
  static Result<std::unique_ptr<KafkaProducer>> create(const KafkaConfig& config, KafkaErrorHandler on_error);
  ~KafkaProducer();
  KafkaProducer(const KafkaProducer&) = delete;
  KafkaProducer& operator=(const KafkaProducer&) = delete;

  // Serves delivery reports and client events without blocking.
  void poll();
  // Waits up to `wait` for every outstanding record; true when none is left.
  bool flush(Duration wait);
  RdKafka::Producer& client() { return *producer_; }
  size_t outstanding() const;

 private:
  struct Callbacks;
  KafkaProducer() = default;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::Producer> producer_;
};

enum class KafkaPayloadMode {
  as_is,                  // value = payload (dead letters)
  cloudevent_structured,  // value = the CloudEvent JSON, content-type: application/cloudevents+json
  cloudevent_binary,      // structured CloudEvent payload -> ce_* headers + data as value
};

// The content-type of structured-mode CloudEvents (CloudEvents Kafka binding):
// a receiver tells structured from binary mode by it.
inline constexpr std::string_view kStructuredCloudEventContentType = "application/cloudevents+json; charset=utf-8";

class KafkaSink final : public RecordSink {
 public:
  KafkaSink(KafkaProducer& producer, std::string topic, KafkaPayloadMode mode, Duration delivery_wait);
  ~KafkaSink() override;

  // Produces the record unless it is already in flight from an earlier attempt.
  Status write(const OutboundRecord& record) override;
  // Ok once every record written is acknowledged; an error names how many are
  // still waiting or why the broker refused them (they are retried on the next write).
  Status flush() override;
  // Serves delivery reports and reports the acknowledged records at once.
  Status collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) override;

  // Shared with in-flight delivery reports, which may outlive the sink.
  struct Tracker {
    std::mutex mutex;  // the sink's thread and whichever thread serves the delivery report
    std::unordered_map<uint64_t, bool> in_flight;  // seq -> true once acknowledged
    std::string last_error;
    size_t failed = 0;
  };

 private:
  KafkaProducer& producer_;
  std::string topic_;
  KafkaPayloadMode mode_;
  Duration delivery_wait_;
  std::shared_ptr<Tracker> tracker_;
  Status take_refusals();
  Status take_refusals_locked();  // with tracker_->mutex held
};

}  // namespace slawatch
