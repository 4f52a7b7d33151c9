#pragma once
// Standby copies: warm local copies of partitions another instance owns,
// kept by applying that partition's changelog as it grows, so that when the
// partition is assigned here prepare_partition() finds a copy at a known
// changelog offset and reads only the tail (changelog_restore.h).
//
// A copy lives in the same state directory and key range an owned partition
// uses, so an assignment just picks it up; the caller stops a copy (release)
// before a lane opens the partition, so the two never write it at once.
// Copies the instance is no longer standby for are wiped (disk stays bounded
// by the partitions owned plus those standing by).
// Threading: one thread drives a StandbyCopies (the standby tailer's).
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "state/changelog.h"
#include "state/changelog_restore.h"
#include "state/rocksdb_store.h"

namespace slawatch {

// Which partitions `self` stands by for: the instances known (the owners named
// by each partition's latest changelog marker, and `self`) form a ring sorted
// by id; a partition's standbys are the `replicas` instances after its owner.
// Partitions without a known owner, or owned by `self`, have none here.
std::set<uint16_t> standby_partitions(const std::map<uint16_t, std::string>& owners, const std::string& self,
                                      size_t replicas);

// One record as a tail reads it.
struct TailRecord {
  uint16_t partition = 0;
  ChangelogRecord record;
  ChangelogOffset offset;
};

// Follows changelog partitions as records arrive. Implementations:
// KafkaChangelogTail (kafka/), MemoryChangelogTail (tests). One thread.
class ChangelogTail {
 public:
  virtual ~ChangelogTail() = default;
  // Starts reading `partition` at `offset` (replacing any earlier start).
  virtual Status start(uint16_t partition, int64_t offset) = 0;
  virtual Status stop(uint16_t partition) = 0;
  // Appends the records that arrived (at most `max`), waiting up to `wait` for the first.
  virtual Status poll(std::vector<TailRecord>& out, size_t max, Duration wait) = 0;
  // The partition's end as last seen (nullopt: not known yet).
  virtual std::optional<int64_t> end_offset(uint16_t partition) = 0;
};

// The tail of a MemoryChangelog: records acknowledged since the last poll.
class MemoryChangelogTail final : public ChangelogTail {
 public:
  explicit MemoryChangelogTail(MemoryChangelog& changelog) : changelog_(changelog) {}
  Status start(uint16_t partition, int64_t offset) override;
  Status stop(uint16_t partition) override;
  Status poll(std::vector<TailRecord>& out, size_t max, Duration wait) override;
  std::optional<int64_t> end_offset(uint16_t partition) override;

 private:
  MemoryChangelog& changelog_;
  std::map<uint16_t, int64_t> next_;  // per followed partition
};

struct StandbyCopyStatus {
  uint16_t partition = 0;
  uint64_t applied = 0;       // changelog records applied since the copy was taken up
  int64_t lag = 0;            // records between the copy's position and the changelog's end
  std::string how_started;    // "from offset 120 (kept copy)" or "from the log start (copy rebuilt)"
};

class StandbyCopies {
 public:
  StandbyCopies(std::shared_ptr<RocksDbDatabase> database, StateChangelog& changelog, ChangelogTail& tail,
                const Clock& wall);

  // Keeps copies of exactly `partitions`: takes up new ones (from a kept
  // copy's position when it may catch up from there, else wiped and read from
  // the log start) and wipes those left out.
  Status keep(const std::set<uint16_t>& partitions);
  // Stops following `partition` without wiping it (it is about to be owned here).
  Status release(uint16_t partition);
  // Applies the records that arrived; a copy whose tail breaks its history is
  // rebuilt. Returns the records applied.
  Result<uint64_t> poll(Duration wait);

  std::vector<StandbyCopyStatus> status();
  bool holds(uint16_t partition) const { return copies_.contains(partition); }
  size_t count() const { return copies_.size(); }

 private:
  struct Copy {
    std::unique_ptr<RocksDbStateStore> store;
    std::unique_ptr<ChangelogApplier> applier;
    uint64_t applied = 0;
    std::string how_started;
  };
  Status take_up(uint16_t partition);
  Status rebuild(uint16_t partition, Copy& copy);
  int64_t position_of(const Copy& copy) const;

  std::shared_ptr<RocksDbDatabase> database_;
  StateChangelog& changelog_;
  ChangelogTail& tail_;
  const Clock& wall_;
  std::map<uint16_t, Copy> copies_;
  std::map<uint16_t, int64_t> start_offset_;  // where each copy's reading began (its position before any record)
  std::vector<TailRecord> arrived_;
};

}  // namespace slawatch
