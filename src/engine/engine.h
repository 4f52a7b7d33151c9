#pragma once
// The SLA engine: validated case events and clock readings in, alert events
// and state changes out. It does no I/O of its own: state goes through the
// StateStore interface and output through the caller, so replay, the live
// monitor and the tests all run this same code with different edges.
// Single-threaded: one engine per partition, driven by one thread.
#include <algorithm>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/evaluator.h"
#include "engine/reconcile.h"
#include "engine/timer_queue.h"
#include "model/alert.h"
#include "rules/rules.h"
#include "state/store.h"

namespace slawatch {

struct EngineOptions {
  Duration grace{0};               // a stage fires when clock >= due_at + grace
  size_t timer_head_limit = 4096;  // timers kept in memory at the head of the queue
  size_t max_events_per_case = 10000;
  // Decoded case records kept across batches. A case's events cluster in
  // time (dispatch, acknowledgement, transfer...), so most events find their
  // case here instead of reading and decoding it from the store again.
  size_t case_cache_records = 32768;
  // Whether a stage fires as soon as the clock reaches its due time (live: the
  // grace already waits for a stop event of that instant) or only once the
  // clock has passed it (replay, contract section 4: another event of the
  // same millisecond may still close the cycle, and then the stage was met).
  // settle() fires the stages due exactly at the clock at end of input.
  bool fire_at_due_time = true;
  // Whether a changed case is written to the store at every flush (write
  // through, the default) or only as it leaves the cache and at a complete
  // flush (write back). Write back saves re-encoding and copying a case's
  // whole record for each of its events, but the store then lags the engine
  // and loses what a crash would: only for a store that nothing reads before
  // a complete flush and that need not survive the process (replay without
  // --state, backtest's in-memory side). Timers then stay in the engine alone
  // (TimerQueue::Persistence::write_back).
  bool write_back_cases = false;
  // A closed case (no open deadline cycle, no stage timer) is deleted, with its
  // alert index entries, once the clock is more than this past its last event;
  // nullopt keeps closed cases forever. Waiting for it is the case's timer.
  std::optional<Duration> retain_closed;
};

// conflicting_duplicate: an event id already stored with other content, and the
// stored record is kept; replaced: the same, but the new record is kept and the
// stored one goes (see CaseRecord::keeps_stored). Either way the loser is
// dead-lettered, so the case ends the same in every arrival order.
enum class ApplyOutcome : uint8_t { applied, duplicate, case_full, conflicting_duplicate, replaced };

struct EngineCounters {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t case_full = 0;
  uint64_t conflicting_duplicates = 0;  // both outcomes: the new record lost, or replaced the stored one
  uint64_t timers_fired = 0;  // stage and retention timers
  uint64_t purged = 0;        // closed cases deleted after their retention
};

class Engine {
 public:
  Engine(std::shared_ptr<const RuleSet> rules, StateStore& store, EngineOptions options);

  // Restores the clock from the store's checkpoint.
  Status open();

  // Applies one event to its case. Alerts that the event itself settles (a late
  // event retracting or resolving, a late start whose stages are already due)
  // are appended to `out`. When the event replaces a stored one with its id,
  // the stored one is moved to `displaced` (if given). An event that enters the
  // case log is moved there: the caller's copy is left unspecified then.
  Result<ApplyOutcome> apply(CaseEvent&& event, std::vector<Alert>& out, CaseEvent* displaced = nullptr);
  // The same for a caller that keeps its event: it is copied into the log.
  Result<ApplyOutcome> apply(const CaseEvent& event, std::vector<Alert>& out, CaseEvent* displaced = nullptr) {
    return apply(CaseEvent(event), out, displaced);
  }

  // Moves the clock forward to `now` (never backwards) and fires every stage
  // with due_at + grace <= clock, in due order, handling at most `max_timers`
  // timers. Returns true when more timers are due (call again).
  Result<bool> advance(Instant now, std::vector<Alert>& out, size_t max_timers = SIZE_MAX);

  // advance() at the end of input: no event can follow, so a stage due exactly
  // at the clock fires too, whatever fire_at_due_time says.
  Result<bool> settle(Instant now, std::vector<Alert>& out, size_t max_timers = SIZE_MAX);

  // Puts a new rule set in force for every event and timer from now on.
  // Stored cases still reflect the old set until repair() visits them
  // (Pipeline::reload_rules visits them all).
  void replace_rules(std::shared_ptr<const RuleSet> rules) { rules_ = std::move(rules); }

