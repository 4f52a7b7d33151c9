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
  if (auto a = append_acknowledged(changelog, store.partition(), chunk); !a.ok()) return a;
  if (const auto acknowledged = changelog.last_acknowledged(store.partition())) {
    return store.apply_changelog({}, ChangelogPosition{marker, *acknowledged});
  }
  return ok_status();
}

// Sets the keys of an unfinished batch (records after the applier's last
// marker: a writer that died mid-batch) back to the store's values in the
// changelog, so every later reader sees the same state.
Status repair_unfinished(RocksDbStateStore& store, StateChangelog& changelog, const std::string& writer,
                         const std::string& instance, const std::vector<ChangelogRecord>& pending,
                         PartitionRestore& report) {
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
  report.marker.instance = instance;
  repair.push_back(report.marker.record());
  if (auto w = store.apply_changelog({report.marker.record()}); !w.ok()) return w;
  if (auto a = append_acknowledged(changelog, store.partition(), repair); !a.ok()) return a;
  // The repair's marker is the last record acknowledged: the store stands there.
  if (const auto acknowledged = changelog.last_acknowledged(store.partition())) {
    return store.apply_changelog({}, ChangelogPosition{report.marker, *acknowledged});
  }
  return ok_status();
}

// Reads the changelog from `from` into `applier`, then settles its end: the
// marker reached, or a repaired unfinished batch.
Status read_into(RocksDbStateStore& store, StateChangelog& changelog, ChangelogApplier& applier, int64_t from,
                 const RestoreContext& context, const std::string& writer, PartitionRestore& report) {
  auto s = changelog.read_from(store.partition(), from, [&applier](ChangelogRecord&& record,
                                                                   const ChangelogOffset& offset) {
    return applier.add(std::move(record), offset);
  });
  if (!s.ok()) return s;
  if (auto w = applier.flush(); !w.ok()) return w;
  report.records = applier.applied();
  report.marker = applier.last_marker() ? *applier.last_marker() : ChangelogMarker{context.new_id(), 0, writer};
  if (!applier.pending().empty()) return repair_unfinished(store, changelog, writer, context.instance, applier.pending(), report);
  return ok_status();
}

Status count_cases(RocksDbStateStore& store, PartitionRestore& report) {
  return store.for_each_case([&report](const CaseId&, std::string_view) {
    ++report.case_records;
    return true;
  });
}

// Wipes the local slice and writes the changelog's whole batches into it.
Status restore(RocksDbStateStore& store, StateChangelog& changelog, const RestoreContext& context,
               const std::string& writer, PartitionRestore& report) {
  if (auto s = store.wipe(); !s.ok()) return s;
  auto bounds = changelog.bounds(store.partition());
  if (!bounds.ok()) return bounds.error();
  ChangelogApplier applier(store);
  if (auto s = read_into(store, changelog, applier, bounds->start, context, writer, report); !s.ok()) return s;
  return count_cases(store, report);
}

// Whether the local copy may catch up from the tail: "" when it may, else why not.
Result<std::string> catch_up_refusal(RocksDbStateStore& store, StateChangelog& changelog,
                                     const std::optional<ChangelogPosition>& position, const Clock& wall) {
  if (!position) return std::string();  // no known offset: nothing to explain, a plain restore
  auto bounds = changelog.bounds(store.partition());
  if (!bounds.ok()) return bounds.error();
  auto refusal = tail_refusal(*position, *bounds, wall.now());
  return refusal.value_or(std::string());
}

// Applies the changelog's records after the local copy's position. Fails with
// broken() set on the applier when the tail does not continue the local history.
Status catch_up(RocksDbStateStore& store, StateChangelog& changelog, const ChangelogPosition& position,
                const RestoreContext& context, const std::string& writer, ChangelogApplier& applier,
                PartitionRestore& report) {
  report.caught_up_from = position.offset.next;
  if (auto s = read_into(store, changelog, applier, position.offset.next, context, writer, report); !s.ok()) return s;
  return count_cases(store, report);
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
    case LocalStateVerdict::tail_behind: return "behind at a known changelog offset";
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

std::optional<std::string> tail_refusal(const ChangelogPosition& position, const ChangelogBounds& bounds, Instant now,
                                        Duration within) {
  const auto next = position.offset.next;
  if (next < bounds.start) {
    return "its changelog offset " + std::to_string(next) + " is below the log start offset " +
           std::to_string(bounds.start) + " (records after it were deleted)";
  }
  if (next > bounds.end) {
    return "its changelog offset " + std::to_string(next) + " is past the changelog's end " +
           std::to_string(bounds.end) + " (the topic was recreated)";
  }
  const Duration age = now - position.offset.written_at;
  if (age > within) {
    return "its changelog position is " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
           " s old, more than " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(within).count()) +
           " s: tombstones after it may be compacted away";
  }
  return std::nullopt;
}

