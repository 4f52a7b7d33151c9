#pragma once
// The metrics that are state, not events: overdue stages, open cycles, and
// closed cycles with their outcome and elapsed time. Each pipeline's
// committed tallies (pipeline/state_tallies.h) are copied into a slot after
// its commits; a scrape sums the slots. So the numbers are exact, equal to
// what the committed case records say, and right straight after a restart
// (the tallies are read back from the state) or a rule reload (the repair
// commits its changes to them).
// Thread-safe: pipeline threads update their slots, HTTP threads collect.
#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <map>
#include <mutex>
#include <vector>

#include <prometheus/metric_family.h>

#include "metrics/probes.h"
#include "state/store.h"

namespace slawatch {

class StateMetrics {
 public:
  using Slot = uint64_t;
  explicit StateMetrics(size_t department_limit = 500) : departments_(department_limit) {}

  // A slot for one pipeline's tallies, empty until update().
  Slot add(RuleSetRole role);
  void update(Slot slot, Tallies tallies);
  // The pipeline is gone (a partition handed over): its numbers leave.
  void remove(Slot slot);

  // slawatch_overdue_alerts, slawatch_open_cycles, slawatch_cycles_{opened,met,breached}_total,
  // slawatch_cycle_elapsed_seconds, summed over the slots.
  std::vector<prometheus::MetricFamily> collect();

  struct Closed {
    int64_t count = 0;
    int64_t elapsed_ms = 0;
    std::array<int64_t, 18> buckets{};  // per bucket, not cumulative; the last is +Inf
  };

 private:
  // (ruleset, rule, department) and (ruleset, rule, stage, department).
  using CycleLabels = std::tuple<std::string, std::string, std::string>;
  using StageLabels = std::tuple<std::string, std::string, std::string, std::string>;

  struct Entry {
    RuleSetRole role = RuleSetRole::active;
    Tallies tallies;
  };
  BoundedLabelValues departments_;
  std::mutex mutex_;
  Slot next_slot_ = 1;
  std::map<Slot, Entry> slots_;
  // The sums of the last collect(), by label set.
  std::map<StageLabels, int64_t> overdue_;
  std::map<CycleLabels, int64_t> open_;
  std::map<CycleLabels, std::array<Closed, 2>> closed_;  // [breached]
};

}  // namespace slawatch