  // Recomputes one case under the rules in force: retracts stages they no
  // longer breach, fires stages now overdue, moves the case's timer. A cycle
  // that closed keeps the outcome it had. Returns whether the case changed.
  Result<bool> repair(const CaseId& id, std::vector<Alert>& out);

  // changes: what the store must hold at this commit (every change when
  // writing through; evicted cases when writing back). complete: the store
  // ends up holding every case as the engine has it (before a walk of the
  // store's cases, Pipeline::reload_rules); the timers of an engine writing
  // back stay its own even then.
  enum class FlushScope : uint8_t { changes, complete };
  // Moves the uncommitted changes (case records, timers) of `scope` into
  // `batch`; the caller adds its outbox entries and checkpoint and commits it.
  void flush_into(StateBatch& batch, FlushScope scope = FlushScope::changes);

  // A case's attributes folded from its events at or before `at` (default
  // attributes for a case never seen). For observers of applied events.
  Result<CaseAttributes> case_attributes(const CaseId& id, Instant at);

  // Moves the cycle reports and withdrawals (reconcile.h, CycleOutcome) of
  // everything applied, advanced or repaired since the last call into `out`.
  void take_cycle_outcomes(std::vector<CycleOutcome>& out);

  Instant clock() const { return clock_; }
  const EngineCounters& counters() const { return counters_; }
  const RuleSet& rules() const { return *rules_; }
  std::shared_ptr<const RuleSet> rules_ptr() const { return rules_; }
  size_t cached_cases() const { return cache_.size(); }
  // Whether the cases touched since the last flush have grown the cache to
  // twice its budget. A flush evicts it back to the budget, so a caller that
  // commits when this says so keeps the decoded cases within twice the budget
  // however many records its batches hold.
  bool cache_needs_flush() const { return cache_.size() >= 2 * std::max<size_t>(options_.case_cache_records, 1); }

 private:
  struct CachedCase {
    CaseRecord record;
    // The encoding of record.events up to some length (the stored one once
    // loaded), reset whenever the log changes other than by an event after its
    // last one (apply, purge).
    EncodedLogPrefix encoded;
    bool dirty = false;      // changed since the store last got it
    uint64_t last_used = 0;  // flush generation of the last access
    bool purged = false;     // deleted at the next flush (record emptied; an event revives it)
    TimerQueue::Slot timer;  // where record.timer_due sits in timers_, if known
  };
  using CacheEntry = std::pair<const CaseId, CachedCase>;
  Result<CacheEntry*> load(const CaseId& id);
  void mark_dirty(CacheEntry& entry);
  // Moves the case's timer from `before` to its record's due time, if they differ.
  void reschedule(CacheEntry& entry, std::optional<Instant> before) {
    if (before == entry.second.record.timer_due) return;
    timers_.reschedule(entry.first, before, entry.second.record.timer_due, entry.second.timer);
  }
  Result<bool> fire_due(Instant now, std::vector<Alert>& out, size_t max_timers, bool at_due_time);
  // The latest due time that fires at the current clock.
  Instant fire_horizon(bool at_due_time) const {
    const Instant threshold = clock_ - options_.grace;
    return at_due_time ? threshold : threshold - Duration{1};
  }
  // After a reconcile: a case left without a stage timer and without an open
  // cycle waits for its retention on its timer. Returns true when the
  // retention has already passed (the caller purges it).
  bool await_retention(const CaseEvaluation& evaluation, CaseRecord& record) const;
  void purge(CacheEntry& entry);
  // Puts the record of a dirty entry into the batch (nothing for a purged one).
  void save(CacheEntry& entry, StateBatch& batch);

  std::shared_ptr<const RuleSet> rules_;
  StateStore& store_;
  EngineOptions options_;
  TimerQueue timers_;
  Instant clock_ = kMinInstant;
  EngineCounters counters_;
  std::vector<CycleOutcome> cycle_outcomes_;  // since the last take_cycle_outcomes()
  // Reused by every evaluation and reconcile, so a case's evaluation allocates
  // nothing once these have grown to the largest case seen.
  CaseEvaluation evaluation_;
  ReconcileScratch reconcile_scratch_;
  void evict_cold_cases(StateBatch& batch);

  // Cases touched since the last flush (dirty) and recently used clean ones,
  // always equal to what the store holds once flushed and committed.
  std::unordered_map<CaseId, CachedCase> cache_;
  // When writing through, the dirty entries, so a flush costs the cases
  // touched, not the cache size. Map nodes are stable and a flush empties it
  // before evicting.
  std::vector<CacheEntry*> dirty_;
  std::vector<CaseId> purged_;  // since the last flush, in purge order
  uint64_t generation_ = 0;
};

}  // namespace slawatch
