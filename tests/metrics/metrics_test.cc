// Metrics: what the probes export for a given event and alert stream. Times
// are measured only for pairs that arrive in order; histogram buckets sit on
// the SLA limits (a response at exactly 30 min is within 30 min, 1 ms later
// is not); gauges never go below zero; department labels are capped; the hub
// chains the caller's observers after its own.
#include "metrics/metrics_hub.h"

#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "state/store.h"

namespace slawatch {
namespace {

using prometheus::MetricType;

std::shared_ptr<const RuleSet> shipped_rules() {
  auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  EXPECT_TRUE(loaded.diagnostics.empty()) << loaded.diagnostics.front().to_string();
  return loaded.rules;
}

// A wanted label with an empty value must be absent (the active rule set's
// series have no `ruleset` label).
bool has_labels(const prometheus::ClientMetric& metric, const std::map<std::string, std::string>& wanted) {
  size_t matched = 0;
  for (const auto& label : metric.label) {
    auto it = wanted.find(label.name);
    if (it == wanted.end()) continue;
    if (it->second != label.value) return false;
    ++matched;
  }
  for (const auto& [name, wanted_value] : wanted) {
    if (wanted_value.empty()) ++matched;
  }
  return matched == wanted.size();
}

// The value of the one series of `name` with these labels; -1 when absent.
// Histograms: the sample count, or with `le` the cumulative bucket count.
double value(prometheus::Registry& registry, const std::string& name,
             std::map<std::string, std::string> labels = {}) {
  std::optional<double> le;
  if (auto it = labels.find("le"); it != labels.end()) {
    le = std::stod(it->second);
    labels.erase(it);
  }
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      if (!has_labels(metric, labels)) continue;
      switch (family.type) {
        case MetricType::Counter: return metric.counter.value;
        case MetricType::Gauge: return metric.gauge.value;
        case MetricType::Histogram:
          if (!le) return static_cast<double>(metric.histogram.sample_count);
          for (const auto& bucket : metric.histogram.bucket) {
            if (bucket.upper_bound == *le) return static_cast<double>(bucket.cumulative_count);
          }
          return -1;
        default: return -1;
      }
    }
  }
  return -1;
}

Instant at(const std::string& text) { return *parse_rfc3339(text); }

CaseEvent make_event(const std::string& case_id, EventType type, const std::string& time,
                     const std::string& department = "") {
  CaseEvent e;
  e.id = EventId{case_id + "/" + std::string(to_string(type)) + "/" + time};
  e.case_id = CaseId{case_id};
  e.type = type;
  e.time = at(time);
  e.department = department;
  return e;
}

CaseEvent created(const std::string& case_id, const std::string& time, const std::string& priority) {
  auto e = make_event(case_id, EventType::created, time);
  e.category = "noise";
  e.channel = "phone";
  e.priority = priority;
  return e;
}

Alert make_alert(AlertKind kind, const std::string& case_id, const std::string& rule, const std::string& stage,
                 const std::string& department) {
  Alert a;
  a.kind = kind;
  a.case_id = CaseId{case_id};
  a.rule = RuleId{rule};
  a.stage = stage;
  a.department = department;
  a.alert_id = make_alert_id(a.case_id, a.rule, 1, stage);
  return a;
}

struct TrackerHarness {
  explicit TrackerHarness(size_t capacity = 100) : rules(shipped_rules()), probe(registry),
                                                   tracker(rules, probe, capacity) {}
  prometheus::Registry registry;
  std::shared_ptr<const RuleSet> rules;
  BusinessProbe probe;
  CaseTracker tracker;
};

TEST(FirstResponse, ExactlyThirtyMinutesIsWithinTheThirtyMinuteBucket) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:30:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "1800"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "1440"}}), 0);
}

TEST(FirstResponse, OneMillisecondLateFallsOutOfTheThirtyMinuteBucket) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:30:00.001Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "1800"}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "2700"}}), 1);
}

TEST(FirstResponse, AcknowledgementArrivingBeforeItsDispatchIsNotMeasured) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:10:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}}), -1);
}

TEST(FirstResponse, OnlyTheFirstResponseToADispatchCounts) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:05:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:50:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "300"}}), 1);
}

