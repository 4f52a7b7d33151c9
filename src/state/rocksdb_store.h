#pragma once
// RocksDB-backed state. Column families:
//   cases   [partition u16][case id]                 -> encoded CaseRecord
//   timers  [partition u16][due u64 BE][case id]     -> empty (byte order = due order)
//   outbox  [partition u16][seq u64 BE]              -> channel, key, payload
//   alerts  [partition u16][alert id]                -> the alert's fields (alert_index_value.h)
//   meta    [partition u16]"checkpoint"              -> encoded Checkpoint
//           [partition u16]"timer_count"             -> varint, keys in timers
//           [partition u16]"tally/"[name]            -> signed varint (absent: zero)
//           [partition u16]"changelog"               -> ChangelogMarker (with a changelog)
//           [partition u16]"changelog_position"      -> ChangelogPosition (local only, not state)
// Every key starts with the Kafka partition the case belongs to, so the state of
// a partition is one contiguous key range in every column family and can be
// handed over or dropped on its own. One instance serves one partition and is
// used from one thread; several instances may share one RocksDbDatabase.
#include <atomic>
#include <memory>
#include <string>

#include "state/changelog.h"
#include "state/store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class WriteBatch;
}  // namespace rocksdb

namespace slawatch {

struct RocksDbOptions {
  std::string path;
  bool sync_writes = false;  // WAL is always on; fsync each commit only when asked
  size_t block_cache_bytes = 256u << 20;
  size_t memtable_budget_bytes = 256u << 20;
};

// The opened database with its column families, shared by partition stores.
class RocksDbDatabase {
 public:
  static Result<std::shared_ptr<RocksDbDatabase>> open(const RocksDbOptions& options);
  ~RocksDbDatabase();
  RocksDbDatabase(const RocksDbDatabase&) = delete;
  RocksDbDatabase& operator=(const RocksDbDatabase&) = delete;

