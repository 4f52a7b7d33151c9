#include "metrics/state_metrics.h"

#include <array>
#include <limits>
#include <tuple>

#include "pipeline/state_tallies.h"

namespace slawatch {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

std::vector<ClientMetric::Label> labels(const std::string& ruleset,
                                        std::initializer_list<std::pair<const char*, const std::string*>> named) {
  std::vector<ClientMetric::Label> out;
  for (const auto& [name, value] : named) out.push_back({name, *value});
  if (!ruleset.empty()) out.push_back({"ruleset", ruleset});
  return out;
}

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric valued(std::vector<ClientMetric::Label> label, MetricType type, double value) {
  ClientMetric m;
  m.label = std::move(label);
  if (type == MetricType::Gauge) {
    m.gauge.value = value;
  } else {
    m.counter.value = value;
  }
  return m;
}

}  // namespace

static_assert(std::tuple_size_v<decltype(StateMetrics::Closed::buckets)> == kCycleElapsedBuckets.size() + 1);

StateMetrics::Slot StateMetrics::add(RuleSetRole role) {
  std::lock_guard lock(mutex_);
  const Slot slot = next_slot_++;
  slots_[slot].role = role;
  return slot;
}

void StateMetrics::update(Slot slot, Tallies tallies) {
  std::lock_guard lock(mutex_);
  if (auto it = slots_.find(slot); it != slots_.end()) it->second.tallies = std::move(tallies);
}

void StateMetrics::remove(Slot slot) {
  std::lock_guard lock(mutex_);
  slots_.erase(slot);
}

std::vector<MetricFamily> StateMetrics::collect() {
  std::lock_guard lock(mutex_);
  // Series seen before stay, at zero: "nothing overdue" is a value, not a gap.
  auto& overdue = overdue_;
  auto& open = open_;
  auto& closed = closed_;
  for (auto& [key, count] : overdue) count = 0;
  for (auto& [key, count] : open) count = 0;
  for (auto& [key, outcomes] : closed) outcomes = {};
  {
    for (const auto& [slot, entry] : slots_) {
      const std::string ruleset = entry.role == RuleSetRole::shadow ? "shadow" : "";
      for (const auto& [name, value] : entry.tallies) {
        auto key = decode_tally_key(name);
        if (!key) continue;  // written by another version: not ours to show
        const std::string department = departments_.admit(key->department);
        const CycleLabels cycle{ruleset, key->rule, department};
        Closed* outcome = &closed[cycle][key->breached ? 1 : 0];
        switch (key->kind) {
          case TallyKey::Kind::overdue_alerts: overdue[{ruleset, key->rule, key->stage, department}] += value; break;
          case TallyKey::Kind::open_cycles: open[cycle] += value; break;
          case TallyKey::Kind::closed_cycles: outcome->count += value; break;
          case TallyKey::Kind::closed_elapsed: outcome->elapsed_ms += value; break;
          case TallyKey::Kind::closed_bucket: outcome->buckets[key->bucket] += value; break;
        }
      }
    }
  }

  std::vector<MetricFamily> out;
  auto overdue_family = family("slawatch_overdue_alerts",
                               "Stages overdue now: fired and neither resolved nor retracted, by rule, stage and "
                               "department at due time; counted in the committed state.",
                               MetricType::Gauge);
  for (const auto& [key, count] : overdue) {
    const auto& [ruleset, rule, stage, department] = key;
    overdue_family.metric.push_back(valued(
        labels(ruleset, {{"rule", &rule}, {"stage", &stage}, {"department", &department}}), MetricType::Gauge,
        static_cast<double>(count)));
  }
  out.push_back(std::move(overdue_family));

  const std::string by_cycle = ", by rule and department at the cycle's start.";
  auto open_family = family("slawatch_open_cycles", "Deadline cycles open now" + by_cycle, MetricType::Gauge);
  auto opened_family =
      family("slawatch_cycles_opened_total", "Deadline cycles opened (open now, met or breached)" + by_cycle,
             MetricType::Counter);
  auto met_family = family("slawatch_cycles_met_total",
                           "Deadline cycles closed at or before the due time of their breach stage" + by_cycle,
                           MetricType::Counter);
  auto breached_family = family("slawatch_cycles_breached_total",
                                "Deadline cycles closed after the due time of their breach stage (the first stage "
                                "at or past 100% of the target)" + by_cycle,
                                MetricType::Counter);
  auto elapsed_family = family("slawatch_cycle_elapsed_seconds",
                               "Elapsed time of each closed deadline cycle on its rule's calendar (pauses excluded), "
                               "by rule and department at the cycle's start: for rule first-response the time to "
                               "the first response.",
                               MetricType::Histogram);
  std::map<CycleLabels, int64_t> opened = open;
  for (const auto& [key, outcomes] : closed) {
    opened[key] += outcomes[0].count + outcomes[1].count;
    open.try_emplace(key, 0);  // a rule and department with cycles has an open gauge, 0 or not
  }
  for (const auto& [key, count] : open) {
    const auto& [ruleset, rule, department] = key;
    open_family.metric.push_back(valued(labels(ruleset, {{"rule", &rule}, {"department", &department}}),
                                        MetricType::Gauge, static_cast<double>(count)));
  }
  for (const auto& [key, count] : opened) {
    const auto& [ruleset, rule, department] = key;
    const auto label = labels(ruleset, {{"rule", &rule}, {"department", &department}});
    opened_family.metric.push_back(valued(label, MetricType::Counter, static_cast<double>(count)));
    auto found = closed.find(key);
    const Closed met = found == closed.end() ? Closed{} : found->second[0];
    const Closed breached = found == closed.end() ? Closed{} : found->second[1];
    met_family.metric.push_back(valued(label, MetricType::Counter, static_cast<double>(met.count)));
    breached_family.metric.push_back(valued(label, MetricType::Counter, static_cast<double>(breached.count)));
    if (found == closed.end()) continue;
    ClientMetric histogram;
    histogram.label = label;
    histogram.histogram.sample_count = static_cast<uint64_t>(met.count + breached.count);
    histogram.histogram.sample_sum = static_cast<double>(met.elapsed_ms + breached.elapsed_ms) / 1000.0;
    int64_t cumulative = 0;
    for (size_t i = 0; i <= kCycleElapsedBuckets.size(); ++i) {
      cumulative += met.buckets[i] + breached.buckets[i];
      const double bound =
          i < kCycleElapsedBuckets.size() ? kCycleElapsedBuckets[i] : std::numeric_limits<double>::infinity();
      histogram.histogram.bucket.push_back({static_cast<uint64_t>(cumulative), bound});
    }
    elapsed_family.metric.push_back(std::move(histogram));
  }
  for (auto* f : {&open_family, &opened_family, &met_family, &breached_family, &elapsed_family}) {
    out.push_back(std::move(*f));
  }
  return out;
}

}  // namespace slawatch
