#include "state/store.h"

#include <algorithm>

#include "state/alert_index_value.h"

namespace slawatch {

std::string_view to_string(AlertIndexEntry::State state) {
  switch (state) {
    case AlertIndexEntry::State::firing: return "firing";
    case AlertIndexEntry::State::resolved: return "resolved";
    case AlertIndexEntry::State::retracted: return "retracted";
  }
  return "firing";
}

void add_tallies(Tallies& tallies, const Tallies& deltas) {
  for (const auto& [name, delta] : deltas) {
    if (delta == 0) continue;
    auto [it, inserted] = tallies.try_emplace(name, 0);
    it->second += delta;
    if (it->second == 0) tallies.erase(it);
  }
}

Result<std::optional<std::string>> MemoryStateStore::load_case(const CaseId& id) {
  auto it = cases_.find(id);
  if (it == cases_.end()) return std::optional<std::string>{};
  return std::optional<std::string>{it->second};
}

Result<std::vector<TimerKey>> MemoryStateStore::scan_timers(Instant after, size_t limit) {
  std::vector<TimerKey> out;
  for (auto it = timers_.lower_bound(TimerKey{after + Duration{1}, CaseId{}});
       it != timers_.end(); ++it) {
    if (out.size() >= limit && it->first.due != out.back().due) break;
    out.push_back(it->first);
  }
  return out;
}

Result<std::vector<OutboxEntry>> MemoryStateStore::load_outbox() {
  std::vector<OutboxEntry> out;
  for (const auto& [seq, entry] : outbox_) out.push_back(entry);
  return out;
}

Result<Checkpoint> MemoryStateStore::load_checkpoint() { return checkpoint_; }

Status MemoryStateStore::commit(StateBatch& batch) {
  totals_.keys_of(StoreFamily::cases) += batch.case_deletes.size() + batch.cases.size();
  totals_.keys_of(StoreFamily::timers) += batch.timer_deletes.size() + batch.timer_puts.size();
  totals_.keys_of(StoreFamily::outbox) += batch.outbox_deletes.size() + batch.outbox_puts.size();
  totals_.keys_of(StoreFamily::alerts) += batch.alert_index.size();
  totals_.keys_of(StoreFamily::meta) += batch.tallies.size() + (batch.checkpoint ? 1 : 0);
  for (const auto& id : batch.case_deletes) {
    cases_.erase(id);
    const std::string first = std::string(id.str()) + '/';  // alert ids are {case}/{rule}/{cycle}/{stage}
    for (auto it = alert_index_.lower_bound(first); it != alert_index_.end() && it->first.starts_with(first);) {
      it = alert_index_.erase(it);
    }
  }
  for (auto& [id, bytes] : batch.cases) cases_[id] = std::move(bytes);
  for (const auto& key : batch.timer_deletes) timers_.erase(key);
  for (const auto& key : batch.timer_puts) timers_[key] = true;
  for (const auto& indexed : batch.alert_index) {
    alert_index_[indexed.alert.alert_id] = encode_alert_index_value(indexed);
  }
  for (const auto seq : batch.outbox_deletes) outbox_.erase(seq);
  for (const auto& entry : batch.outbox_puts) outbox_[entry.seq] = entry;
  add_tallies(tallies_, batch.tallies);
  if (batch.checkpoint) checkpoint_ = *batch.checkpoint;
  batch.clear_all_but_outbox();
  ++totals_.commits;
  return ok_status();
}

Status MemoryStateStore::for_each_case(
    const std::function<bool(const CaseId&, std::string_view)>& fn) {
  std::vector<const std::pair<const CaseId, std::string>*> ordered;
  ordered.reserve(cases_.size());
  for (const auto& entry : cases_) ordered.push_back(&entry);
  std::sort(ordered.begin(), ordered.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
  for (const auto* entry : ordered) {
    if (!fn(entry->first, entry->second)) break;
  }
  return ok_status();
}

Status MemoryStateStore::for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) {
  for (const auto& [id, value] : alert_index_) {
    auto entry = decode_alert_index_entry(id, value);
    if (!entry.ok()) return entry.error();
    if (!fn(*entry)) break;
  }
  return ok_status();
}

}  // namespace slawatch