TEST(EmergencyHandling, TwentyFourHoursIsWithinAndOneMillisecondMoreIsNot) {
  TrackerHarness h;
  h.tracker.on_event(created("E-1", "2026-03-02T09:00:00Z", "emergency"));
  h.tracker.on_event(make_event("E-1", EventType::dispatched, "2026-03-02T09:01:00Z", "water"));
  h.tracker.on_event(make_event("E-1", EventType::resolved, "2026-03-03T09:00:00Z"));
  h.tracker.on_event(created("E-2", "2026-03-02T09:00:00Z", "emergency"));
  h.tracker.on_event(make_event("E-2", EventType::dispatched, "2026-03-02T09:01:00Z", "water"));
  h.tracker.on_event(make_event("E-2", EventType::resolved, "2026-03-03T09:00:00.001Z"));
  EXPECT_EQ(value(h.registry, "slawatch_emergency_handling_seconds", {{"department", "water"}}), 2);
  EXPECT_EQ(value(h.registry, "slawatch_emergency_handling_seconds", {{"department", "water"}, {"le", "86400"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cases_created_total", {{"priority", "emergency"}}), 2);
}

TEST(EmergencyHandling, NormalCasesAreNotMeasured) {
  TrackerHarness h;
  h.tracker.on_event(created("N-1", "2026-03-02T09:00:00Z", "normal"));
  h.tracker.on_event(make_event("N-1", EventType::resolved, "2026-03-02T10:00:00Z", "water"));
  EXPECT_EQ(value(h.registry, "slawatch_emergency_handling_seconds", {{"department", "water"}}), -1);
  EXPECT_EQ(value(h.registry, "slawatch_cases_created_total", {{"priority", "normal"}}), 1);
}

TEST(Cycles, AcknowledgedBeforeTheBreachIsMet) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  const std::map<std::string, std::string> labels{{"rule", "first-response"}, {"department", "roads"}};
  EXPECT_EQ(value(h.registry, "slawatch_cycles_opened_total", labels), 1);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", labels), 1);
  // The warning stage is not the breach: the cycle is still met.
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-1", "first-response", "warning", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:29:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_cycles_met_total", labels), 1);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", labels), 0);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_breached_total", labels), -1);
}

TEST(Cycles, BreachStageFiredMeansNotMet) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-1", "first-response", "breach", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:45:00Z", "roads"));
  const std::map<std::string, std::string> labels{{"rule", "first-response"}, {"department", "roads"}};
  EXPECT_EQ(value(h.registry, "slawatch_cycles_breached_total", labels), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_met_total", labels), -1);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", labels), 0);
}

TEST(Cycles, RetractedBreachMakesTheCycleMetAgain) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-1", "first-response", "breach", "roads"));
  h.tracker.on_alert(make_alert(AlertKind::retracted, "C-1", "first-response", "breach", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:20:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_cycles_met_total", {{"rule", "first-response"}, {"department", "roads"}}),
            1);
}

TEST(Cycles, EmergencyCycleFollowsTheCaseToItsDepartment) {
  TrackerHarness h;
  h.tracker.on_event(created("E-1", "2026-03-02T09:00:00Z", "emergency"));
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "emergency-handling"}, {"department", "none"}}), 1);
  h.tracker.on_event(make_event("E-1", EventType::dispatched, "2026-03-02T09:01:00Z", "water"));
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "emergency-handling"}, {"department", "none"}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "emergency-handling"}, {"department", "water"}}), 1);
  // `when: priority emergency` keeps normal-handling closed for this case.
  EXPECT_EQ(value(h.registry, "slawatch_cycles_opened_total", {{"rule", "normal-handling"}}), -1);
}

TEST(Cycles, ForgottenCaseLeavesTheOpenGaugeAndIsNotMeasuredLater) {
  TrackerHarness h(1);
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_event(make_event("C-2", EventType::dispatched, "2026-03-02T09:00:00Z", "parks"));
  EXPECT_EQ(h.tracker.tracked_cases(), 1u);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "first-response"}, {"department", "roads"}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "first-response"}, {"department", "parks"}}), 1);
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:05:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}}), -1);
}

