#include "engine/engine.h"

#include <algorithm>

#include "engine/reconcile.h"

namespace slawatch {

Engine::Engine(std::shared_ptr<const RuleSet> rules, StateStore& store, EngineOptions options)
    : rules_(std::move(rules)),
      store_(store),
      options_(options),
      timers_(store, options.timer_head_limit,
              options.write_back_cases ? TimerQueue::Persistence::write_back : TimerQueue::Persistence::write_through) {
  // Grown once to its working size rather than rehashed on the way there.
  cache_.reserve(options_.case_cache_records);
}

Status Engine::open() {
  auto checkpoint = store_.load_checkpoint();
  if (!checkpoint.ok()) return checkpoint.error();
  clock_ = checkpoint->clock;
  return ok_status();
}

Result<Engine::CacheEntry*> Engine::load(const CaseId& id) {
  auto [it, inserted] = cache_.try_emplace(id);
  it->second.last_used = generation_;
  if (!inserted) return &*it;
  auto stored = store_.load_case(id);
  if (!stored.ok()) {
    cache_.erase(it);
    return stored.error();
  }
  if (stored->has_value()) {
    // Writing back, a record is encoded once as it leaves the cache: a kept
    // prefix of its encoding would only hold memory.
    auto decoded = options_.write_back_cases ? decode_case_record(**stored, id)
                                             : decode_case_record(**stored, id, it->second.encoded);
    if (!decoded.ok()) {
      cache_.erase(it);
      return decoded.error();
    }
    it->second.record = std::move(decoded).value();
  }
  return &*it;
}

void Engine::mark_dirty(CacheEntry& entry) {
  if (entry.second.dirty) return;
  entry.second.dirty = true;
  if (!options_.write_back_cases) dirty_.push_back(&entry);
}

void Engine::save(CacheEntry& entry, StateBatch& batch) {
  CachedCase& cached = entry.second;
  if (!cached.purged) {
    batch.cases.emplace_back(entry.first, options_.write_back_cases
                                              ? encode_case_record(cached.record)
                                              : encode_case_record(cached.record, cached.encoded));
  }
  cached.dirty = false;
}

Result<ApplyOutcome> Engine::apply(CaseEvent&& event, std::vector<Alert>& out, CaseEvent* displaced) {
  auto cached = load(event.case_id);
  if (!cached.ok()) return cached.error();
  CaseRecord& record = (*cached)->second.record;
  bool replacing = false;
  if (const CaseEvent* stored = record.find_event(event.id)) {
    if (same_content(*stored, event)) {
      ++counters_.duplicates;
      return ApplyOutcome::duplicate;
    }
    ++counters_.conflicting_duplicates;
    if (CaseRecord::keeps_stored(*stored, event)) return ApplyOutcome::conflicting_duplicate;
    // The newcomer wins: the case is recomputed without the stored record, so
    // what fired on it alone is retracted below, as for any late event.
    CaseEvent removed = record.remove(event.id);
    (*cached)->second.encoded.reset();
    if (displaced != nullptr) *displaced = std::move(removed);
    replacing = true;
  }
  if (!replacing && record.events.size() >= options_.max_events_per_case) {
    ++counters_.case_full;
    return ApplyOutcome::case_full;
  }
  const auto timer_before = record.timer_due;
  if (!record.events.empty() && !event_order_less(record.events.back(), event)) (*cached)->second.encoded.reset();
  // The event moves into the log (its texts are not copied per event); the
  // ids it is known by stay readable through the cache entry's key and here.
  const CaseId& case_id = (*cached)->first;
  const EventId event_id = event.id;
  record.insert(std::move(event));
  (*cached)->second.purged = false;  // a late event for a purged case starts a fresh record
  mark_dirty(**cached);

  // A stage stays breached up to the clock, but a newly found one fires only
  // up to the fire horizon (contract section 4, see fire_at_due_time).
  ReconcileContext context{case_id, *rules_, clock_, fire_horizon(options_.fire_at_due_time),
                           clock_ - options_.grace, &event_id};
  context.outcomes = &cycle_outcomes_;
  context.scratch = &reconcile_scratch_;
  evaluate_case_into(record.events, *rules_, evaluation_);
  const CaseEvaluation& evaluation = evaluation_;
  reconcile(context, evaluation, record, out);
  // Purged, if at all, when its timer pops (already due for a late event past
  // the retention): only advance() deletes cases.
  await_retention(evaluation, record);
  reschedule(**cached, timer_before);
  if (replacing) return ApplyOutcome::replaced;
  ++counters_.applied;
  return ApplyOutcome::applied;
}

Result<bool> Engine::advance(Instant now, std::vector<Alert>& out, size_t max_timers) {
  return fire_due(now, out, max_timers, options_.fire_at_due_time);
}

Result<bool> Engine::settle(Instant now, std::vector<Alert>& out, size_t max_timers) {
  return fire_due(now, out, max_timers, true);
}

Result<bool> Engine::fire_due(Instant now, std::vector<Alert>& out, size_t max_timers, bool at_due_time) {
  if (now > clock_) clock_ = now;
  const Instant threshold = clock_ - options_.grace;
  const Instant horizon = fire_horizon(at_due_time);
  for (size_t handled = 0; handled < max_timers; ++handled) {
    auto popped = timers_.pop_due(horizon);
    if (!popped.ok()) return popped.error();
    if (!popped->has_value()) return false;
    const TimerKey& key = **popped;
    auto cached = load(key.case_id);
    if (!cached.ok()) return cached.error();
    CaseRecord& record = (*cached)->second.record;
    if (record.timer_due != key.due) continue;  // stale key: the record is the truth
    record.timer_due.reset();
    (*cached)->second.timer.clear();  // its node was this timer's
    mark_dirty(**cached);
    // Fire only up to this timer's due time: later stages of the same case go
    // back into the queue, so alerts across cases come out in due order.
    ReconcileContext context{key.case_id, *rules_, clock_, key.due, threshold, nullptr};
    context.outcomes = &cycle_outcomes_;
    context.scratch = &reconcile_scratch_;
    evaluate_case_into(record.events, *rules_, evaluation_);
    const CaseEvaluation& evaluation = evaluation_;
    reconcile(context, evaluation, record, out);
    ++counters_.timers_fired;
    if (await_retention(evaluation, record)) {
      purge(**cached);  // its timer was this one, already taken off the queue
      continue;
    }
    reschedule(**cached, std::nullopt);
  }
  return true;
}

Result<bool> Engine::repair(const CaseId& id, std::vector<Alert>& out) {
  auto cached = load(id);
  if (!cached.ok()) return cached.error();
  CaseRecord& record = (*cached)->second.record;
  const auto timer_before = record.timer_due;
  const auto marks_before = record.marks;
  const size_t alerts_before = out.size();
  const Instant threshold = clock_ - options_.grace;
  ReconcileContext context{id, *rules_, clock_, fire_horizon(options_.fire_at_due_time), threshold, nullptr};
  context.keep_closed_outcomes = true;
  context.outcomes = &cycle_outcomes_;
  context.scratch = &reconcile_scratch_;
  const size_t outcomes_before = cycle_outcomes_.size();
  evaluate_case_into(record.events, *rules_, evaluation_);
  const CaseEvaluation& evaluation = evaluation_;
  reconcile(context, evaluation, record, out);
  await_retention(evaluation, record);
  if (record.timer_due == timer_before && record.marks == marks_before && out.size() == alerts_before &&
      cycle_outcomes_.size() == outcomes_before) {
    return false;
  }
  mark_dirty(**cached);
  reschedule(**cached, timer_before);
  return true;
}

Result<CaseAttributes> Engine::case_attributes(const CaseId& id, Instant at) {
  auto cached = load(id);
  if (!cached.ok()) return cached.error();
  return attributes_at((*cached)->second.record.events, at);
}

void Engine::take_cycle_outcomes(std::vector<CycleOutcome>& out) {
  if (out.empty()) {
    out.swap(cycle_outcomes_);
  } else {
    out.insert(out.end(), cycle_outcomes_.begin(), cycle_outcomes_.end());
  }
  cycle_outcomes_.clear();
}

bool Engine::await_retention(const CaseEvaluation& evaluation, CaseRecord& record) const {
  if (!options_.retain_closed || record.timer_due || record.events.empty()) return false;
  const bool open_cycle = std::any_of(evaluation.cycles.begin(), evaluation.cycles.end(),
                                      [](const CycleResult& c) { return c.deadline && !c.closed_at; });
  if (open_cycle) return false;
  // Purged once the clock is more than the retention past the last event; the
  // timer pops when clock - grace reaches its due time.
  const Instant purge_at = record.events.back().time + *options_.retain_closed + Duration{1};
  record.timer_due = purge_at - options_.grace;
  return clock_ >= purge_at;
}

void Engine::purge(CacheEntry& entry) {
  entry.second.record = CaseRecord{};
  entry.second.encoded.reset();
  entry.second.purged = true;
  mark_dirty(entry);
  purged_.push_back(entry.first);
  ++counters_.purged;
}

void Engine::flush_into(StateBatch& batch, FlushScope scope) {
  // Deletes first: a case purged and revived by a later event of this batch
  // loses its old index entries and keeps its fresh record.
  batch.case_deletes = std::move(purged_);
  purged_.clear();
  if (!options_.write_back_cases) {
    batch.cases.reserve(batch.cases.size() + dirty_.size());
    for (CacheEntry* entry : dirty_) save(*entry, batch);
    dirty_.clear();
  } else if (scope == FlushScope::complete) {
    for (auto& entry : cache_) {
      if (entry.second.dirty) save(entry, batch);
    }
  }
  for (const auto& id : batch.case_deletes) {
    if (auto it = cache_.find(id); it != cache_.end() && it->second.purged) cache_.erase(it);
  }
  timers_.flush_into(batch);
  ++generation_;
  evict_cold_cases(batch);
}

void Engine::evict_cold_cases(StateBatch& batch) {
  if (cache_.size() <= options_.case_cache_records) return;
  // Drop the least recently used quarter beyond the budget in one pass, so
  // eviction costs O(n) now and then rather than bookkeeping on every access.
  std::vector<uint64_t> ages;
  ages.reserve(cache_.size());
  for (const auto& [id, cached] : cache_) ages.push_back(cached.last_used);
  const size_t keep = options_.case_cache_records * 3 / 4;
  const size_t drop = cache_.size() - keep;
  std::nth_element(ages.begin(), ages.begin() + static_cast<std::ptrdiff_t>(drop - 1), ages.end());
  const uint64_t cutoff = ages[drop - 1];
  // Writing through, every entry is clean here; writing back, a dirty one
  // goes to the store now, the one time it is encoded while cached.
  for (auto it = cache_.begin(); it != cache_.end();) {
    if (it->second.last_used > cutoff) {
      ++it;
      continue;
    }
    if (it->second.dirty) save(*it, batch);
    it = cache_.erase(it);
  }
}

}  // namespace slawatch
