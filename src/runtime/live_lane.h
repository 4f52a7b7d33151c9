#pragma once
// One live partition as the monitor loop drives it: the active pipeline and,
// with a `shadow:` section, the candidate's, which reads the same records,
// fires on the same clock and commits at the same input positions (the
// ShadowLane contract). Knows its input position and whether its input is
// caught up (the source says so), which sets its clock (LaneClockPolicy).
// Not thread-safe: one thread drives a lane at a time.
#include <array>
#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "io/io.h"
#include "model/result.h"
#include "model/time.h"
#include "pipeline/lane_clock.h"
#include "pipeline/pipeline.h"

namespace slawatch {

class ShadowLane;
class PipelineMetrics;

class LiveLane {
 public:
  // `shadow` and `metrics` may be null. `position` is where the committed state
  // stands (from Pipeline::recover), reported until a record moves it.
  LiveLane(Pipeline& active, ShadowLane* shadow, PipelineMetrics* metrics, std::string position);

  // The record goes to both lanes; `position` is the input position after it.
  Status apply(const RawRecord& record, std::string position);

  // Fires what is due at the lane's clock: at most `budget` active timers (the
  // shadow, which pages nobody, is bounded by `shadow_budget` alone). Returns
  // how many active timers fired.
  Result<size_t> fire(Instant wall, const LaneClockPolicy& clock, size_t budget, size_t shadow_budget);

  // Produced output (alerts, dead letters) waits for a commit to leave.
  bool has_output_to_commit() const;
  // Anything a commit would record: records read, output, delivered entries.
  bool has_changes() const;
  // Commits the active lane when `force` or its batch is full, and the shadow
  // whenever the active lane committed. True when a commit happened.
  Result<bool> commit(bool force, const MonotonicClock& steady);
  // Sends committed output without waiting and retires what was acknowledged.
  // False when a sink turned a record away (`error` says why): retry with backoff.
  bool deliver(std::string& error);
  size_t pending_deliveries();
  bool output_waits_for_replica();
  // The active pipeline, then the shadow's when there is one (asked on every
  // loop turn, so held rather than built per call).
  std::span<Pipeline* const> pipelines() const { return {pipelines_.data(), shadow_ != nullptr ? 2u : 1u}; }

  void set_caught_up(bool caught_up) { caught_up_ = caught_up; }
  bool caught_up() const { return caught_up_; }
  const std::string& position() const { return position_; }
  Pipeline& active() { return active_; }
  ShadowLane* shadow() { return shadow_; }
  PipelineMetrics* metrics() { return metrics_; }

 private:
  Pipeline& active_;
  ShadowLane* shadow_;
  std::array<Pipeline*, 2> pipelines_;
  PipelineMetrics* metrics_;
  std::string position_;
  bool caught_up_ = false;
};

}  // namespace slawatch
