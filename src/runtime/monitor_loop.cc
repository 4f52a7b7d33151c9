#include "runtime/monitor_loop.h"

#include <algorithm>

namespace slawatch {

MonitorPolicy MonitorPolicy::shared_by(size_t workers) const {
  MonitorPolicy share = *this;
  if (workers <= 1) return share;
  share.max_timers_per_tick = (max_timers_per_tick + workers - 1) / workers;
  share.max_timers_per_second = (max_timers_per_second + workers - 1) / workers;
  return share;
}

MonitorLoop::MonitorLoop(MonitorPolicy policy, const Clock& wall, const MonotonicClock& steady, Notice warn,
                         Notice info)
    : policy_(policy),
      wall_(wall),
      steady_(steady),
      warn_(std::move(warn)),
      info_(std::move(info)),
      tokens_at_(steady.elapsed()),
      last_commit_(steady.elapsed()),
      last_progress_(steady.elapsed()) {}

size_t MonitorLoop::take_budget() {
  const Duration now = steady_.elapsed();
  const double per_second = static_cast<double>(policy_.max_timers_per_second);
  tokens_ = std::min(per_second, tokens_ + std::chrono::duration<double>(now - tokens_at_).count() * per_second);
  tokens_at_ = now;
  return std::min(policy_.max_timers_per_tick, static_cast<size_t>(tokens_));
}

Result<StepReport> MonitorLoop::step(std::span<LiveLane* const> lanes) {
  StepReport report;
  const size_t budget = take_budget();
  const Instant wall = wall_.now();
  for (LiveLane* lane : lanes) {
    if (report.fired >= budget) break;
    // The shadow pages nobody, so the budget (which protects people) does not bound it.
    auto fired = lane->fire(wall, policy_.lane_clock, budget - report.fired, policy_.max_timers_per_tick);
    if (!fired.ok()) return fired.error();
    report.fired += *fired;
  }
  tokens_ = std::max(0.0, tokens_ - static_cast<double>(report.fired));

  const Duration now = steady_.elapsed();
  const Duration since = now - last_commit_;
  for (LiveLane* lane : lanes) {
    // Alerts leave only after a commit: commit soon when there are some, so
    // the firing delay stays small; otherwise batch records for throughput.
    const bool due = (lane->has_output_to_commit() && since >= policy_.commit_with_output) ||
                     (lane->has_changes() && since >= policy_.commit_records);
    auto committed = lane->commit(due, steady_);
    if (!committed.ok()) return committed.error();
    report.committed = report.committed || *committed;
  }
  if (report.committed) last_commit_ = now;
  if (now >= next_delivery_attempt_) deliver(lanes, report);
  for (LiveLane* lane : lanes) {
    report.pending_deliveries += lane->pending_deliveries();
    report.output_waits_for_replica = report.output_waits_for_replica || lane->output_waits_for_replica();
  }
  return report;
}

// A refusal (a broker outage) is not an error: the output stays in the outbox
// and is sent again with backoff while consuming and firing go on. Delivery is
// stuck only when nothing was acknowledged for a while although records wait.
void MonitorLoop::deliver(std::span<LiveLane* const> lanes, StepReport&) {
  const Duration now = steady_.elapsed();
  if (pending_at_last_delivery_ == 0) last_progress_ = now;  // the wait starts now, not at the last idle moment
  bool refused = false;
  size_t pending = 0;
  std::string last_error;
  for (LiveLane* lane : lanes) {
    const size_t before = lane->pending_deliveries();
    if (before == 0) continue;
    if (!lane->deliver(last_error)) refused = true;
    const size_t after = lane->pending_deliveries();
    if (after < before) last_progress_ = now;
    pending += after;
  }
  pending_at_last_delivery_ = pending;
  if (pending == 0) {
    if (stuck_ && info_) info_("delivery resumed");
    stuck_ = false;
    last_progress_ = now;
  } else if (now - last_progress_ >= policy_.delivery_stuck_after && now >= next_delivery_warning_) {
    stuck_ = true;
    if (warn_) {
      warn_("delivery pending (" + std::to_string(pending) + " record(s)), nothing acknowledged for " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - last_progress_).count()) +
            " s, will retry" + (last_error.empty() ? "" : ": " + last_error));
    }
    next_delivery_warning_ = now + policy_.delivery_warning_every;
  }
  if (refused) {
    delivery_backoff_ = std::clamp(delivery_backoff_ * 2, policy_.delivery_backoff_min, policy_.delivery_backoff_max);
    next_delivery_attempt_ = now + delivery_backoff_;
  } else {
    delivery_backoff_ = Duration{0};
    next_delivery_attempt_ = now;
  }
}

Result<size_t> MonitorLoop::drain(std::span<LiveLane* const> lanes, Duration give_up) {
  for (LiveLane* lane : lanes) {
    if (auto committed = lane->commit(true, steady_); !committed.ok()) return committed.error();
  }
  const Duration deadline = steady_.elapsed() + give_up;
  constexpr int kMaxAttempts = 100;  // a manual clock never runs out on its own
  size_t left = 0;
  for (LiveLane* lane : lanes) {
    for (Pipeline* pipeline : lane->pipelines()) {
      // One delivery window at a time, each recorded by a commit before the
      // next leaves: cut off anywhere (a kill, the deadline), this leaves at
      // most one batch delivered but unrecorded, all a next owner repeats.
      int failures = 0;
      while (pipeline->pending_deliveries() > 0 && failures < kMaxAttempts && steady_.elapsed() < deadline) {
        auto delivered = pipeline->deliver_window();
        if (!delivered.ok() || *delivered == 0) ++failures;
        if (!pipeline->has_delivered_to_record()) continue;
        if (auto s = pipeline->commit_if_due(lane->position(), true); !s.ok()) return s.error();
      }
      left += pipeline->pending_deliveries();
    }
  }
  return left;
}

}  // namespace slawatch