Status ChangelogApplier::add(ChangelogRecord&& record, const ChangelogOffset& offset) {
  if (broken_) return make_error("changelog tail already refused");
  auto marker = ChangelogMarker::of(record);
  pending_.push_back(std::move(record));
  if (!marker) return ok_status();
  if (continuing_ && (marker->lineage != last_->lineage || marker->commit <= last_->commit)) {
    broken_ = true;
    return make_error("the changelog's tail does not continue the local history (marker of lineage " +
                      marker->lineage + " commit " + std::to_string(marker->commit) + " after lineage " +
                      last_->lineage + " commit " + std::to_string(last_->commit) + ")");
  }
  position_ = ChangelogPosition{*marker, offset};
  last_ = std::move(marker);
  applied_ += pending_.size();
  std::move(pending_.begin(), pending_.end(), std::back_inserter(whole_));
  pending_.clear();
  if (whole_.size() < kRestoreChunk) return ok_status();
  return flush();
}

Status ChangelogApplier::flush() {
  if (whole_.empty()) return ok_status();
  std::unordered_map<std::string, size_t> newest;  // topic key -> index of its last record
  newest.reserve(whole_.size());
  for (size_t i = 0; i < whole_.size(); ++i) newest[whole_[i].topic_key()] = i;
  if (newest.size() < whole_.size()) {
    // An uncompacted changelog holds every version of a case record and
    // checkpoint, and the store needs only the newest.
    std::vector<ChangelogRecord> kept;
    kept.reserve(newest.size());
    for (size_t i = 0; i < whole_.size(); ++i) {
      if (newest[whole_[i].topic_key()] == i) kept.push_back(std::move(whole_[i]));
    }
    whole_ = std::move(kept);
  }
  auto status = store_.apply_changelog(whole_, position_);
  whole_.clear();
  return status;
}

std::string PartitionRestore::describe() const {
  const auto ms = std::to_string(took.count());
  switch (verdict) {
    case LocalStateVerdict::fresh: return "no local state and an empty changelog: starting lineage " + marker.lineage;
    case LocalStateVerdict::current:
      return "local state is current with the changelog (lineage " + marker.lineage + ", commit " +
             std::to_string(marker.commit) + "), checked in " + ms + " ms";
    case LocalStateVerdict::seeded:
      return "changelog empty: published " + std::to_string(records) + " local records to it in " + ms +
             " ms as lineage " + marker.lineage;
    default: break;
  }
  if (caught_up_from) {
    std::string text = "caught up " + std::to_string(records) + " records from offset " +
                       std::to_string(*caught_up_from) + " of the changelog in " + ms + " ms (" +
                       std::to_string(case_records) + " case records; the local state stood at that offset, now at "
                       "commit " + std::to_string(marker.commit) + ")";
    if (repaired > 0) text += "; " + std::to_string(repaired) + " key(s) of an unfinished batch set back in the changelog";
    return text;
  }
  std::string text = "restored " + std::to_string(records) + " records (" + std::to_string(case_records) +
                     " case records) from the changelog in " + ms + " ms (local state was " +
                     std::string(to_string(verdict)) + ")";
  if (repaired > 0) {
    text += "; " + std::to_string(repaired) + " key(s) of an unfinished batch set back in the changelog";
  }
  if (!full_restore_reason.empty()) text += "; not caught up from the tail: " + full_restore_reason;
  return text;
}

Result<PartitionRestore> prepare_partition(RocksDbStateStore& store, StateChangelog& changelog,
                                           const RestoreContext& context) {
  const Duration started = context.clock.elapsed();
  const std::string writer = context.new_id();
  auto local = store.load_changelog_marker();
  if (!local.ok()) return local.error();
  auto has_state = store.has_state();
  if (!has_state.ok()) return has_state.error();
  auto last = changelog.last_record(store.partition());
  if (!last.ok()) return last.error();
  PartitionRestore report;
  report.verdict = judge_local_state(*local, *has_state, *last);
  switch (report.verdict) {
    case LocalStateVerdict::fresh: report.marker = ChangelogMarker{context.new_id(), 0, writer}; break;
    case LocalStateVerdict::current: report.marker = **local; break;
    case LocalStateVerdict::seeded:
      report.marker = ChangelogMarker{context.new_id(), 1, writer, context.instance};
      if (auto s = seed(store, changelog, report.marker, report); !s.ok()) return s.error();
      break;
    case LocalStateVerdict::behind:
    case LocalStateVerdict::unfinished: {
      // Ahead, diverged or another lineage never get here: only a copy whose
      // every commit the changelog confirmed (its position) reads the tail.
      auto position = store.load_changelog_position();
      if (!position.ok()) return position.error();
      auto refusal = catch_up_refusal(store, changelog, *position, context.wall);
      if (!refusal.ok()) return refusal.error();
      if (*position && refusal->empty()) {
        const LocalStateVerdict judged = report.verdict;
        report.verdict = LocalStateVerdict::tail_behind;
        ChangelogApplier applier(store, **local);
        auto s = catch_up(store, changelog, **position, context, writer, applier, report);
        if (s.ok()) break;
        if (!applier.broken()) return s.error();
        report = PartitionRestore{};
        report.verdict = judged;
        report.full_restore_reason = s.error().message;
      } else {
        report.full_restore_reason = *refusal;
      }
      if (auto s = restore(store, changelog, context, writer, report); !s.ok()) return s.error();
      break;
    }
    default:
      if (auto s = restore(store, changelog, context, writer, report); !s.ok()) return s.error();
      break;
  }
  // This owner's commits carry its own writer id from the next commit on.
  store.attach_changelog(changelog,
                         ChangelogMarker{report.marker.lineage, report.marker.commit, writer, context.instance});
  report.took = context.clock.elapsed() - started;
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
