#pragma once
// The processing loop shared by replay, the live monitor and the demo:
// raw records -> intake -> engine -> outbox -> sinks, committed in batches.
// Every batch's state changes, its produced output (outbox) and the input
// position go into one atomic commit; output is delivered only after that
// commit and removed from the outbox in the next one. A crash therefore
// loses nothing, and the only duplicates it can cause carry the same ids.
// Single-threaded.
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "intake/cloudevent.h"
#include "io/io.h"
#include "pipeline/state_tallies.h"
#include "roster/roster.h"
#include "state/store.h"

namespace slawatch {

struct PipelineOptions {
  size_t batch_records = 2000;  // records per commit (sooner once batch_bounds_reached())
  std::string alert_source = "/slawatch";
  // Names the people behind fired alerts' notify roles; without it every
  // `person` stays empty (null in the JSON).
  std::shared_ptr<const Roster> roster;
  // Larger records are dead-lettered as oversize (the source marks those it cut short).
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  // Whether alert events go to the store's alert index, which the case API
  // lists and a restart re-posts to Alertmanager from. Off only for a store
  // nothing reads alerts from (replay without --state, backtest's in-memory
  // side): indexing was 4 % of such a replay's instructions.
  bool index_alerts = true;
  // A batch also ends once this many output records (alerts, dead letters)
  // wait in it (at most batch_records of them): replay's long batches save keys
  // only where a case has several events in one, while each alert is its own
  // outbox entry and index entry, held in memory until the commit.
  size_t max_batch_output = SIZE_MAX;
};

// What a rule reload changed.
struct RepairReport {
  std::string from_version;
  std::string to_version;
  uint64_t cases = 0;    // cases examined
  uint64_t changed = 0;  // cases whose alerts or timer changed
  uint64_t fired = 0;
  uint64_t resolved = 0;
  uint64_t retracted = 0;

  // Sums the counts of another part of the same reload (another partition).
  void add(const RepairReport& part) {
    cases += part.cases;
    changed += part.changed;
    fired += part.fired;
    resolved += part.resolved;
    retracted += part.retracted;
  }
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

  // Sums another partition's counts.
  PipelineCounters& operator+=(const PipelineCounters& other) {
    records += other.records;
    applied += other.applied;
    duplicates += other.duplicates;
    dead_letters += other.dead_letters;
    alerts_fired += other.alerts_fired;
    alerts_resolved += other.alerts_resolved;
    alerts_retracted += other.alerts_retracted;
    commits += other.commits;
    delivery_failures += other.delivery_failures;
    return *this;
  }
};

class Pipeline {
 public:
  using AlertObserver = std::function<void(const Alert&)>;
  using EventObserver = std::function<void(const CaseEvent&, ApplyOutcome)>;
  using RejectObserver = std::function<void(const RawRecord&, const std::string& reason)>;
  // Sees each group of output once the sinks took it (written and flushed),
  // before it counts as delivered: an error keeps the group pending, so it is
  // delivered (and observed) again later. The audit log hangs here.
  using DeliveryObserver = std::function<Status(const std::vector<OutboxEntry>&)>;

  Pipeline(Engine& engine, StateStore& store, RecordSink& alerts, RecordSink& dead_letters,
           PipelineOptions options);

  // Takes up output left in the outbox by a crash (delivered first, by the next
  // maybe_commit or deliver_pending) and returns the input position of the
  // last commit ("" for a fresh state).
  Result<std::string> recover();
  // The rule set version the stored cases were computed under (after
  // recover(); empty for a fresh state or one from before versions were kept).
  const std::string& stored_rules_version() const { return stored_rules_version_; }

  // Puts `rules` in force and repairs every stored case under them (see
  // Engine::repair), committing as it goes; the alerts the repair produces
  // leave like any other output. Passing the rules already in force repairs
  // state computed under another version (a start after the files changed).
  Result<RepairReport> reload_rules(std::shared_ptr<const RuleSet> rules, const std::string& source_position);

