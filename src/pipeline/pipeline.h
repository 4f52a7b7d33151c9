#pragma once
// The processing loop shared by replay, the live monitor and the demo:
// raw records -> intake -> engine -> outbox -> sinks, committed in batches.
// Every batch's state changes, its produced output (outbox) and the input
// position go into one atomic commit; output is delivered only after that
// commit and removed from the outbox in the next one. A crash therefore
// loses nothing, and the only duplicates it can cause carry the same ids.
// Single-threaded.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "intake/cloudevent.h"
#include "io/io.h"
#include "roster/roster.h"
#include "state/store.h"

namespace slawatch {

struct PipelineOptions {
  size_t batch_records = 2000;  // records per commit
  std::string alert_source = "/slawatch";
  // Names the people behind fired alerts' notify roles; without it every
  // `person` stays empty (null in the JSON).
  std::shared_ptr<const Roster> roster;
};

struct PipelineCounters {
  uint64_t records = 0;
  uint64_t applied = 0;
  uint64_t duplicates = 0;
  uint64_t dead_letters = 0;
  uint64_t alerts_fired = 0;
  uint64_t alerts_resolved = 0;
  uint64_t alerts_retracted = 0;
  uint64_t commits = 0;
  uint64_t delivery_failures = 0;  // failed delivery attempts (the records stay pending)
};

class Pipeline {
 public:
  using AlertObserver = std::function<void(const Alert&)>;
  using EventObserver = std::function<void(const CaseEvent&, ApplyOutcome)>;
  using RejectObserver = std::function<void(const RawRecord&, const std::string& reason)>;

  Pipeline(Engine& engine, StateStore& store, RecordSink& alerts, RecordSink& dead_letters,
           PipelineOptions options);

  // Takes up output left in the outbox by a crash (delivered first, by the next
  // maybe_commit or deliver_pending) and returns the input position of the
  // last commit ("" for a fresh state).
  Result<std::string> recover();

  // Replay clock: applies the record, then moves the clock to its event time.
  Status on_record_replay(const RawRecord& record);
  // Live clock: applies the record; the clock moves only with advance().
  Status on_record_live(const RawRecord& record);
  // Moves the clock to `now` and fires what is due, at most `max_timers` timers.
  // Returns true when more are due.
  Result<bool> advance(Instant now, size_t max_timers = SIZE_MAX);

  // Commits when the batch is full (or always when `force`), then delivers.
  Status maybe_commit(const std::string& source_position, bool force = false);
  // The two halves of maybe_commit, for callers that treat a failed delivery
  // as transient (a broker outage) and retry it with their own backoff.
  Status commit_if_due(const std::string& source_position, bool force = false);
  // Delivers committed output not yet delivered, in outbox order. On failure
  // the records stay pending for the next call; nothing is dropped.
  Status deliver_pending();
  size_t pending_deliveries() const { return undelivered_.size(); }
  bool has_uncommitted() const { return uncommitted_records_ > 0 || !outbox_.empty(); }
  bool has_uncommitted_output() const { return !outbox_.empty(); }
  // Produced output not yet committed plus committed output not yet delivered.
  size_t outbox_depth() const { return outbox_.size() + undelivered_.size(); }
  // Stage timers committed to the store (uncommitted changes are not counted).
  Result<uint64_t> pending_timers() { return store_.pending_timers(); }

  void set_alert_observer(AlertObserver observer) { alert_observer_ = std::move(observer); }
  void set_event_observer(EventObserver observer) { event_observer_ = std::move(observer); }
  void set_reject_observer(RejectObserver observer) { reject_observer_ = std::move(observer); }
  const PipelineCounters& counters() const { return counters_; }
  Engine& engine() { return engine_; }

 private:
  Result<const CaseEvent*> intake(const RawRecord& record);
  Status apply(const CaseEvent& event, const RawRecord& record);
  void emit(std::vector<Alert>& alerts);
  void dead_letter(const RawRecord& record, const std::string& reason);

  Engine& engine_;
  StateStore& store_;
  RecordSink& alert_sink_;
  RecordSink& dead_letter_sink_;
  PipelineOptions options_;
  CloudEventParser parser_;
  CaseEvent scratch_event_;
  std::vector<Alert> scratch_alerts_;

  uint64_t next_outbox_seq_ = 1;
  size_t uncommitted_records_ = 0;
  std::vector<OutboxEntry> outbox_;            // produced in this batch, not committed yet
  std::vector<OutboxEntry> undelivered_;       // committed, waiting for (re)delivery
  std::vector<uint64_t> delivered_;            // to delete from the outbox in the next commit
  PipelineCounters counters_;
  AlertObserver alert_observer_;
  EventObserver event_observer_;
  RejectObserver reject_observer_;
};

}  // namespace slawatch
