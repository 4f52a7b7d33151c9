#pragma once
// Restore on assignment: before a lane opens a partition's store, its local
// state is compared with the changelog and kept only when both are at the
// same point of the same lineage. Otherwise the local slice is wiped and
// rebuilt from the changelog (never from input offset 0); the lane then
// resumes at the restored checkpoint's input offset. Runs on the lane's thread.
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
};
std::string_view to_string(LocalStateVerdict verdict);
bool restores(LocalStateVerdict verdict);

// Pure: the verdict for a local marker (nullopt: none), whether the local
// slice holds anything, and the changelog's last record (nullopt: empty).
LocalStateVerdict judge_local_state(const std::optional<ChangelogMarker>& local, bool local_has_state,
                                    const std::optional<ChangelogRecord>& changelog_last);

struct PartitionRestore {
  LocalStateVerdict verdict = LocalStateVerdict::fresh;
  uint64_t records = 0;       // changelog records written into the store (restored or published)
  uint64_t case_records = 0;  // cases in the store afterwards (restored verdicts only)
  uint64_t repaired = 0;      // keys of an unfinished tail set back in the changelog
  Duration took{0};
  ChangelogMarker marker;     // where the partition's history stands now (and who writes next)

  // "restored 120 records (40 case records) from the changelog in 12 ms (local state was behind)" and the like.
  std::string describe() const;
};

// Makes `store` agree with `changelog` as described above and attaches the
// changelog to it, writing as a new writer. `new_id` names new lineages and
// writers; `clock` times the restore.
Result<PartitionRestore> prepare_partition(RocksDbStateStore& store, StateChangelog& changelog,
                                           const std::function<std::string()>& new_id, const MonotonicClock& clock);

// A random name (16 hex digits) for lineages and writers, for production use.
std::string random_id();

}  // namespace slawatch
