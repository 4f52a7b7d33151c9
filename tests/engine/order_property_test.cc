// Contract section 3's central promise, checked on simulated traffic: the set
// of fired-and-not-retracted alerts depends only on the events, not on the
// order in which they arrived, and equals the breached stages computed
// directly from each case's final log.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "engine/evaluator.h"
#include "engine_fixture.h"
#include "stream_fixture.h"

namespace slawatch::testing {
namespace {

// alert id -> due_at of every breached stage with due_at <= final_clock.
std::map<std::string, Instant> breached_from_logs(const std::vector<CaseEvent>& events,
                                                  const RuleSet& rules, Instant final_clock) {
  std::map<CaseId, std::vector<CaseEvent>> logs;
  for (const auto& e : events) logs[e.case_id].push_back(e);
  std::map<std::string, Instant> out;
  for (auto& [case_id, log] : logs) {
    std::sort(log.begin(), log.end(), event_order_less);
    const CaseEvaluation evaluation = evaluate_case(log, rules);
    for (const auto& stage : evaluation.stages) {
      if (stage.status != StageStatus::due || stage.due_at > final_clock) continue;
      const auto& cycle = evaluation.cycle_of(stage);
      out[make_alert_id(case_id, cycle.rule, cycle.cycle, stage.stage)] = stage.due_at;
    }
  }
  return out;
}

std::set<std::string> ids_of(const std::map<std::string, Instant>& alerts) {
  std::set<std::string> out;
  for (const auto& [id, due] : alerts) out.insert(id);
  return out;
}

// No alert id is fired twice without a retraction in between, and nothing is
// resolved or retracted that is not standing.
void expect_consistent_lifecycle(const std::vector<Alert>& alerts, const std::string& run) {
  std::set<std::string> standing;
  size_t problems = 0;
  for (const auto& a : alerts) {
    bool ok = true;
    switch (a.kind) {
      case AlertKind::fired: ok = standing.insert(a.alert_id).second; break;
      case AlertKind::resolved: ok = standing.contains(a.alert_id); break;
      case AlertKind::retracted: ok = standing.erase(a.alert_id) == 1; break;
    }
    if (!ok && ++problems <= 5) ADD_FAILURE() << run << ": out of lifecycle: " << fingerprint(a);
  }
}

TEST(OrderIndependence, ShuffledArrivalGivesTheSameStandingAlertsAsTheLog) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  ASSERT_FALSE(rules->calendars.empty());  // the default set counts working time too

  SimulatorOptions options;
  options.seed = 4242;
  options.cases = 300;
  options.span = hours{12};
  options.late_first_response = 0.4;
  const auto events = simulated_events(options);
  ASSERT_GT(events.size(), 1500u);

  Instant max_time = kMinInstant;
  for (const auto& e : events) max_time = std::max(max_time, e.time);
  const Instant final_clock = kDefaultSimulationStart + hours{24 * 40};
  ASSERT_LT(max_time, final_clock);

  ReplayPlan plan;
  plan.final_clock = final_clock;

  const auto expected = breached_from_logs(events, *rules, final_clock);
  ASSERT_GT(expected.size(), 100u);
  std::set<std::string> rules_seen;
  for (const auto& [id, due] : expected) {
    const size_t rule_begin = id.find('/') + 1;
    rules_seen.insert(id.substr(rule_begin, id.find('/', rule_begin) - rule_begin));
  }
  EXPECT_TRUE(rules_seen.contains("normal-handling"));
  EXPECT_TRUE(rules_seen.contains("first-response"));

  const auto in_order = replay_stream(rules, events, plan);
  expect_consistent_lifecycle(in_order.alerts, "in order");
  const auto in_order_standing = standing_alerts(in_order.alerts);
  EXPECT_EQ(ids_of(in_order_standing), ids_of(expected));
  EXPECT_EQ(in_order_standing, expected) << "same ids, but a standing alert's due_at differs";

  std::mt19937 random(99);
  for (int round = 0; round < 20; ++round) {
    auto shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), random);
    const auto run = replay_stream(rules, shuffled, plan);
    const std::string name = "shuffle " + std::to_string(round);
    expect_consistent_lifecycle(run.alerts, name);
    const auto standing = standing_alerts(run.alerts);
    const auto got = ids_of(standing);
    const auto want = ids_of(expected);
    std::vector<std::string> missing, extra;
    std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                        std::back_inserter(missing));
    std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                        std::back_inserter(extra));
    EXPECT_TRUE(missing.empty() && extra.empty())
        << name << ": " << missing.size() << " missing (first: "
        << (missing.empty() ? "-" : missing.front()) << "), " << extra.size()
        << " extra (first: " << (extra.empty() ? "-" : extra.front()) << ")";
    size_t stale_due = 0;
    std::string example;
    for (const auto& [id, due] : standing) {
      auto it = expected.find(id);
      if (it != expected.end() && it->second != due) {
        if (stale_due++ == 0) {
          example = id + " fired with due " + format_rfc3339_utc(due) + ", log says " +
                    format_rfc3339_utc(it->second);
        }
      }
    }
    EXPECT_EQ(stale_due, 0u) << name << ": standing alerts whose due_at is stale, e.g. " << example;
  }
}

}  // namespace
}  // namespace slawatch::testing
