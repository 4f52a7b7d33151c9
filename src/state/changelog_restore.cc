#include "state/changelog_restore.h"

#include <cstdio>
#include <iterator>
#include <random>
#include <set>
#include <unordered_map>

namespace slawatch {
namespace {

// Records collected before they are written to the store in one WriteBatch.
constexpr size_t kRestoreChunk = 65536;

using RecordKey = std::pair<StoreFamily, std::string>;

// Writes a chunk of whole batches, only the last record of each key: an
// uncompacted changelog holds every version of a case record and checkpoint,
// and the store needs only the newest.
Status apply_newest(RocksDbStateStore& store, std::vector<ChangelogRecord>& chunk) {
  std::unordered_map<std::string, size_t> last;  // topic key -> index of its last record
  last.reserve(chunk.size());
  for (size_t i = 0; i < chunk.size(); ++i) last[chunk[i].topic_key()] = i;
  if (last.size() < chunk.size()) {
    std::vector<ChangelogRecord> newest;
    newest.reserve(last.size());
    for (size_t i = 0; i < chunk.size(); ++i) {
      if (last[chunk[i].topic_key()] == i) newest.push_back(std::move(chunk[i]));
    }
    chunk = std::move(newest);
  }
  auto status = store.apply_changelog(chunk);
  chunk.clear();
  return status;
}

// Appends `records` and waits for them: restore and seeding finish only once
// the changelog holds what the store now says.
Status append_acknowledged(StateChangelog& changelog, uint16_t partition, const std::vector<ChangelogRecord>& records) {
  if (auto s = changelog.append(partition, records); !s.ok()) return s;
  return changelog.wait_acknowledged(partition);
}

// Publishes the local slice as the first commit of a new lineage.
Status seed(RocksDbStateStore& store, StateChangelog& changelog, const ChangelogMarker& marker,
            PartitionRestore& report) {
  std::vector<ChangelogRecord> chunk;
  auto s = store.for_each_record([&](ChangelogRecord&& record) {
    if (ChangelogMarker::of(record)) return ok_status();  // an old lineage's marker
    chunk.push_back(std::move(record));
    ++report.records;
    if (chunk.size() < kRestoreChunk) return ok_status();
    auto sent = changelog.append(store.partition(), chunk);
    chunk.clear();
    return sent;
  });
  if (!s.ok()) return s;
  chunk.push_back(marker.record());
  if (auto w = store.apply_changelog({marker.record()}); !w.ok()) return w;
  return append_acknowledged(changelog, store.partition(), chunk);
}

// Wipes the local slice and writes the changelog's whole batches into it.
// Records after the last marker (a writer that died mid-batch) are not
// applied; their keys are set back to the restored values in the changelog,
// so every later reader sees the same state.
Status restore(RocksDbStateStore& store, StateChangelog& changelog, const std::function<std::string()>& new_id,
               const std::string& writer, PartitionRestore& report) {
  if (auto s = store.wipe(); !s.ok()) return s;
  std::vector<ChangelogRecord> whole;     // of whole batches, not yet written
  std::vector<ChangelogRecord> pending;   // since the last marker
  std::optional<ChangelogMarker> last;
  auto s = changelog.read(store.partition(), [&](ChangelogRecord&& record) {
    auto marker = ChangelogMarker::of(record);
    pending.push_back(std::move(record));
    if (!marker) return ok_status();
    last = std::move(marker);
    report.records += pending.size();
    std::move(pending.begin(), pending.end(), std::back_inserter(whole));
    pending.clear();
    if (whole.size() < kRestoreChunk) return ok_status();
    return apply_newest(store, whole);
  });
  if (!s.ok()) return s;
  if (auto w = apply_newest(store, whole); !w.ok()) return w;
  report.marker = last ? *last : ChangelogMarker{new_id(), 0, writer};
  if (!pending.empty()) {
    std::set<RecordKey> keys;
    for (const auto& record : pending) keys.emplace(record.family, record.key);
    std::vector<ChangelogRecord> repair;
    for (const auto& [family, key] : keys) {
      auto value = store.read_record(family, key);
      if (!value.ok()) return value.error();
      repair.push_back(ChangelogRecord{family, key, std::move(value).value()});
    }
    report.repaired = repair.size();
    ++report.marker.commit;
    report.marker.writer = writer;
    repair.push_back(report.marker.record());
    if (auto w = store.apply_changelog({report.marker.record()}); !w.ok()) return w;
    if (auto a = append_acknowledged(changelog, store.partition(), repair); !a.ok()) return a;
  }
  return store.for_each_case([&report](const CaseId&, std::string_view) {
    ++report.case_records;
    return true;
  });
}

}  // namespace

std::string_view to_string(LocalStateVerdict verdict) {
  switch (verdict) {
    case LocalStateVerdict::fresh: return "fresh";
    case LocalStateVerdict::seeded: return "published to an empty changelog";
    case LocalStateVerdict::current: return "current";
    case LocalStateVerdict::missing: return "missing";
    case LocalStateVerdict::behind: return "behind";
    case LocalStateVerdict::ahead: return "ahead";
    case LocalStateVerdict::diverged: return "diverged: another owner went on from an earlier commit";
    case LocalStateVerdict::another_lineage: return "another lineage";
    case LocalStateVerdict::unfinished: return "unchecked: the changelog ends inside a batch";
  }
  return "unknown";
}

bool restores(LocalStateVerdict verdict) {
  return verdict != LocalStateVerdict::fresh && verdict != LocalStateVerdict::seeded &&
         verdict != LocalStateVerdict::current;
}

LocalStateVerdict judge_local_state(const std::optional<ChangelogMarker>& local, bool local_has_state,
                                    const std::optional<ChangelogRecord>& changelog_last) {
  if (!changelog_last) return local_has_state ? LocalStateVerdict::seeded : LocalStateVerdict::fresh;
  if (!local_has_state) return LocalStateVerdict::missing;
  // State kept without a changelog has no place in the changelog's history.
  if (!local) return LocalStateVerdict::another_lineage;
  const auto tail = ChangelogMarker::of(*changelog_last);
  if (!tail) return LocalStateVerdict::unfinished;
  if (tail->lineage != local->lineage) return LocalStateVerdict::another_lineage;
  if (local->commit < tail->commit) return LocalStateVerdict::behind;
  if (local->commit > tail->commit) return LocalStateVerdict::ahead;
  if (local->writer != tail->writer) return LocalStateVerdict::diverged;
  return LocalStateVerdict::current;
}

std::string PartitionRestore::describe() const {
  const auto ms = std::to_string(took.count());
  switch (verdict) {
    case LocalStateVerdict::fresh: return "no local state and an empty changelog: starting lineage " + marker.lineage;
    case LocalStateVerdict::current:
      return "local state is current with the changelog (lineage " + marker.lineage + ", commit " +
             std::to_string(marker.commit) + ")";
    case LocalStateVerdict::seeded:
      return "changelog empty: published " + std::to_string(records) + " local records to it in " + ms +
             " ms as lineage " + marker.lineage;
    default: break;
  }
  std::string text = "restored " + std::to_string(records) + " records (" + std::to_string(case_records) +
                     " case records) from the changelog in " + ms + " ms (local state was " +
                     std::string(to_string(verdict)) + ")";
  if (repaired > 0) {
    text += "; " + std::to_string(repaired) + " key(s) of an unfinished batch set back in the changelog";
  }
  return text;
}

Result<PartitionRestore> prepare_partition(RocksDbStateStore& store, StateChangelog& changelog,
                                           const std::function<std::string()>& new_id,
                                           const MonotonicClock& clock) {
  const Duration started = clock.elapsed();
  const std::string writer = new_id();
  auto local = store.load_changelog_marker();
  if (!local.ok()) return local.error();
  auto has_state = store.has_state();
  if (!has_state.ok()) return has_state.error();
  auto last = changelog.last_record(store.partition());
  if (!last.ok()) return last.error();
  PartitionRestore report;
  report.verdict = judge_local_state(*local, *has_state, *last);
  switch (report.verdict) {
    case LocalStateVerdict::fresh: report.marker = ChangelogMarker{new_id(), 0, writer}; break;
    case LocalStateVerdict::current: report.marker = **local; break;
    case LocalStateVerdict::seeded:
      report.marker = ChangelogMarker{new_id(), 1, writer};
      if (auto s = seed(store, changelog, report.marker, report); !s.ok()) return s.error();
      break;
    default:
      if (auto s = restore(store, changelog, new_id, writer, report); !s.ok()) return s.error();
      break;
  }
  // This owner's commits carry its own writer id from the next commit on.
  store.attach_changelog(changelog, ChangelogMarker{report.marker.lineage, report.marker.commit, writer});
  report.took = clock.elapsed() - started;
  return report;
}

std::string random_id() {
  std::random_device device;
  std::uniform_int_distribution<uint64_t> pick;
  const uint64_t value = (static_cast<uint64_t>(device()) << 32) ^ device() ^ pick(device);
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(value));
  return text;
}

}  // namespace slawatch