TEST(Cycles, ARuleReloadForgetsOpenCyclesButKeepsWaitingFirstResponses) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "first-response"}, {"department", "roads"}}), 1);
  h.tracker.replace_rules(shipped_rules());
  // The new set decides what a cycle is: the open one is no longer counted (nor measured as met).
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "first-response"}, {"department", "roads"}}), 0);
  // The response to the dispatch seen before the reload is still measured, exactly on the 30-minute bucket.
  h.tracker.on_event(make_event("C-1", EventType::acknowledged, "2026-03-02T09:30:00Z", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}, {"le", "1800"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_met_total", {{"rule", "first-response"}, {"department", "roads"}}),
            -1);
  // Cycles opened after the reload are followed under the new set.
  h.tracker.on_event(make_event("C-2", EventType::dispatched, "2026-03-02T10:00:00Z", "parks"));
  EXPECT_EQ(value(h.registry, "slawatch_open_cycles", {{"rule", "first-response"}, {"department", "parks"}}), 1);
}

TEST(Alerts, OverdueGaugeCountsFiredUntilResolvedAndNeverGoesNegative) {
  TrackerHarness h;
  const std::map<std::string, std::string> labels{{"rule", "first-response"}, {"stage", "breach"},
                                                  {"department", "roads"}};
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-1", "first-response", "breach", "roads"));
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-2", "first-response", "breach", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_overdue_alerts", labels), 2);
  h.tracker.on_alert(make_alert(AlertKind::resolved, "C-1", "first-response", "breach", "roads"));
  h.tracker.on_alert(make_alert(AlertKind::retracted, "C-2", "first-response", "breach", "roads"));
  // Resolved after a restart: its firing was before this process started.
  h.tracker.on_alert(make_alert(AlertKind::resolved, "C-3", "first-response", "breach", "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_overdue_alerts", labels), 0);
  auto kind = [&](const std::string& k) {
    auto l = labels;
    l["kind"] = k;
    return value(h.registry, "slawatch_alerts_total", l);
  };
  EXPECT_EQ(kind("fired"), 2);
  EXPECT_EQ(kind("resolved"), 2);
  EXPECT_EQ(kind("retracted"), 1);
}

TEST(Alerts, EachNotifiedRoleIsCountedOncePerFiring) {
  TrackerHarness h;
  auto alert = make_alert(AlertKind::fired, "C-1", "first-response", "escalated", "roads");
  alert.notify = {{"city.hotline_office", "Li"}, {"city.discipline_inspection", ""}};
  h.tracker.on_alert(alert);
  alert.kind = AlertKind::resolved;
  h.tracker.on_alert(alert);
  EXPECT_EQ(value(h.registry, "slawatch_alert_notifications_total",
                  {{"role", "city.discipline_inspection"}, {"stage", "escalated"}}),
            1);
  EXPECT_EQ(value(h.registry, "slawatch_alert_notifications_total", {{"role", "city.hotline_office"}}), 1);
}

TEST(Alerts, CountRuleThresholdIsABreach) {
  TrackerHarness h;
  h.tracker.on_alert(make_alert(AlertKind::fired, "C-1", "repeated-return", std::string(kCountStageName), "roads"));
  EXPECT_EQ(value(h.registry, "slawatch_cycles_breached_total", {{"rule", "repeated-return"}, {"department", "roads"}}),
            1);
}

