#pragma once
// Test support for whole-stream engine tests: simulator traffic parsed by the
// real intake, the default rule set, and a replay driver whose commit and
// restart points can be chosen, reporting every alert it emitted.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "intake/cloudevent.h"
#include "rules/rules.h"
#include "sim/simulator.h"
#include "state/store.h"

namespace slawatch::testing {

// The repository's default rules (rules/), loaded once per call.
inline std::shared_ptr<const RuleSet> default_rules() {
  auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
  return loaded.rules;
}

// Every record of a simulated stream that the intake accepts, in arrival order
// (duplicates included when the options ask for them).
inline std::vector<CaseEvent> simulated_events(const SimulatorOptions& options) {
  HotlineSimulator sim(options);
  CloudEventParser parser;
  std::vector<CaseEvent> out;
  SimRecord record;
  while (sim.next(record)) {
    auto parsed = parser.parse(record.line);
    if (record.kind == RecordKind::malformed) continue;
    EXPECT_TRUE(parsed.ok()) << record.line << ": "
                             << (parsed.ok() ? "" : parsed.error().message);
    if (parsed.ok()) out.push_back(std::move(parsed).value());
  }
  return out;
}

// An alert reduced to what must be identical between two runs of one input.
inline std::string fingerprint(const Alert& a) {
  std::string s = std::string(to_string(a.kind)) + " " + a.alert_id +
                  " due=" + format_rfc3339_utc(a.due_at) +
                  " emitted=" + format_rfc3339_utc(a.emitted_at) + " dept=" + a.department;
  if (a.closed_at) s += " closed=" + format_rfc3339_utc(*a.closed_at);
  if (!a.event_id.empty()) s += " event=" + std::string(a.event_id.str());
  return s;
}

struct ReplayPlan {
  EngineOptions options;
  // Called with the index of the event about to be applied: commit before it?
  std::function<bool(size_t)> commit_before = [](size_t) { return false; };
  // ... and start a new engine on the same store after that commit?
  std::function<bool(size_t)> restart_before = [](size_t) { return false; };
  Instant final_clock = kMinInstant;
};

struct ReplayResult {
  std::vector<Alert> alerts;
  uint64_t duplicates = 0;
  size_t commits = 0;
  size_t restarts = 0;
};

// Replay clock: each event is applied, then the clock moves to the largest
// event time seen so far; at the end it moves to plan.final_clock.
inline ReplayResult replay_stream(std::shared_ptr<const RuleSet> rules,
                                  const std::vector<CaseEvent>& events, const ReplayPlan& plan) {
  ReplayResult result;
  MemoryStateStore store;
  auto engine = std::make_unique<Engine>(rules, store, plan.options);
  auto commit = [&] {
    StateBatch batch;
    engine->flush_into(batch);
    batch.checkpoint = Checkpoint{engine->clock(), "", 1};
    auto s = store.commit(batch);
    EXPECT_TRUE(s.ok());
    ++result.commits;
  };
  auto advance = [&](Instant now) {
    auto more = engine->advance(now, result.alerts);
    EXPECT_TRUE(more.ok());
    EXPECT_FALSE(more.ok() && *more);
  };
  Instant max_time = kMinInstant;
  for (size_t i = 0; i < events.size(); ++i) {
    const bool restart = plan.restart_before(i);
    if (restart || plan.commit_before(i)) commit();
    if (restart) {
      result.duplicates += engine->counters().duplicates;
      engine = std::make_unique<Engine>(rules, store, plan.options);
      EXPECT_TRUE(engine->open().ok());
      ++result.restarts;
    }
    auto outcome = engine->apply(events[i], result.alerts);
    EXPECT_TRUE(outcome.ok());
    max_time = std::max(max_time, events[i].time);
    advance(max_time);
  }
  advance(plan.final_clock);
  result.duplicates += engine->counters().duplicates;
  return result;
}

inline std::vector<std::string> fingerprints(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(fingerprint(a));
  return out;
}

// Two runs of one input must emit the same alerts in the same order; on a
// difference, names the first one instead of printing thousands.
inline void expect_same_alerts(const std::vector<Alert>& got, const std::vector<Alert>& want,
                               const std::string& run) {
  const auto g = fingerprints(got);
  const auto w = fingerprints(want);
  size_t i = 0;
  while (i < g.size() && i < w.size() && g[i] == w[i]) ++i;
  if (i == g.size() && i == w.size()) return;
  ADD_FAILURE() << run << ": " << g.size() << " alerts vs " << w.size() << " expected; first difference at #"
                << i << ":\n  got:      " << (i < g.size() ? g[i] : "(end)")
                << "\n  expected: " << (i < w.size() ? w[i] : "(end)");
}

// alert id -> due_at of the fired alerts not retracted (nor re-fired) since.
inline std::map<std::string, Instant> standing_alerts(const std::vector<Alert>& alerts) {
  std::map<std::string, Instant> standing;
  for (const auto& a : alerts) {
    if (a.kind == AlertKind::fired) standing[a.alert_id] = a.due_at;
    if (a.kind == AlertKind::retracted) standing.erase(a.alert_id);
  }
  return standing;
}

}  // namespace slawatch::testing