  rocksdb::DB* db() const { return db_; }
  rocksdb::ColumnFamilyHandle* cases() const { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* timers() const { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* outbox() const { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* meta() const { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* alerts() const { return handles_[5]; }
  rocksdb::ColumnFamilyHandle* family(StoreFamily family) const { return handles_[static_cast<size_t>(family)]; }
  // The family a column family id belongs to (nullopt: the default family).
  std::optional<StoreFamily> family_of(uint32_t column_family_id) const;
  bool sync_writes() const { return sync_writes_; }
  // After a failed write (a full disk) the WAL's writer is in an error state
  // in which RocksDB asserts on a sync: closing then skips the final WAL flush.
  void note_write_failed() { write_failed_ = true; }
  // RocksDB records a closed WAL in its MANIFEST (so that a missing one is
  // refused at open) only once the WAL is synced, which otherwise happens at
  // some later flush. Called after each commit: when RocksDB has moved on to a
  // new WAL, syncing now gets the closed one recorded at once. A failure here
  // does not undo the commit; the next write reports the disk's trouble.
  void track_closed_wals();
  // Approximate on-disk size of all column families, for metrics and benchmarks.
  uint64_t live_data_bytes() const;
  // Bytes of write-ahead log files still needed for recovery (bounded by
  // max_total_wal_size, set from the memtable budget).
  uint64_t live_wal_bytes() const;

 private:
  RocksDbDatabase() = default;
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  bool sync_writes_ = false;
  std::atomic<bool> write_failed_{false};  // any partition store's thread may note it
  std::atomic<uint64_t> current_wal_{0};
};


class RocksDbStateStore final : public StateStore {
 public:
  RocksDbStateStore(std::shared_ptr<RocksDbDatabase> database, uint16_t partition);

  Result<std::optional<std::string>> load_case(const CaseId& id) override;
  Result<std::vector<TimerKey>> scan_timers(Instant after, size_t limit) override;
  Result<std::vector<OutboxEntry>> load_outbox() override;
  bool keeps_compact_alerts() const override { return true; }
  Result<Checkpoint> load_checkpoint() override;
  Result<uint64_t> pending_timers() override;
  Result<Tallies> tallies() override;
  Status commit(StateBatch& batch) override;
  // Keys and bytes as the WriteBatches hold them (the changelog marker included).
  CommitTotals commit_totals() const override { return totals_; }
  Status for_each_case(
      const std::function<bool(const CaseId&, std::string_view)>& fn) override;
  Status for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) override;

  // --- The changelog (state/changelog.h) ---
  // From now on every commit also goes to `changelog`, marked as the commit
  // after `marker` (the local state's position in its lineage) by `marker.writer`.
  // Each commit first waits for the previous one's acknowledgement.
  void attach_changelog(StateChangelog& changelog, ChangelogMarker marker);
  // The marker of the last commit made with a changelog (nullopt: none).
  Result<std::optional<ChangelogMarker>> load_changelog_marker();
  // Waits until the changelog holds every commit made so far (before a
  // partition is handed over), then records where the local state stands in it.
  Status flush_changelog();
  // StateStore: whether the changelog holds the last commit (an append it
  // refused is sent again, without waiting, and answers false).
  Result<bool> last_commit_replicated(bool wait) override;
  // Where the local state stands in the changelog (nullopt: not known; a
  // position recorded for another marker than the local one is not returned).
  Result<std::optional<ChangelogPosition>> load_changelog_position();
  // true when this partition has anything stored.
  Result<bool> has_state();
  // Deletes every key of this partition (before a restore).
  Status wipe();
  // Writes changelog records into this partition as they are (a restore),
  // with `position` (when given) in the same write.
  Status apply_changelog(const std::vector<ChangelogRecord>& records,
                         const std::optional<ChangelogPosition>& position = std::nullopt);
  // The value of one key of this partition (nullopt: absent).
  Result<std::optional<std::string>> read_record(StoreFamily family, std::string_view key);
  // Visits every key of this partition as a changelog record (seeding a
  // changelog), the local position aside.
  Status for_each_record(const std::function<Status(ChangelogRecord&&)>& fn);
  uint16_t partition() const { return partition_; }

 private:
  // One key of this partition in `family` (nullopt: absent); `what` names it in an error.
  Result<std::optional<std::string>> read_value(StoreFamily family, std::string_view key, std::string_view what);
  // The previous commit's changelog records, once acknowledged; on a refusal
  // they are appended again and this commit fails (the pipeline retries it).
  Status settle_changelog();
  std::vector<ChangelogRecord> changelog_records(rocksdb::WriteBatch& wb) const;
  // Adds a committed batch's keys, by family, and its bytes to totals_.
  void count_commit(rocksdb::WriteBatch& wb);

  std::string case_key(const CaseId& id) const;
  std::string timer_key(const TimerKey& key) const;
  Status load_timer_count();
  Status load_tallies();
  // Adds the deletion of a case's record and alert index entries to `wb`.
  Status delete_case(const CaseId& id, rocksdb::WriteBatch& wb);
  // Removes delivered outbox entries: a range tombstone per run of consecutive sequence numbers.
  void retire_outbox(std::vector<uint64_t>& delivered, rocksdb::WriteBatch& wb) const;

  // Kept in step with the timers column family by commit(): the engine puts
  // only absent keys and deletes only present ones, so the batch's net change
  // is exact. Loaded on first use; state written before the counter existed is
  // counted once by a scan.
  std::optional<uint64_t> timer_count_;
  // The committed tallies, loaded by one prefix scan on first use.
  std::optional<Tallies> tallies_;
  CommitTotals totals_;

  StateChangelog* changelog_ = nullptr;
  ChangelogMarker marker_;                      // of the last commit (with a changelog)
  std::vector<ChangelogRecord> unacknowledged_;  // the last commit's changelog records
  bool unsent_ = false;                          // ...which must be appended again

  std::shared_ptr<RocksDbDatabase> database_;
  uint16_t partition_ = 0;
  std::string prefix_;  // partition, big-endian
  std::string next_prefix_;
};

}  // namespace slawatch