  // Replay clock: applies the record, then moves the clock to its event time.
  Status on_record_replay(const RawRecord& record);
  // The same, firing at most batch_records timers at a time and committing
  // (at `position_after`, the input position after this record) between
  // slices. One clock move can make hundreds of thousands of stages due at
  // once (a working calendar starts every case created over a weekend at the
  // same Monday 08:00), and unsliced all their alerts sat in one batch: its
  // outbox, alert index and WriteBatch (peak RSS 3.3 GB, issue 17). A crash
  // between slices leaves due timers in the store; the next clock move fires them.
  Status on_record_replay(const RawRecord& record, const std::string& position_after);
  // The same with the position built only when a commit needs it: a batch
  // commits once per thousands of records, and building the position for
  // every record (an allocation, numbers and a digest in text) was 2.4 % of
  // plain replay's instructions.
  using PositionAfter = std::function<std::string()>;
  Status on_record_replay(const RawRecord& record, const PositionAfter& position_after);
  // Live clock: applies the record; the clock moves only with advance(). The
  // alerts the record itself produces are held until the next advance() or
  // commit, and a stage fired and retracted within that batch (a backlog's
  // dispatch and, a few records later, its acknowledgement) leaves nothing.
  Status on_record_live(const RawRecord& record);
  // Moves the clock to `now` and fires what is due, at most `max_timers` timers.
  // Returns true when more are due.
  Result<bool> advance(Instant now, size_t max_timers = SIZE_MAX);
  // advance() at the end of replay input (Engine::settle): stages due exactly
  // at the final clock fire too.
  Result<bool> settle(Instant now, size_t max_timers = SIZE_MAX);

  // Whether the batch is full: records, output or the engine's cache reached
  // their bound, so the next maybe_commit commits.
  bool batch_full() const { return uncommitted_records_ >= options_.batch_records || batch_bounds_reached(); }
  // Commits when the batch is full (or always when `force`), then delivers.
  Status maybe_commit(const std::string& source_position, bool force = false);
  // The same with the position built only if a commit happens.
  Status maybe_commit(const PositionAfter& position_after, bool force = false);
  // The two halves of maybe_commit, for callers that treat a failed delivery
  // as transient (a broker outage) and retry it with their own backoff.
  // `scope`: what the engine hands the store (Engine::FlushScope).
  Status commit_if_due(const std::string& source_position, bool force = false,
                       Engine::FlushScope scope = Engine::FlushScope::changes);
  // Delivers committed output not yet delivered, in outbox order. On failure
  // the records stay pending for the next call; nothing is dropped.
  Status deliver_pending();
  // Delivery that never waits: sends what is pending (records still in flight
  // are not sent twice) and retires what the sinks acknowledged so far. The
  // live monitor calls it every loop, so a slow acknowledgement delays only the
  // outbox cleanup, never consuming or firing. An error (a refused record)
  // leaves the records pending, like deliver_pending. Sends nothing before
  // the store's replica holds the last commit, and at most delivery_window()
  // entries (see pipeline.cc).
  Status deliver_available();
  // deliver_available's blocking form, for a lane being handed over or
  // stopped: waits for the store's replica to hold the last commit, sends at
  // most delivery_window() entries and waits for the sinks to acknowledge
  // them (what they did not acknowledge in time stays pending). Returns how
  // many were delivered; the caller commits to record them before asking for
  // the next window, so whenever it stops at most one batch is out unrecorded.
  Result<size_t> deliver_window();
  size_t pending_deliveries() const { return undelivered_.size(); }
  bool has_uncommitted() const { return uncommitted_records_ > 0 || !outbox_.empty() || !held_.empty(); }
  bool has_uncommitted_output() const { return !outbox_.empty() || !held_.empty(); }
  // The output records (alerts, dead letters) waiting at which a batch commits.
  size_t output_bound() const { return std::min(options_.batch_records, options_.max_batch_output); }
  // Whether this batch must be committed now, before the records or barrier
  // the caller commits at: its output or its engine's cache reached their bound.
  bool batch_bounds_reached() const {
    return outbox_.size() >= output_bound() || engine_.cache_needs_flush();
  }
  // How many timers replay fires between two looks at the batch's bounds: its
  // output bound. A cohort of cases falling due together (a Monday 08:00 of a
  // working calendar) fired in slices of batch_records timers held up to that
  // many alerts and decoded cases before the commit the bound asked for: on
  // the dense history, peaks 100-140 MiB above the bounds (docs/benchmarks.md).
  size_t replay_timer_slice() const { return output_bound(); }
  // Delivered output whose removal from the outbox the next commit records.
  bool has_delivered_to_record() const { return !delivered_.empty(); }
  // Entries deliver_available() may still send before a commit records the
  // removal of those delivered (0: that commit is what delivery waits for).
  // Committed output held back only until the store's replica acknowledges
  // the last commit (a caller that sleeps between steps should wake soon).
  bool output_waits_for_replica() const {
    return !undelivered_.empty() && (unreplicated_tail_ > 0 || unreplicated_deletions_ > 0);
  }
  size_t delivery_window() const {
    const size_t out = delivered_.size() + unreplicated_deletions_;
    return out < options_.batch_records ? options_.batch_records - out : 0;
  }
  // Produced output not yet committed plus committed output not yet delivered.
  size_t outbox_depth() const { return outbox_.size() + undelivered_.size(); }
  // Stage timers committed to the store (uncommitted changes are not counted).
  Result<uint64_t> pending_timers() { return store_.pending_timers(); }
  // What the store's commits wrote since it was opened.
  CommitTotals commit_totals() const { return store_.commit_totals(); }
  // Overdue stages and open and closed cycles as committed (state_tallies.h).
  Result<Tallies> committed_tallies() { return store_.tallies(); }

