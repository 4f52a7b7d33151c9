#pragma once
// The state changelog on Kafka: a compacted topic `<group>.state-changelog`
// with one partition per input partition (same number). Record key = family
// byte + store key, value = value bytes, a deletion = a tombstone (null value).
//
// Its own idempotent producer (acks=all), so one partition's records keep
// their order and a retry never duplicates or reorders them; reads use a
// separate group-less consumer (assign, never subscribe).
// Threading: lanes of different partitions may call it from their threads;
// delivery reports arrive inside whichever call polls the producer.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "kafka/kafka_config.h"
#include "kafka/kafka_sink.h"
#include "state/changelog.h"
#include "state/standby_copies.h"

namespace RdKafka {
class KafkaConsumer;
class Producer;
class Topic;
}  // namespace RdKafka

namespace slawatch {

// `<group>.state-changelog`
std::string changelog_topic_name(const KafkaConfig& config);

class KafkaChangelog final : public StateChangelog {
 public:
  // Creates the producer; `ensure_topic` must run before the first append.
  static Result<std::unique_ptr<KafkaChangelog>> create(const KafkaConfig& config, KafkaErrorHandler on_error);
  ~KafkaChangelog() override;  // waits a little for records still in flight

  // Creates the topic (cleanup.policy=compact, delete.retention.ms as
  // kChangelogTombstoneRetention) with as many partitions as
  // `input_topic` when it is missing; an existing one with fewer partitions is an error.
  Status ensure_topic(const std::string& input_topic);
  const std::string& topic() const { return topic_; }

  Status append(uint16_t partition, const std::vector<ChangelogRecord>& records) override;
  Status wait_acknowledged(uint16_t partition) override;
  Result<bool> poll_acknowledged(uint16_t partition) override;
  std::optional<ChangelogOffset> last_acknowledged(uint16_t partition) override;
  Result<std::optional<ChangelogRecord>> last_record(uint16_t partition) override;
  Result<ChangelogBounds> bounds(uint16_t partition) override;
  Status read_from(uint16_t partition, int64_t from,
                   const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) override;
  // The changelog topic's partition count (0: no such topic yet).
  Result<int32_t> changelog_partitions() { return partition_count(topic_); }

  // Per partition: records in flight and the refusals not yet reported.
  struct Tracker {
    size_t in_flight = 0;
    size_t refused = 0;
    std::string last_error;
    std::optional<ChangelogOffset> acknowledged;  // the last record delivered (delivery reports come in order)
  };

 private:
  struct Callbacks;
  KafkaChangelog() = default;
  Result<int32_t> partition_count(const std::string& topic);
  // Refusals first (an error), then whether nothing is in flight.
  Result<bool> acknowledged_now(uint16_t partition);
  Result<ChangelogBounds> query_bounds(uint16_t partition);  // with reader_mutex_ held
  // Reads [from, end) of `partition` where end is the high watermark at the
  // call; `from` nullopt: only the last record.
  Status read_range(uint16_t partition, std::optional<int64_t> from,
                    const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn);

  KafkaConfig config_;
  std::string topic_;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::unique_ptr<RdKafka::Topic> producer_topic_;
  std::mutex trackers_mutex_;  // guards trackers_ (delivery reports come on any polling thread)
  std::map<uint16_t, Tracker> trackers_;
  std::mutex reader_mutex_;  // one read at a time on the reading consumer
  std::unique_ptr<RdKafka::KafkaConsumer> reader_;
};

// The changelog topic followed as it grows, for standby copies: its own
// group-less consumer (assigned, never subscribed, never commits), so it
// never joins the input's group. One thread.
class KafkaChangelogTail final : public ChangelogTail {
 public:
  static Result<std::unique_ptr<KafkaChangelogTail>> create(const KafkaConfig& config, KafkaErrorHandler on_error);
  ~KafkaChangelogTail() override;

  Status start(uint16_t partition, int64_t offset) override;
  Status stop(uint16_t partition) override;
  Status poll(std::vector<TailRecord>& out, size_t max, Duration wait) override;
  std::optional<int64_t> end_offset(uint16_t partition) override;

 private:
  struct Events;
  KafkaChangelogTail() = default;
  std::string topic_;
  std::unique_ptr<Events> events_;
  Status reassign();
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<uint16_t, int64_t> next_;  // per followed partition: the next offset to read
};

}  // namespace slawatch
