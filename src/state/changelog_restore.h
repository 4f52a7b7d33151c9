#pragma once
// Restore on assignment: before a lane opens a partition's store, its local
// state is compared with the changelog and kept only when both are at the
// same point of the same lineage. A copy that is exactly a prefix of the
// changelog (its recorded ChangelogPosition vouches for it) catches up by
// reading only the changelog's tail; every other copy is wiped and rebuilt
// from the whole changelog (never from input offset 0). The lane then resumes
// at the restored checkpoint's input offset. Runs on the lane's thread.
#include <functional>
#include <optional>
#include <string>

#include "model/time.h"
#include "state/changelog.h"
#include "state/rocksdb_store.h"

namespace slawatch {

// What the local state was, measured against the changelog.
enum class LocalStateVerdict {
  fresh,            // nothing local, changelog empty: a new lineage starts
  seeded,           // local state, changelog empty (new, or lost): local state is published as a new lineage
  current,          // same lineage and commit: used as it is
  missing,          // nothing local (or no marker), changelog not empty: restored
  behind,           // same lineage, older commit: restored
  ahead,            // same lineage, newer commit than the changelog: discarded and restored
  diverged,         // same lineage and commit, another writer (the next owner went on without it): restored
  another_lineage,  // another history (another group, a recreated topic, a pre-changelog copy): restored
  unfinished,       // the changelog ends inside a batch (its writer died): restored to the last whole batch
  tail_behind,      // behind (or unfinished) at a known changelog offset: caught up from the tail only
};
std::string_view to_string(LocalStateVerdict verdict);
bool restores(LocalStateVerdict verdict);

// Pure: the verdict for a local marker (nullopt: none), whether the local
// slice holds anything, and the changelog's last record (nullopt: empty).
LocalStateVerdict judge_local_state(const std::optional<ChangelogMarker>& local, bool local_has_state,
                                    const std::optional<ChangelogRecord>& changelog_last);

// Kafka drops a compacted topic's tombstones delete.retention.ms after they
// were written; the changelog topic is created with this retention.
inline constexpr Duration kChangelogTombstoneRetention = std::chrono::hours(24);
// A local position older than this may have tombstones after it already gone
// from the tail, so such a copy is restored in full. Half the retention leaves
// room for clocks of different machines.
inline constexpr Duration kCatchUpWithin = kChangelogTombstoneRetention / 2;

// Why a copy at `position` may not catch up from the changelog's tail
// (nullopt: it may): its offset is outside the readable range (records below
// it were deleted, or the topic was recreated), or it is too old for the
// tail's tombstones to be all there still.
std::optional<std::string> tail_refusal(const ChangelogPosition& position, const ChangelogBounds& bounds, Instant now,
                                        Duration within = kCatchUpWithin);

// Applies a stream of changelog records to a store in whole batches: records
// are held until their batch's marker arrives, and a write holds whole batches
// only, with the position of the last marker, so the store is always a prefix
// of the changelog ending at a marker. When started after a marker, every
// later marker must continue its lineage with a higher commit, or add() fails
// and broken() tells why. Used by restore, catch-up and standby copies on one thread.
class ChangelogApplier {
 public:
  explicit ChangelogApplier(RocksDbStateStore& store, std::optional<ChangelogMarker> after = std::nullopt)
      : store_(store), last_(std::move(after)), continuing_(last_.has_value()) {}

  // One record read at `offset`; writes once many whole-batch records are held.
  Status add(ChangelogRecord&& record, const ChangelogOffset& offset);
  // Writes the whole batches held (the records after the last marker stay held).
  Status flush();

  const std::optional<ChangelogMarker>& last_marker() const { return last_; }
  // Where the store stands after flush() (nullopt: no marker read).
  const std::optional<ChangelogPosition>& position() const { return position_; }
  const std::vector<ChangelogRecord>& pending() const { return pending_; }
  uint64_t applied() const { return applied_; }  // records of whole batches taken
  bool broken() const { return broken_; }

 private:
  RocksDbStateStore& store_;
  std::optional<ChangelogMarker> last_;
  bool continuing_ = false;
  std::optional<ChangelogPosition> position_;
  std::vector<ChangelogRecord> whole_;    // of whole batches, not yet written
  std::vector<ChangelogRecord> pending_;  // since the last marker
  uint64_t applied_ = 0;
  bool broken_ = false;
};

struct PartitionRestore {
  LocalStateVerdict verdict = LocalStateVerdict::fresh;
  uint64_t records = 0;       // changelog records written into the store (restored, caught up or published)
  std::optional<int64_t> caught_up_from;  // tail_behind: the changelog offset read from
  std::string full_restore_reason;        // a copy at a known offset that was still restored in full: why
  uint64_t case_records = 0;  // cases in the store afterwards (restored verdicts only)
  uint64_t repaired = 0;      // keys of an unfinished tail set back in the changelog
  Duration took{0};
  ChangelogMarker marker;     // where the partition's history stands now (and who writes next)

  // "restored 120 records (40 case records) from the changelog in 12 ms (local state was behind)" and the like.
  std::string describe() const;
};

struct RestoreContext {
  std::function<std::string()> new_id;  // names new lineages and writers
  const MonotonicClock& clock;          // times the restore
  const Clock& wall;                    // ages local positions
  std::string instance;                 // written into this owner's markers
};

// Makes `store` agree with `changelog` as described above and attaches the
// changelog to it, writing as a new writer of `context.instance`.
Result<PartitionRestore> prepare_partition(RocksDbStateStore& store, StateChangelog& changelog,
                                           const RestoreContext& context);

// A random name (16 hex digits) for lineages and writers, for production use.
std::string random_id();

}  // namespace slawatch
