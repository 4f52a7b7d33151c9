#pragma once
// The policies every live monitor shares, over whichever lanes its source has
// assigned (a file: one; Kafka: one per assigned partition):
//  - firing: each lane on its own clock (LaneClockPolicy), in bounded batches
//    per step and at a bounded rate overall (token bucket), so a backlog after
//    downtime drains promptly without starving input or flooding the people
//    behind the alerts topic;
//  - commit cadence: soon (20 ms) when output waits, since alerts leave only
//    after a commit; every 200 ms (or a full batch) for records alone; never
//    when nothing changed;
//  - delivery that never waits, retried with backoff (100 ms doubling to 5 s)
//    after a refusal, and a warning when nothing was acknowledged for 5 s.
// Both clocks are injected: tests drive every cadence by hand. Single-threaded.
#include <functional>
#include <span>
#include <string>

#include "model/result.h"
#include "model/time.h"
#include "pipeline/lane_clock.h"
#include "runtime/live_lane.h"

namespace slawatch {

struct MonitorPolicy {
  size_t max_timers_per_tick = 1000;
  size_t max_timers_per_second = 20000;
  Duration commit_with_output{20};
  Duration commit_records{200};
  Duration delivery_backoff_min{100};
  Duration delivery_backoff_max{5000};
  Duration delivery_stuck_after{5000};
  Duration delivery_warning_every{10000};
  LaneClockPolicy lane_clock;

  // One worker's share when `workers` loops drive the lanes side by side: the
  // firing budgets are for the whole process (they protect the people behind
  // the alerts), so each loop gets its part, rounded up.
  MonitorPolicy shared_by(size_t workers) const;
};

// What one step did, for the caller's follow-ups (Kafka tells the broker its
// offsets after a commit; health and metrics).
struct StepReport {
  size_t fired = 0;
  bool committed = false;
  size_t pending_deliveries = 0;
  // Some output waits only for the changelog's acknowledgement of its commit:
  // the caller should not sleep long before the next step (it polls for it).
  bool output_waits_for_replica = false;
};

class MonitorLoop {
 public:
  using Notice = std::function<void(const std::string&)>;  // delivery stuck / resumed

  MonitorLoop(MonitorPolicy policy, const Clock& wall, const MonotonicClock& steady, Notice warn, Notice info);

  // Fires what is due, commits what is due, delivers what is committed.
  Result<StepReport> step(std::span<LiveLane* const> lanes);
  // Commits everything, then delivers for up to `give_up` (the caller's
  // steady time budget) one delivery window at a time, each recorded by a
  // commit before the next leaves (Pipeline::deliver_window). Returns the
  // lanes' deliveries still pending (kept in their outboxes for the next
  // start). For a stop and for a revoked partition alike.
  Result<size_t> drain(std::span<LiveLane* const> lanes, Duration give_up);

  bool delivery_stuck() const { return stuck_; }

 private:
  size_t take_budget();
  void deliver(std::span<LiveLane* const> lanes, StepReport& report);

  MonitorPolicy policy_;
  const Clock& wall_;
  const MonotonicClock& steady_;
  Notice warn_, info_;
  // Token bucket for firing.
  double tokens_ = 0;
  Duration tokens_at_;
  Duration last_commit_;
  Duration next_delivery_attempt_{0};
  Duration delivery_backoff_{0};
  Duration last_progress_;
  Duration next_delivery_warning_{0};
  size_t pending_at_last_delivery_ = 0;
  bool stuck_ = false;
};

}  // namespace slawatch
