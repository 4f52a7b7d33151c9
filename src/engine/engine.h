#pragma once
// The SLA engine: validated case events and clock readings in, alert events
// and state changes out. It does no I/O of its own: state goes through the
// StateStore interface and output through the caller, so replay, the live
// monitor and the tests all run this same code with different edges.
// Single-threaded: one engine per partition, driven by one thread.
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "engine/evaluator.h"
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
  // A closed case (no open deadline cycle, no stage timer) is deleted, with its
  // alert index entries, once the clock is more than this past its last event;
  // nullopt keeps closed cases forever. Waiting for it is the case's timer.
  std::optional<Duration> retain_closed;
};

enum class ApplyOutcome : uint8_t { applied, duplicate, case_full };

struct EngineCounters {
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t case_full = 0;
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
  // are appended to `out`.
  Result<ApplyOutcome> apply(const CaseEvent& event, std::vector<Alert>& out);

  // Moves the clock forward to `now` (never backwards) and fires every stage
  // with due_at + grace <= clock, in due order, handling at most `max_timers`
  // timers. Returns true when more timers are due (call again).
  Result<bool> advance(Instant now, std::vector<Alert>& out, size_t max_timers = SIZE_MAX);

  // Puts a new rule set in force for every event and timer from now on.
  // Stored cases still reflect the old set until repair() visits them
  // (Pipeline::reload_rules visits them all).
  void replace_rules(std::shared_ptr<const RuleSet> rules) { rules_ = std::move(rules); }

  // Recomputes one case under the rules in force: retracts stages they no
  // longer breach, fires stages now overdue, moves the case's timer. A cycle
  // that closed keeps the outcome it had. Returns whether the case changed.
  Result<bool> repair(const CaseId& id, std::vector<Alert>& out);

  // Moves every uncommitted change (case records, timers) into `batch`; the
  // caller adds its outbox entries and checkpoint and commits the batch.
  void flush_into(StateBatch& batch);

  Instant clock() const { return clock_; }
  const EngineCounters& counters() const { return counters_; }
  const RuleSet& rules() const { return *rules_; }
  std::shared_ptr<const RuleSet> rules_ptr() const { return rules_; }
  size_t cached_cases() const { return cache_.size(); }

 private:
  struct CachedCase {
    CaseRecord record;
    bool dirty = false;
    uint64_t last_used = 0;  // flush generation of the last access
    bool purged = false;     // deleted at the next flush (record emptied; an event revives it)
  };
  using CacheEntry = std::pair<const CaseId, CachedCase>;
  Result<CacheEntry*> load(const CaseId& id);
  void mark_dirty(CacheEntry& entry);
  void reschedule(const CaseId& id, std::optional<Instant> before, std::optional<Instant> after);
  // After a reconcile: a case left without a stage timer and without an open
  // cycle waits for its retention on its timer. Returns true when the
  // retention has already passed (the caller purges it).
  bool await_retention(const CaseEvaluation& evaluation, CaseRecord& record) const;
  void purge(CacheEntry& entry);

  std::shared_ptr<const RuleSet> rules_;
  StateStore& store_;
  EngineOptions options_;
  TimerQueue timers_;
  Instant clock_ = kMinInstant;
  EngineCounters counters_;
  void evict_cold_cases();

  // Cases touched since the last flush (dirty) and recently used clean ones,
  // always equal to what the store holds once flushed and committed.
  std::unordered_map<CaseId, CachedCase> cache_;
  // The dirty entries, so a flush costs the cases touched, not the cache size.
  // Map nodes are stable and dirty entries are never evicted.
  std::vector<CacheEntry*> dirty_;
  std::vector<CaseId> purged_;  // since the last flush, in purge order
  uint64_t generation_ = 0;
};

}  // namespace slawatch