TEST(BuckPassing, ReturnsAndTransfersAreCountedByTheDepartmentPassingTheCaseOn) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  h.tracker.on_event(make_event("C-1", EventType::returned, "2026-03-02T09:10:00Z", "roads"));
  auto transfer = make_event("C-1", EventType::dispatched, "2026-03-02T09:20:00Z", "parks");
  h.tracker.on_event(transfer);
  auto explicit_from = make_event("C-1", EventType::dispatched, "2026-03-02T09:30:00Z", "water");
  explicit_from.from_department = "hotline";
  h.tracker.on_event(explicit_from);
  // A dispatch to the department the case is already with is not a transfer.
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:40:00Z", "water"));
  EXPECT_EQ(value(h.registry, "slawatch_case_returns_total", {{"department", "roads"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_case_transfers_total", {{"department", "roads"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_case_transfers_total", {{"department", "hotline"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_case_transfers_total", {{"department", "parks"}}), -1);
  EXPECT_EQ(value(h.registry, "slawatch_case_transfers_total", {{"department", "water"}}), -1);
}

TEST(Feedback, SatisfiedAndNotSatisfiedByTheCaseDepartment) {
  TrackerHarness h;
  h.tracker.on_event(make_event("C-1", EventType::dispatched, "2026-03-02T09:00:00Z", "roads"));
  auto feedback = make_event("C-1", EventType::feedback, "2026-03-05T09:00:00Z");
  feedback.satisfied = false;
  h.tracker.on_event(feedback);
  feedback.satisfied = true;
  feedback.id = EventId{"f2"};
  h.tracker.on_event(feedback);
  EXPECT_EQ(value(h.registry, "slawatch_feedback_total", {{"department", "roads"}, {"satisfied", "false"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_feedback_total", {{"department", "roads"}, {"satisfied", "true"}}), 1);
}

TEST(BoundedLabelValues, KeepsTheFirstValuesThenSaysOther) {
  BoundedLabelValues values(2);
  EXPECT_EQ(values.admit("roads"), "roads");
  EXPECT_EQ(values.admit("parks"), "parks");
  EXPECT_EQ(values.admit("water"), "other");
  EXPECT_EQ(values.admit("roads"), "roads");
  EXPECT_EQ(values.admit(""), "none");
}

TEST(DeadLetterReasonClass, MapsTheIntakeMessagesToAFixedSet) {
  EXPECT_EQ(dead_letter_reason_class("invalid JSON: A string is opened, but never closed."), "json");
  EXPECT_EQ(dead_letter_reason_class("record is not a JSON object (got array)"), "json");
  EXPECT_EQ(dead_letter_reason_class("record too large (2000000 bytes, limit 1048576)"), "oversize");
  EXPECT_EQ(dead_letter_reason_class("field 'data.department': longer than 128 bytes (2048)"), "attribute");
  EXPECT_EQ(dead_letter_reason_class("conflicting duplicate: event id a-1 of case HK-7 is already applied"),
            "conflicting_duplicate");
  EXPECT_EQ(dead_letter_reason_class("field 'type': unknown event type 'x'"), "type");
  EXPECT_EQ(dead_letter_reason_class("field 'time': bad time"), "time");
  EXPECT_EQ(dead_letter_reason_class("field 'subject': invalid case id"), "subject");
  EXPECT_EQ(dead_letter_reason_class("field 'typo': required string is missing"), "attribute");
  EXPECT_EQ(dead_letter_reason_class("field 'data.department': required string is empty"), "data");
  EXPECT_EQ(dead_letter_reason_class("case C-1 has reached its event limit; event e was not applied"), "case_full");
  EXPECT_EQ(dead_letter_reason_class("something new"), "other");
}

TEST(Chain, CallsBothInOrderAndToleratesAnEmptySide) {
  std::vector<int> calls;
  std::function<void(int)> first = [&](int v) { calls.push_back(v); };
  std::function<void(int)> second = [&](int v) { calls.push_back(v * 10); };
  chain(first, second)(2);
  chain(std::function<void(int)>{}, second)(3);
  chain(first, std::function<void(int)>{})(4);
  EXPECT_EQ(calls, (std::vector<int>{2, 20, 30, 4}));
  EXPECT_FALSE(chain(std::function<void(int)>{}, std::function<void(int)>{}));
}

std::string event_line(const std::string& id, const std::string& type, const std::string& case_id,
                       const std::string& time, const std::string& data) {
  return R"({"specversion":"1.0","id":")" + id + R"(","source":"/test","type":"hotline.case.)" + type +
         R"(","subject":")" + case_id + R"(","time":")" + time + R"(","data":)" + data + "}";
}

RawRecord record(std::string bytes) {
  RawRecord r;
  r.bytes = std::move(bytes);
  r.origin = "test";
  return r;
}

struct PipelineHarness {
  PipelineHarness()
      : clock(at("2026-03-02T09:10:00Z")),
        engine(shipped_rules(), store, EngineOptions{}),
        pipeline(engine, store, alerts, dead, options()),
        hub(registry, clock, BuildInfo{"1.2.3", "abc"}) {
    EXPECT_TRUE(engine.open().ok());
  }
  static PipelineOptions options() {
    PipelineOptions o;
    o.batch_records = 2;
    return o;
  }
  prometheus::Registry registry;
  ManualClock clock;
  MemoryStateStore store;
  NullSink alerts, dead;
  Engine engine;
  Pipeline pipeline;
  MetricsHub hub;
};

const std::string kDispatched = event_line("e1", "dispatched", "C-1", "2026-03-02T09:00:00Z", R"({"department":"roads"})");

TEST(MetricsHub, CountsEventsByOutcomeAndKeepsTheCallersObservers) {
  PipelineHarness h;
  int rejects_seen = 0, events_seen = 0, alerts_seen = 0;
  PipelineObservers also;
  also.reject = [&](const RawRecord&, const std::string&) { ++rejects_seen; };
  also.event = [&](const CaseEvent&, ApplyOutcome) { ++events_seen; };
  also.alert = [&](const Alert&) { ++alerts_seen; };
  auto metrics = h.hub.attach(h.pipeline, "0", also);
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(record("{not json")).ok());
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T09:30:00Z")).ok());  // warning and breach fall due
  EXPECT_EQ(value(h.registry, "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "applied"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "duplicate"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_events_total", {{"type", "invalid"}, {"outcome", "dead_lettered"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_dead_letters_total", {{"reason", "json"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_alerts_total", {{"stage", "breach"}, {"kind", "fired"}}), 1);
  EXPECT_EQ(rejects_seen, 1);
  EXPECT_EQ(events_seen, 2);
  EXPECT_EQ(alerts_seen, 2);
  // Lag is the manual clock (09:10) minus the event time (09:00): 600 s, twice.
  EXPECT_EQ(value(h.registry, "slawatch_event_lag_seconds", {{"le", "300"}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_event_lag_seconds", {{"le", "900"}}), 2);
  // The clock jumped to 09:30: the breach fired exactly at its due time, the
  // warning (due 09:24) six minutes after it.
  EXPECT_EQ(value(h.registry, "slawatch_timer_fire_delay_seconds", {{"le", "0.1"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_timer_fire_delay_seconds", {{"le", "300"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_timer_fire_delay_seconds", {{"le", "900"}}), 2);
  EXPECT_EQ(value(h.registry, "slawatch_build_info", {{"version", "1.2.3"}, {"rules_version", "abc"}}), 1);
}

TEST(MetricsHub, RecordsABatchOnlyWhenACommitHappened) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "3");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1").ok());  // 1 of 2 records: not due
  metrics->after_commit(std::chrono::milliseconds(5));
  EXPECT_EQ(value(h.registry, "slawatch_commits_total", {{"partition", "3"}}), -1);
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->after_commit(std::chrono::milliseconds(5));
  EXPECT_EQ(value(h.registry, "slawatch_commits_total", {{"partition", "3"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_commit_batch_records", {{"partition", "3"}, {"le", "1"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_commit_batch_records", {{"partition", "3"}, {"le", "0"}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_commit_duration_seconds", {{"partition", "3"}, {"le", "0.005"}}), 1);
}

TEST(MetricsHub, SampleCopiesThePipelineGauges) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T09:30:00Z")).ok());
  metrics->sample(7);
  EXPECT_EQ(value(h.registry, "slawatch_outbox_depth", {{"partition", "0"}}), 2);  // two alerts, not committed
  EXPECT_EQ(value(h.registry, "slawatch_input_lag_records", {{"partition", "0"}}), 7);
  EXPECT_EQ(value(h.registry, "slawatch_pending_timers", {{"partition", "0"}}), 0);  // nothing committed yet
  EXPECT_EQ(value(h.registry, "slawatch_timers_fired_total"), static_cast<double>(h.engine.counters().timers_fired));
  EXPECT_GT(h.engine.counters().timers_fired, 0u);
  metrics->sample(0);  // no new timers: the counter does not move
  EXPECT_EQ(value(h.registry, "slawatch_timers_fired_total"), static_cast<double>(h.engine.counters().timers_fired));
}

TEST(MetricsHub, PendingTimersCountCommittedCasesWithAPendingStage) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->sample(0);
  EXPECT_EQ(value(h.registry, "slawatch_pending_timers", {{"partition", "0"}}), 1);  // the warning's timer
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-03T09:40:00Z")).ok());  // every stage of the day fires
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->sample(0);
  EXPECT_EQ(value(h.registry, "slawatch_pending_timers", {{"partition", "0"}}),
            static_cast<double>(h.store.timer_count()));
  EXPECT_EQ(h.store.timer_count(), 0u);
}

TEST(MetricsHub, AShadowLaneCountsItsAlertsAndCyclesUnderRulesetShadowOnly) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  MemoryStateStore shadow_store;
  NullSink shadow_alerts, shadow_dead;
  Engine shadow_engine(shipped_rules(), shadow_store, EngineOptions{});
  ASSERT_TRUE(shadow_engine.open().ok());
  Pipeline shadow(shadow_engine, shadow_store, shadow_alerts, shadow_dead, PipelineHarness::options());
  auto shadow_metrics = h.hub.attach_shadow(shadow);
  const std::string acknowledged =
      event_line("e2", "acknowledged", "C-1", "2026-03-02T09:40:00Z", R"({"department":"roads"})");
  for (Pipeline* lane : {&h.pipeline, &shadow}) {
    ASSERT_TRUE(lane->on_record_live(record(kDispatched)).ok());
    ASSERT_TRUE(lane->advance(at("2026-03-02T09:30:00Z")).ok());  // warning and breach fall due
    ASSERT_TRUE(lane->on_record_live(record(acknowledged)).ok());
  }
  const std::map<std::string, std::string> breach_fired{{"stage", "breach"}, {"kind", "fired"}};
  auto with = [](std::map<std::string, std::string> labels, const std::string& ruleset) {
    labels["ruleset"] = ruleset;
    return labels;
  };
  EXPECT_EQ(value(h.registry, "slawatch_alerts_total", with(breach_fired, "")), 1);
  EXPECT_EQ(value(h.registry, "slawatch_alerts_total", with(breach_fired, "shadow")), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_opened_total", {{"department", "roads"}, {"ruleset", ""}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_opened_total", {{"department", "roads"}, {"ruleset", "shadow"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_breached_total", {{"department", "roads"}, {"ruleset", "shadow"}}),
            1);
  // What does not depend on the rules is counted once, by the active lane.
  EXPECT_EQ(value(h.registry, "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "applied"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"department", "roads"}}), 1);
  EXPECT_EQ(value(h.registry, "slawatch_first_response_seconds", {{"ruleset", "shadow"}}), -1);
  // A shadow notifies nobody.
  EXPECT_GT(value(h.registry, "slawatch_alert_notifications_total", {{"stage", "breach"}, {"ruleset", ""}}), 0);
  EXPECT_EQ(value(h.registry, "slawatch_alert_notifications_total", {{"ruleset", "shadow"}}), -1);
  // The exposition has one family per name, the shadow's series inside it.
  const std::string text = h.hub.scrape();
  size_t type_lines = 0;
  for (size_t at_pos = 0; (at_pos = text.find("# TYPE slawatch_alerts_total ", at_pos)) != std::string::npos; ++at_pos) {
    ++type_lines;
  }
  EXPECT_EQ(type_lines, 1u);
  EXPECT_NE(text.find("ruleset=\"shadow\""), std::string::npos);
}

TEST(MetricsHub, ABacklogBatchCountsEachCycleOnceAsMetOrBreached) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T12:00:00Z")).ok());  // the monitor was down since 09:00
  const std::string roads = R"({"department":"roads"})";
  for (const auto& line : {event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", roads),
                           event_line("d2", "dispatched", "C-2", "2026-03-02T09:00:00Z", roads),
                           event_line("a1", "acknowledged", "C-1", "2026-03-02T09:20:00Z", roads),
                           event_line("a2", "acknowledged", "C-2", "2026-03-02T09:40:00Z", roads)}) {
    ASSERT_TRUE(h.pipeline.on_record_live(record(line)).ok());
  }
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T12:00:00Z")).ok());
  // C-1 answered in time: met, and its breach never shows (fired and retracted in the batch).
  // C-2 answered after 40 minutes: breached and resolved, not met.
  const std::map<std::string, std::string> cycle{{"rule", "first-response"}, {"department", "roads"}};
  EXPECT_EQ(value(h.registry, "slawatch_cycles_met_total", cycle), 1);
  EXPECT_EQ(value(h.registry, "slawatch_cycles_breached_total", cycle), 1);
  EXPECT_EQ(value(h.registry, "slawatch_alerts_total", {{"stage", "breach"}, {"kind", "retracted"}}), -1);
  EXPECT_EQ(value(h.registry, "slawatch_alerts_total", {{"stage", "breach"}, {"kind", "resolved"}}), 1);
}

TEST(MetricsHub, EveryFamilyHasHelpAndCountersEndInTotal) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  const std::string text = h.hub.scrape();
  size_t families = 0;
  for (const auto& family : h.registry.Collect()) {
    ++families;
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_TRUE(family.name.starts_with("slawatch_")) << family.name;
    EXPECT_EQ(family.type == MetricType::Counter, family.name.ends_with("_total")) << family.name;
    EXPECT_NE(text.find("# HELP " + family.name + " "), std::string::npos) << family.name;
  }
  // Families without a series yet are not collected; these ten have one.
  EXPECT_GE(families, 10u);
}

}  // namespace
}  // namespace slawatch
