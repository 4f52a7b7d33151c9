#include "runtime/live_lane.h"

#include "metrics/metrics_hub.h"
#include "shadow/shadow_lane.h"

namespace slawatch {

LiveLane::LiveLane(Pipeline& active, ShadowLane* shadow, PipelineMetrics* metrics, std::string position)
    : active_(active),
      shadow_(shadow),
      pipelines_{&active, shadow != nullptr ? &shadow->pipeline() : nullptr},
      metrics_(metrics),
      position_(std::move(position)) {}

Status LiveLane::apply(const RawRecord& record, std::string position) {
  if (auto s = active_.on_record_live(record); !s.ok()) return s;
  if (shadow_ != nullptr) {
    if (auto s = shadow_->pipeline().on_record_live(record); !s.ok()) return s;
  }
  position_ = std::move(position);
  return ok_status();
}

Result<size_t> LiveLane::fire(Instant wall, const LaneClockPolicy& clock, size_t budget, size_t shadow_budget) {
  const Instant now = clock.now(wall, caught_up_, active_.latest_event_time());
  const uint64_t before = active_.engine().counters().timers_fired;
  if (auto more = active_.advance(now, budget); !more.ok()) return more.error();
  if (shadow_ != nullptr) {
    if (auto more = shadow_->pipeline().advance(now, shadow_budget); !more.ok()) return more.error();
  }
  return static_cast<size_t>(active_.engine().counters().timers_fired - before);
}

bool LiveLane::has_output_to_commit() const {
  // A full delivery window waits for the commit recording what was delivered.
  auto waiting = [](const Pipeline& p) {
    return p.has_uncommitted_output() || (p.pending_deliveries() > 0 && p.delivery_window() == 0);
  };
  return waiting(active_) || (shadow_ != nullptr && waiting(shadow_->pipeline()));
}

bool LiveLane::has_changes() const {
  auto changed = [](const Pipeline& p) { return p.has_uncommitted() || p.has_delivered_to_record(); };
  return changed(active_) || (shadow_ != nullptr && changed(shadow_->pipeline()));
}

Result<bool> LiveLane::commit(bool force, const MonotonicClock& steady) {
  const uint64_t commits = active_.counters().commits;
  const Duration started = steady.elapsed();
  if (auto s = active_.commit_if_due(position_, force); !s.ok()) return s.error();
  if (metrics_ != nullptr) metrics_->after_commit(steady.elapsed() - started);
  const bool committed = active_.counters().commits != commits;
  if (committed && shadow_ != nullptr) {
    if (auto s = shadow_->commit(position_); !s.ok()) return s.error();
  }
  return committed;
}

bool LiveLane::deliver(std::string& error) {
  bool accepted = true;
  for (Pipeline* pipeline : pipelines()) {
    if (pipeline->pending_deliveries() == 0) continue;
    if (auto s = pipeline->deliver_available(); !s.ok()) {
      accepted = false;
      error = s.error().message;
    }
  }
  return accepted;
}

bool LiveLane::output_waits_for_replica() {
  for (Pipeline* pipeline : pipelines()) {
    if (pipeline->output_waits_for_replica()) return true;
  }
  return false;
}

size_t LiveLane::pending_deliveries() {
  return active_.pending_deliveries() + (shadow_ != nullptr ? shadow_->pipeline().pending_deliveries() : 0);
}

}  // namespace slawatch