  // A reloaded duty roster names the people of alerts emitted from now on.
  void set_roster(std::shared_ptr<const Roster> roster) { options_.roster = std::move(roster); }
  void set_alert_observer(AlertObserver observer) { alert_observer_ = std::move(observer); }
  void set_event_observer(EventObserver observer) { event_observer_ = std::move(observer); }
  void set_reject_observer(RejectObserver observer) { reject_observer_ = std::move(observer); }
  void set_delivery_observer(DeliveryObserver observer) { delivery_observer_ = std::move(observer); }
  const PipelineCounters& counters() const { return counters_; }
  Engine& engine() { return engine_; }
  // The largest event time of the valid events read so far (this run): the
  // partition's event-time watermark for its LaneClock.
  std::optional<Instant> latest_event_time() const { return latest_event_time_; }

 private:
  // The parsed event (scratch_event_), or null when the record was dead-lettered.
  Result<CaseEvent*> intake(const RawRecord& record);
  // `position_after` null: fire everything due in one go.
  Status replay_record(const RawRecord& record, const PositionAfter* position_after);
  // `hold`: keep the alerts for release_held() instead of emitting them.
  // Consumes `event`: without an event observer it moves into the case log.
  Status apply(CaseEvent& event, const RawRecord& record, bool hold);
  Result<bool> fire(Instant now, size_t max_timers, bool end_of_input);
  void hold_alerts(std::vector<Alert>& alerts);
  // Emits the held alerts in order, without the fired/retracted pairs.
  void release_held();
  void emit(std::vector<Alert>& alerts);
  // Consumes `alert` (it moves into the alert index).
  void emit_one(Alert& alert);
  void dead_letter(const RawRecord& record, const std::string& reason);

  Engine& engine_;
  StateStore& store_;
  RecordSink& alert_sink_;
  RecordSink& dead_letter_sink_;
  PipelineOptions options_;
  CloudEventParser parser_;
  CaseEvent scratch_event_;
  std::vector<Alert> scratch_alerts_;
  // Live mode: the output of the records applied since the last advance or
  // commit, in order: alerts (a cancelled one leaves an empty slot) and the
  // events observed after the first of them. held_fired_ finds each held
  // fired alert by alert id and due time.
  struct HeldOutput {
    std::optional<Alert> alert;
    std::optional<CaseEvent> event;
    ApplyOutcome outcome = ApplyOutcome::applied;
  };
  std::vector<HeldOutput> held_;
  std::unordered_map<std::string, size_t> held_fired_;

  std::optional<Instant> latest_event_time_;
  uint64_t next_outbox_seq_ = 1;
  std::string stored_rules_version_;
  size_t uncommitted_records_ = 0;
  std::vector<OutboxEntry> outbox_;            // produced in this batch, not committed yet
  std::vector<IndexedAlert> alert_index_;      // this batch's alert events, for the case API
  TallyDeltas tallies_;                        // this batch's changes to the committed tallies
  std::string tally_name_;                     // working space of tally_alert / tally_cycle
  std::vector<CycleOutcome> cycle_outcomes_;   // scratch
  std::vector<OutboxEntry> undelivered_;       // committed, waiting for (re)delivery
  std::vector<uint64_t> delivered_;            // to delete from the outbox in the next commit
  size_t unreplicated_tail_ = 0;               // undelivered_'s last entries, of a commit not replicated yet
  size_t unreplicated_deletions_ = 0;          // deletions that commit records
  PipelineCounters counters_;
  AlertObserver alert_observer_;
  EventObserver event_observer_;
  RejectObserver reject_observer_;
  DeliveryObserver delivery_observer_;

  enum class AwaitAcknowledgement { no, yes };
  // The body of deliver_available and deliver_window.
  Result<size_t> deliver_within_window(AwaitAcknowledgement await);
};

}  // namespace slawatch
