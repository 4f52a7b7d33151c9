#pragma once
// Input from Kafka: a consumer-group member on the events topic. Where each
// assigned partition resumes is decided by the state (offsets are stored in
// RocksDB with the state they produced), so the consumer asks its
// PartitionListener on every assignment and seeks there.
// Threading: the monitor thread only; rebalance callbacks run inside poll().
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "io/io.h"
#include "kafka/kafka_config.h"
#include "kafka/kafka_sink.h"

namespace RdKafka {
class Conf;
class KafkaConsumer;
}

namespace slawatch {

class PartitionListener {
 public:
  virtual ~PartitionListener() = default;
  // A partition was assigned to us: prepare its state and return the offset
  // of the next record to read, or nullopt to start at the earliest record.
  virtual Result<std::optional<int64_t>> on_partition_assigned(int32_t partition) = 0;
  // A partition is taken away: commit what was read and let its state go.
  virtual void on_partition_revoked(int32_t partition) = 0;
};

// A partition's checkpoint position: "<next offset>@<topic>/<partition>", so
// state is never resumed on another topic. Positions written before topics
// were recorded are the bare offset and are still accepted.
std::string kafka_position(int64_t next_offset, std::string_view topic, int32_t partition);
// The next offset to read from `topic`/`partition` (nullopt: no position yet,
// read from the beginning); an error when the position belongs to another
// topic or partition.
Result<std::optional<int64_t>> resume_offset(std::string_view position, std::string_view topic, int32_t partition);

struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  RawRecord record;
};

class KafkaSource {
 public:
  // Records above max_record_bytes come out marked oversize with their first
  // bytes only (RawRecord::oversize_bytes): the rest is never copied.
  static Result<std::unique_ptr<KafkaSource>> create(const KafkaConfig& config, PartitionListener& listener,
                                                     KafkaErrorHandler on_error,
                                                     size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~KafkaSource();
  KafkaSource(const KafkaSource&) = delete;
  KafkaSource& operator=(const KafkaSource&) = delete;

  // Appends up to `max` records, waiting at most `wait` for the first one.
  // An error here is fatal (a listener failure, or fenced twice within
  // kRefencedWithin: a duplicate instance id); broker trouble is not an error,
  // and neither is one fencing (the consumer is replaced, see kafka_source.cc).
  Status poll(std::vector<ConsumedRecord>& out, size_t max, Duration wait);
  // Commits next-offsets to Kafka, asynchronously and only for visibility (lag
  // in standard tools): the offsets that count are in the state.
  void commit_offsets(const std::map<int32_t, int64_t>& next_offsets, bool wait = false);
  // Leaves the group, also as a static member (revoking every partition
  // through the listener), so the others take the partitions over at once.
  void close();
  size_t assigned_partitions() const;
  // The partition's end offset as last seen by the consumer (no request to the
  // broker), for lag; nullopt before the first fetch.
  std::optional<int64_t> end_offset(int32_t partition) const;
  // Asks the broker for the end offset of every assigned partition the
  // consumer has fetched nothing from (one already read to its end), waiting
  // at most `timeout` each; end_offset() answers with it until a fetch does.
  void ask_unknown_end_offsets(Duration timeout);
  // How many partitions the events topic has (a metadata request, waiting at
  // most `timeout`); nullopt when the broker did not answer.
  std::optional<int> topic_partition_count(Duration timeout) const;

  // Times the consumer was replaced after being fenced (see kafka_source.cc).
  size_t rejoins() const { return rejoins_; }
  static constexpr auto kRefencedWithin = std::chrono::seconds(60);

 private:
  struct Callbacks;
  KafkaSource() = default;
  Status connect();
  Status rejoin_after_fencing();
  std::string topic_;
  std::string instance_id_;
  std::unique_ptr<RdKafka::Conf> conf_;
  std::optional<std::chrono::steady_clock::time_point> last_rejoin_;
  size_t rejoins_ = 0;
  size_t max_record_bytes_ = kDefaultMaxRecordBytes;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  bool closed_ = false;
  mutable std::string errstr_;
};

}  // namespace slawatch
