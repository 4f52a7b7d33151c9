#pragma once
// The changelog: a copy of every change a partition's store commits, kept
// outside the machine (a compacted Kafka topic, one partition per input
// partition), from which another instance restores the partition's state.
//
// Each commit appends its changes in write order and ends them with a marker
// record (meta "changelog": lineage + commit number) that is also written to
// the local store in the same commit. The marker lets a lane compare its
// local state with the changelog without reading either in full.
//
// Ordering guarantee: a commit is written locally first, then appended; the
// next commit first waits until the previous one's records are acknowledged.
// So the changelog is never ahead of the local state and at most one batch
// behind it, and within a partition records keep their order (one idempotent
// producer, acks=all).
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/result.h"
#include "model/time.h"
#include "state/store.h"

namespace slawatch {

// One change: the store key without its partition prefix, the value bytes, or
// no value for a deletion (a tombstone on the topic).
struct ChangelogRecord {
  StoreFamily family = StoreFamily::meta;
  std::string key;
  std::optional<std::string> value;
  bool operator==(const ChangelogRecord&) const = default;

  // The topic's record key: [family u8][key].
  std::string topic_key() const;
  // Null when the topic key is empty or names no family.
  static std::optional<ChangelogRecord> from_topic(std::string_view topic_key, std::optional<std::string> value);
};

// Identifies a point in a partition's history: the lineage (one per history,
// started when a partition's changelog starts empty), the number of commits
// made in it, and the writer (one per owner of the partition, new at each
// assignment). The writer tells apart two owners' commits with the same number
// (an owner that died with a commit unacknowledged and the next owner's first
// commit): two copies with equal markers hold equal state. The instance (the
// writer's `kafka.instance_id`, empty in markers written before it was
// recorded) tells other instances who owns the partition.
struct ChangelogMarker {
  std::string lineage;
  uint64_t commit = 0;
  std::string writer;
  std::string instance;
  bool operator==(const ChangelogMarker&) const = default;

  static constexpr std::string_view kKey = "changelog";  // meta family
  std::string encode() const;
  static std::optional<ChangelogMarker> decode(std::string_view bytes);
  // The marker of `record`, when it is one.
  static std::optional<ChangelogMarker> of(const ChangelogRecord& record);
  ChangelogRecord record() const;
};

// Where a record sits in its changelog partition.
struct ChangelogOffset {
  int64_t next = 0;      // the offset after the record
  Instant written_at{};  // the record's timestamp (set by its producer when sent)
  bool operator==(const ChangelogOffset&) const = default;
};

// The readable range of a changelog partition: records below `start` are gone
// (deleted or compacted past the log start), `end` is the next offset to be written.
struct ChangelogBounds {
  int64_t start = 0;
  int64_t end = 0;
};

// Where a local copy stands in the changelog, recorded only when known to be
// true: the copy holding `marker` equals the changelog's records below
// `offset.next` (applied in order). A copy whose marker is no longer `marker`
// has no known position. Local bookkeeping, never sent to the changelog.
struct ChangelogPosition {
  ChangelogMarker marker;
  ChangelogOffset offset;  // of the marker record
  bool operator==(const ChangelogPosition&) const = default;

  static constexpr std::string_view kKey = "changelog_position";  // meta family
  std::string encode() const;
  static std::optional<ChangelogPosition> decode(std::string_view bytes);
};

// Where the changelog of one store lives. Implementations: KafkaChangelog
// (kafka/), MemoryChangelog (tests). May be called from several lane threads,
// each for its own partitions.
class StateChangelog {
 public:
  virtual ~StateChangelog() = default;
  // Sends one commit's records in order; does not wait for the broker.
  virtual Status append(uint16_t partition, const std::vector<ChangelogRecord>& records) = 0;
  // Waits until everything appended to `partition` is acknowledged; an error
  // says what was refused (those records are lost and must be appended again).
  virtual Status wait_acknowledged(uint16_t partition) = 0;
  // The same without waiting: true when everything appended is acknowledged,
  // false while some is in flight, an error (as above) when some was refused.
  virtual Result<bool> poll_acknowledged(uint16_t partition) = 0;
  // Where the last record acknowledged by wait_acknowledged() sits (nullopt:
  // none yet, or the client did not say).
  virtual std::optional<ChangelogOffset> last_acknowledged(uint16_t partition) = 0;
  // The partition's last record (nullopt: the partition is empty).
  virtual Result<std::optional<ChangelogRecord>> last_record(uint16_t partition) = 0;
  virtual Result<ChangelogBounds> bounds(uint16_t partition) = 0;
  // Visits the partition from offset `from` (at least bounds().start) to its end as of the call.
  virtual Status read_from(uint16_t partition, int64_t from,
                           const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) = 0;
  // Visits the partition from its beginning to its end as of the call.
  Status read(uint16_t partition, const std::function<Status(ChangelogRecord&&)>& fn);
};

// The changelog in memory, for tests: appended records are acknowledged only
// by wait_acknowledged(), and an append can be made to fail, so the ordering
// guarantee above can be tested. Records keep Kafka's offsets: compaction keeps
// the last record of each key at its offset, and the log start can be moved
// past records (retention), so a reader resuming at an offset sees gaps as it would.
class MemoryChangelog final : public StateChangelog {
 public:
  Status append(uint16_t partition, const std::vector<ChangelogRecord>& records) override;
  Status wait_acknowledged(uint16_t partition) override;
  // Acknowledges what is in flight, unless acknowledgements are held.
  Result<bool> poll_acknowledged(uint16_t partition) override;
  std::optional<ChangelogOffset> last_acknowledged(uint16_t partition) override;
  Result<std::optional<ChangelogRecord>> last_record(uint16_t partition) override;
  Result<ChangelogBounds> bounds(uint16_t partition) override;
  Status read_from(uint16_t partition, int64_t from,
                   const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) override;

  // true: poll_acknowledged() finds nothing acknowledged yet (a slow broker);
  // wait_acknowledged() still delivers.
  void hold_acknowledgements(bool hold) { holding_ = hold; }
  // Acknowledged records of a partition, in order (what a reader sees).
  const std::vector<ChangelogRecord>& records(uint16_t partition) { return log_[partition]; }
  // The timestamp given to records acknowledged from now on.
  void set_now(Instant now) { now_ = now; }
  // Drops the records below `offset` (retention moved the log start).
  void delete_before(uint16_t partition, int64_t offset);
  // Records appended but not yet acknowledged (in flight).
  size_t in_flight(uint16_t partition) { return in_flight_[partition].size(); }
  // true: wait_acknowledged() delivers what is in flight; false: it fails, dropping them.
  void set_broker_up(bool up) { broker_up_ = up; }
  // Keeps only the last record of each key (a tombstone's too).
  void compact(uint16_t partition);
  // Drops the last `count` records (a producer that died mid-batch).
  void truncate_tail(uint16_t partition, size_t count);

 private:
  struct Stamp {
    int64_t offset = 0;
    Instant written_at{};
  };
  std::map<uint16_t, std::vector<ChangelogRecord>> log_;
  std::map<uint16_t, std::vector<Stamp>> stamps_;  // parallel to log_
  std::map<uint16_t, int64_t> next_offset_;
  std::map<uint16_t, int64_t> log_start_;
  std::map<uint16_t, std::vector<ChangelogRecord>> in_flight_;
  bool broker_up_ = true;
  bool holding_ = false;
  Instant now_{};
};

}  // namespace slawatch
