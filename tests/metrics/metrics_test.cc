// Metrics: what the hub exports for a given input. Overdue stages and cycles
// come from the committed state, so they are exact whatever the arrival order
// and the same after a restart; a response at exactly 30 min is within the
// 30-minute bucket and met, 1 ms later is not; department labels are capped
// and an empty one is "unassigned"; the hub chains the caller's observers
// after its own.
#include "metrics/metrics_hub.h"
#include "metrics/probes.h"

#include <gtest/gtest.h>

#include <prometheus/text_serializer.h>

#include <algorithm>
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
// Histograms: the sample count, with `le` the cumulative bucket count, with
// `sum` (any value) the sum.
double value(const std::vector<prometheus::MetricFamily>& families, const std::string& name,
             std::map<std::string, std::string> labels = {}) {
  std::optional<double> le;
  const bool sum = labels.erase("sum") > 0;
  if (auto it = labels.find("le"); it != labels.end()) {
    le = std::stod(it->second);
    labels.erase(it);
  }
  for (const auto& family : families) {
    if (family.name != name) continue;
    for (const auto& metric : family.metric) {
      if (!has_labels(metric, labels)) continue;
      switch (family.type) {
        case MetricType::Counter: return metric.counter.value;
        case MetricType::Gauge: return metric.gauge.value;
        case MetricType::Histogram:
          if (sum) return metric.histogram.sample_sum;
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

TEST(BoundedLabelValues, KeepsTheFirstValuesThenSaysOther) {
  BoundedLabelValues values(2);
  EXPECT_EQ(values.admit("roads"), "roads");
  EXPECT_EQ(values.admit("parks"), "parks");
  EXPECT_EQ(values.admit("water"), "other");
  EXPECT_EQ(values.admit("roads"), "roads");
  EXPECT_EQ(values.admit(""), "unassigned");
}

TEST(StandbyProbe, ExportsTheCopiesHeldNowAndDropsTheSeriesOfCopiesThatWent) {
  prometheus::Registry registry;
  StandbyProbe probe(registry);
  const std::vector<StandbyProbe::Copy> both{{1, 40}, {3, 0}};
  probe.copies_held(both);
  probe.records_applied(7);
  probe.records_applied(5);
  auto families = registry.Collect();
  EXPECT_EQ(value(families, "slawatch_standby_partitions"), 2);
  EXPECT_EQ(value(families, "slawatch_standby_lag_records", {{"partition", "1"}}), 40);
  EXPECT_EQ(value(families, "slawatch_standby_lag_records", {{"partition", "3"}}), 0);
  EXPECT_EQ(value(families, "slawatch_standby_records_applied_total"), 12);

  probe.copy_handed_over(1);  // now its lane's store
  families = registry.Collect();
  EXPECT_EQ(value(families, "slawatch_standby_partitions"), 1);
  EXPECT_EQ(value(families, "slawatch_standby_lag_records", {{"partition", "1"}}), -1);

  const std::vector<StandbyProbe::Copy> other{{4, 9}};
  probe.copies_held(other);
  families = registry.Collect();
  EXPECT_EQ(value(families, "slawatch_standby_partitions"), 1);
  EXPECT_EQ(value(families, "slawatch_standby_lag_records", {{"partition", "3"}}), -1);
  EXPECT_EQ(value(families, "slawatch_standby_lag_records", {{"partition", "4"}}), 9);
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
  EXPECT_EQ(value(h.hub.collect(), "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "applied"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "duplicate"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_events_total", {{"type", "invalid"}, {"outcome", "dead_lettered"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_dead_letters_total", {{"reason", "json"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_alerts_total", {{"stage", "breach"}, {"kind", "fired"}}), 1);
  EXPECT_EQ(rejects_seen, 1);
  EXPECT_EQ(events_seen, 2);
  EXPECT_EQ(alerts_seen, 2);
  // Lag is the manual clock (09:10) minus the event time (09:00): 600 s, twice.
  EXPECT_EQ(value(h.hub.collect(), "slawatch_event_lag_seconds", {{"le", "300"}}), 0);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_event_lag_seconds", {{"le", "900"}}), 2);
  // The clock jumped to 09:30: the breach fired exactly at its due time, the
  // warning (due 09:24) six minutes after it.
  EXPECT_EQ(value(h.hub.collect(), "slawatch_timer_fire_delay_seconds", {{"le", "0.1"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_timer_fire_delay_seconds", {{"le", "300"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_timer_fire_delay_seconds", {{"le", "900"}}), 2);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_build_info", {{"version", "1.2.3"}, {"rules_version", "abc"}}), 1);
}

TEST(MetricsHub, RecordsABatchOnlyWhenACommitHappened) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "3");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1").ok());  // 1 of 2 records: not due
  metrics->after_commit(std::chrono::milliseconds(5));
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commits_total", {{"partition", "3"}}), -1);
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->after_commit(std::chrono::milliseconds(5));
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commits_total", {{"partition", "3"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commit_batch_records", {{"partition", "3"}, {"le", "1"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commit_batch_records", {{"partition", "3"}, {"le", "0"}}), 0);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commit_duration_seconds", {{"partition", "3"}, {"le", "0.005"}}), 1);
}

// The keys each commit wrote, by family, add up to the store's own totals:
// the operators' view of where the state's write load goes.
TEST(MetricsHub, CountsTheKeysEachCommitWroteByFamily) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "3");
  const auto keys = [&](const char* family) {
    return value(h.hub.collect(), "slawatch_state_keys_written_total", {{"partition", "3"}, {"family", family}});
  };
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->after_commit(std::chrono::milliseconds(5));
  const CommitTotals first = h.store.commit_totals();
  ASSERT_GT(first.keys_of(StoreFamily::cases), 0u);
  ASSERT_GT(first.keys_of(StoreFamily::timers), 0u);
  EXPECT_EQ(keys("cases"), static_cast<double>(first.keys_of(StoreFamily::cases)));
  EXPECT_EQ(keys("timers"), static_cast<double>(first.keys_of(StoreFamily::timers)));
  EXPECT_EQ(keys("outbox"), static_cast<double>(first.keys_of(StoreFamily::outbox)));
  EXPECT_EQ(keys("alert_index"), static_cast<double>(first.keys_of(StoreFamily::alerts)));
  EXPECT_EQ(keys("meta"), static_cast<double>(first.keys_of(StoreFamily::meta)));
  EXPECT_EQ(value(h.hub.collect(), "slawatch_state_bytes_written_total", {{"partition", "3"}}), 0);  // in memory
  // The breach falls due: the second commit adds what it wrote, no more.
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T09:31:00Z")).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("2", true).ok());
  metrics->after_commit(std::chrono::milliseconds(5));
  const CommitTotals second = h.store.commit_totals();
  ASSERT_GT(second.keys_of(StoreFamily::outbox), first.keys_of(StoreFamily::outbox));
  EXPECT_EQ(keys("outbox"), static_cast<double>(second.keys_of(StoreFamily::outbox)));
  EXPECT_EQ(keys("cases") + keys("timers") + keys("outbox") + keys("alert_index") + keys("meta"),
            static_cast<double>(second.keys()));
  metrics.reset();  // the partition was revoked: its series go
  EXPECT_EQ(h.hub.scrape().find("slawatch_state_keys_written_total{"), std::string::npos);
}

TEST(MetricsHub, DetachingAPartitionsMetricsRemovesItsSeriesAndKeepsTheOthers) {
  PipelineHarness h;
  auto revoked = h.hub.attach(h.pipeline, "3");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  revoked->after_commit(std::chrono::milliseconds(5));
  revoked->sample(7);
  // A second partition's metrics (attach() moves the pipeline's observers to them).
  auto kept = h.hub.attach(h.pipeline, "4");
  ASSERT_TRUE(h.pipeline.maybe_commit("2", true).ok());
  kept->after_commit(std::chrono::milliseconds(5));
  kept->sample(1);
  for (const std::string partition : {"3", "4"}) {
    EXPECT_NE(h.hub.scrape().find("partition=\"" + partition + "\""), std::string::npos) << partition;
  }
  revoked.reset();  // the partition was revoked
  const std::string text = h.hub.scrape();
  EXPECT_EQ(text.find("partition=\"3\""), std::string::npos) << text;
  EXPECT_EQ(value(h.hub.collect(), "slawatch_input_lag_records", {{"partition", "4"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commits_total", {{"partition", "4"}}), 1);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_commit_duration_seconds", {{"partition", "4"}, {"le", "0.005"}}), 1);
}

TEST(MetricsHub, SampleCopiesThePipelineGauges) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-02T09:30:00Z")).ok());
  metrics->sample(7);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_outbox_depth", {{"partition", "0"}}), 2);  // two alerts, not committed
  EXPECT_EQ(value(h.hub.collect(), "slawatch_input_lag_records", {{"partition", "0"}}), 7);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_pending_timers", {{"partition", "0"}}), 0);  // nothing committed yet
  EXPECT_EQ(value(h.hub.collect(), "slawatch_timers_fired_total"), static_cast<double>(h.engine.counters().timers_fired));
  EXPECT_GT(h.engine.counters().timers_fired, 0u);
  metrics->sample(0);  // no new timers: the counter does not move
  EXPECT_EQ(value(h.hub.collect(), "slawatch_timers_fired_total"), static_cast<double>(h.engine.counters().timers_fired));
}

TEST(MetricsHub, PendingTimersCountCommittedCasesWithAPendingStage) {
  PipelineHarness h;
  auto metrics = h.hub.attach(h.pipeline, "0");
  ASSERT_TRUE(h.pipeline.on_record_live(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->sample(0);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_pending_timers", {{"partition", "0"}}), 1);  // the warning's timer
  ASSERT_TRUE(h.pipeline.advance(at("2026-03-03T09:40:00Z")).ok());  // every stage of the day fires
  ASSERT_TRUE(h.pipeline.maybe_commit("1", true).ok());
  metrics->sample(0);
  EXPECT_EQ(value(h.hub.collect(), "slawatch_pending_timers", {{"partition", "0"}}),
            static_cast<double>(h.store.timer_count()));
  EXPECT_EQ(h.store.timer_count(), 0u);
}

// A monitor over `store` as `slawatch run` wires it: engine, pipeline, hub.
// Destroying one and building another on the same store is a restart.
struct Monitor {
  explicit Monitor(MemoryStateStore& s, std::shared_ptr<const RuleSet> rules = shipped_rules())
      : clock(at("2026-03-02T09:00:00Z")),
        store(s),
        engine(std::move(rules), store, EngineOptions{}),
        pipeline(engine, store, alerts, dead, PipelineHarness::options()),
        hub(registry, clock, BuildInfo{"1.2.3", "abc"}) {
    EXPECT_TRUE(engine.open().ok());
    EXPECT_TRUE(pipeline.recover().ok());
    metrics = hub.attach(pipeline, "0");
  }
  // Applies the lines in this order, moves the clock to `until`, commits.
  void feed(const std::vector<std::string>& lines, const std::string& until) {
    for (const auto& line : lines) ASSERT_TRUE(pipeline.on_record_live(record(line)).ok());
    ASSERT_TRUE(pipeline.advance(at(until)).ok());
    ASSERT_TRUE(pipeline.maybe_commit("pos", true).ok());
    metrics->sample(0);
  }
  double get(const std::string& name, std::map<std::string, std::string> labels = {}) {
    return value(hub.collect(), name, std::move(labels));
  }
  prometheus::Registry registry;
  ManualClock clock;
  MemoryStateStore& store;
  NullSink alerts, dead;
  Engine engine;
  Pipeline pipeline;
  MetricsHub hub;
  std::unique_ptr<PipelineMetrics> metrics;
};

const std::string kRoads = R"({"department":"roads"})";
const std::map<std::string, std::string> kFirstResponseRoads{{"rule", "first-response"}, {"department", "roads"}};

std::vector<std::string> answered_at(const std::string& ack_c1, const std::string& ack_c2) {
  return {event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", kRoads),
          event_line("d2", "dispatched", "C-2", "2026-03-02T09:00:00Z", kRoads),
          event_line("a1", "acknowledged", "C-1", ack_c1, kRoads),
          event_line("a2", "acknowledged", "C-2", ack_c2, kRoads)};
}

TEST(CycleMetrics, ExactlyThirtyMinutesIsMetAndInTheThirtyMinuteBucketOneMillisecondMoreIsNot) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed(answered_at("2026-03-02T09:30:00Z", "2026-03-02T09:30:00.001Z"), "2026-03-02T12:00:00Z");
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", kFirstResponseRoads), 2);
  EXPECT_DOUBLE_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 3600.001);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"le", "1800"}}), 1);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"le", "2700"}}), 2);
  EXPECT_EQ(m.get("slawatch_cycles_met_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_opened_total", kFirstResponseRoads), 2);
  EXPECT_EQ(m.get("slawatch_open_cycles", kFirstResponseRoads), 0);
}

TEST(CycleMetrics, AcknowledgementsArrivingBeforeTheirDispatchesGiveTheSameNumbers) {
  MemoryStateStore in_order_store, reversed_store;
  Monitor in_order(in_order_store);
  in_order.feed(answered_at("2026-03-02T09:20:00Z", "2026-03-02T09:45:00Z"), "2026-03-02T12:00:00Z");
  Monitor reversed(reversed_store);
  auto lines = answered_at("2026-03-02T09:20:00Z", "2026-03-02T09:45:00Z");
  std::reverse(lines.begin(), lines.end());
  reversed.feed(lines, "2026-03-02T12:00:00Z");
  for (Monitor* m : {&in_order, &reversed}) {
    EXPECT_EQ(m->get("slawatch_cycle_elapsed_seconds", kFirstResponseRoads), 2);
    EXPECT_EQ(m->get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 3900);
    EXPECT_EQ(m->get("slawatch_cycles_met_total", kFirstResponseRoads), 1);
    EXPECT_EQ(m->get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  }
}

TEST(CycleMetrics, ALateStopBeforeTheCloseWithdrawsTheReportedTimeAndReportsTheNewOne) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed({event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", kRoads),
          event_line("a1", "acknowledged", "C-1", "2026-03-02T10:00:00Z", kRoads)},
         "2026-03-02T12:00:00Z");
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 3600);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  m.feed({event_line("r1", "returned", "C-1", "2026-03-02T09:10:00Z", kRoads)}, "2026-03-02T12:00:00Z");
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 600);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"le", "900"}}), 1);
  EXPECT_EQ(m.get("slawatch_cycles_met_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 0);
  EXPECT_EQ(m.get("slawatch_alerts_total", {{"stage", "breach"}, {"kind", "retracted"}}), 1);
}

TEST(CycleMetrics, ALateEarlierStartRenumbersTheCyclesAndTheNumbersFollow) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed({event_line("d2", "dispatched", "C-1", "2026-03-02T10:00:00Z", kRoads),
          event_line("a1", "acknowledged", "C-1", "2026-03-02T10:20:00Z", kRoads)},
         "2026-03-02T12:00:00Z");
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 1200);
  // An earlier dispatch arrives late: it opens cycle 1 (closed an hour later by the
  // second dispatch, breached), and the answered cycle becomes cycle 2.
  m.feed({event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", kRoads)}, "2026-03-02T12:00:00Z");
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", kFirstResponseRoads), 2);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 4800);
  EXPECT_EQ(m.get("slawatch_cycles_met_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_opened_total", kFirstResponseRoads), 2);
  EXPECT_EQ(m.get("slawatch_open_cycles", kFirstResponseRoads), 0);
}

TEST(StateMetrics, OverdueAndOpenCyclesCountTheStateAndAreTheSameAfterARestart) {
  MemoryStateStore store;
  {
    Monitor m(store);
    m.feed({event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", kRoads),
            event_line("d2", "dispatched", "C-2", "2026-03-02T09:00:00Z", kRoads),
            event_line("a2", "acknowledged", "C-2", "2026-03-02T09:31:00Z", kRoads)},
           "2026-03-02T09:45:00Z");
    // C-1 is overdue (warning and breach), C-2's breach was resolved.
    EXPECT_EQ(m.get("slawatch_overdue_alerts", {{"rule", "first-response"}, {"stage", "breach"}, {"department", "roads"}}), 1);
    EXPECT_EQ(m.get("slawatch_overdue_alerts", {{"rule", "first-response"}, {"stage", "warning"}, {"department", "roads"}}), 1);
    EXPECT_EQ(m.get("slawatch_open_cycles", kFirstResponseRoads), 1);
    EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  }
  Monitor restarted(store);  // no input at all: the numbers come from the state
  EXPECT_EQ(restarted.get("slawatch_overdue_alerts", {{"rule", "first-response"}, {"stage", "breach"}, {"department", "roads"}}), 1);
  EXPECT_EQ(restarted.get("slawatch_open_cycles", kFirstResponseRoads), 1);
  EXPECT_EQ(restarted.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  EXPECT_EQ(restarted.get("slawatch_cycle_elapsed_seconds", {{"rule", "first-response"}, {"sum", "1"}}), 1860);
  restarted.feed({event_line("a1", "acknowledged", "C-1", "2026-03-02T09:50:00Z", kRoads)}, "2026-03-02T10:00:00Z");
  EXPECT_EQ(restarted.get("slawatch_overdue_alerts", {{"rule", "first-response"}, {"stage", "breach"}, {"department", "roads"}}), 0);
  EXPECT_EQ(restarted.get("slawatch_open_cycles", kFirstResponseRoads), 0);
  EXPECT_EQ(restarted.get("slawatch_cycles_breached_total", kFirstResponseRoads), 2);
}

TEST(StateMetrics, NoDepartmentIsUnassigned) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed({event_line("c1", "created", "C-9", "2026-03-02T09:00:00Z",
                     R"({"category":"fire","priority":"emergency","channel":"phone"})")},
         "2026-03-03T09:00:01Z");
  EXPECT_EQ(m.get("slawatch_overdue_alerts",
                  {{"rule", "emergency-handling"}, {"stage", "breach"}, {"department", "unassigned"}}),
            1);
  EXPECT_EQ(m.get("slawatch_open_cycles", {{"rule", "emergency-handling"}, {"department", "unassigned"}}), 1);
}

TEST(StateMetrics, ARuleReloadKeepsTheNumbersOfTheCasesItDoesNotChange) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed(answered_at("2026-03-02T09:20:00Z", "2026-03-02T09:45:00Z"), "2026-03-02T12:00:00Z");
  m.feed({event_line("d3", "dispatched", "C-3", "2026-03-02T11:50:00Z", kRoads)}, "2026-03-02T12:00:00Z");
  auto next = std::make_shared<RuleSet>(*shipped_rules());
  next->version = "next";
  ASSERT_TRUE(m.pipeline.reload_rules(next, "pos").ok());
  m.metrics->rules_replaced();
  EXPECT_EQ(m.get("slawatch_open_cycles", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycle_elapsed_seconds", kFirstResponseRoads), 2);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
}

TEST(BuckPassing, ReturnsAndTransfersAreCountedByTheDepartmentPassingTheCaseOn) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed({event_line("d1", "dispatched", "C-1", "2026-03-02T09:00:00Z", kRoads),
          event_line("r1", "returned", "C-1", "2026-03-02T09:10:00Z", kRoads),
          event_line("d2", "dispatched", "C-1", "2026-03-02T09:20:00Z", R"({"department":"parks"})"),
          event_line("d3", "dispatched", "C-1", "2026-03-02T09:30:00Z",
                     R"({"department":"water","from_department":"hotline"})"),
          // To the department the case is already with: not a transfer.
          event_line("d4", "dispatched", "C-1", "2026-03-02T09:40:00Z", R"({"department":"water"})"),
          event_line("f1", "feedback", "C-1", "2026-03-05T09:00:00Z", R"({"satisfied":false})")},
         "2026-03-02T09:41:00Z");
  EXPECT_EQ(m.get("slawatch_case_returns_total", {{"department", "roads"}}), 1);
  EXPECT_EQ(m.get("slawatch_case_transfers_total", {{"department", "roads"}}), 1);
  EXPECT_EQ(m.get("slawatch_case_transfers_total", {{"department", "hotline"}}), 1);
  EXPECT_EQ(m.get("slawatch_case_transfers_total", {{"department", "parks"}}), -1);
  EXPECT_EQ(m.get("slawatch_case_transfers_total", {{"department", "water"}}), -1);
  EXPECT_EQ(m.get("slawatch_feedback_total", {{"department", "water"}, {"satisfied", "false"}}), 1);
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
    ASSERT_TRUE(lane->maybe_commit("pos", true).ok());
  }
  metrics->sample(0);
  shadow_metrics->sample();
  const std::map<std::string, std::string> breach_fired{{"stage", "breach"}, {"kind", "fired"}};
  auto with = [](std::map<std::string, std::string> labels, const std::string& ruleset) {
    labels["ruleset"] = ruleset;
    return labels;
  };
  const auto families = h.hub.collect();
  EXPECT_EQ(value(families, "slawatch_alerts_total", with(breach_fired, "")), 1);
  EXPECT_EQ(value(families, "slawatch_alerts_total", with(breach_fired, "shadow")), 1);
  EXPECT_EQ(value(families, "slawatch_cycles_opened_total", {{"department", "roads"}, {"ruleset", ""}}), 1);
  EXPECT_EQ(value(families, "slawatch_cycles_opened_total", {{"department", "roads"}, {"ruleset", "shadow"}}), 1);
  EXPECT_EQ(value(families, "slawatch_cycles_breached_total", {{"department", "roads"}, {"ruleset", "shadow"}}), 1);
  // What does not depend on the rules is counted once, by the active lane.
  EXPECT_EQ(value(families, "slawatch_events_total", {{"type", "dispatched"}, {"outcome", "applied"}}), 1);
  // A shadow notifies nobody.
  EXPECT_GT(value(families, "slawatch_alert_notifications_total", {{"stage", "breach"}, {"ruleset", ""}}), 0);
  EXPECT_EQ(value(families, "slawatch_alert_notifications_total", {{"ruleset", "shadow"}}), -1);
  // The exposition has one family per name, the shadow's series inside it.
  const std::string text = h.hub.scrape();
  for (const std::string family : {"slawatch_alerts_total", "slawatch_cycles_opened_total"}) {
    size_t type_lines = 0;
    for (size_t at_pos = 0; (at_pos = text.find("# TYPE " + family + " ", at_pos)) != std::string::npos; ++at_pos) {
      ++type_lines;
    }
    EXPECT_EQ(type_lines, 1u) << family;
  }
  EXPECT_NE(text.find("ruleset=\"shadow\""), std::string::npos);
}

TEST(MetricsHub, ABacklogBatchCountsEachCycleOnceAsMetOrBreached) {
  MemoryStateStore store;
  Monitor m(store);
  ASSERT_TRUE(m.pipeline.advance(at("2026-03-02T12:00:00Z")).ok());  // the monitor was down since 09:00
  m.feed(answered_at("2026-03-02T09:20:00Z", "2026-03-02T09:40:00Z"), "2026-03-02T12:00:00Z");
  // C-1 answered in time: met, and its breach never shows (fired and retracted in the batch).
  // C-2 answered after 40 minutes: breached and resolved, not met.
  EXPECT_EQ(m.get("slawatch_cycles_met_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_cycles_breached_total", kFirstResponseRoads), 1);
  EXPECT_EQ(m.get("slawatch_alerts_total", {{"stage", "breach"}, {"kind", "retracted"}}), -1);
  EXPECT_EQ(m.get("slawatch_alerts_total", {{"stage", "breach"}, {"kind", "resolved"}}), 1);
  // Fired and resolved within one commit: never overdue in the committed state, so no series at all.
  EXPECT_EQ(m.get("slawatch_overdue_alerts", {{"stage", "breach"}}), -1);
}

TEST(MetricsHub, EveryFamilyHasHelpAndCountersEndInTotal) {
  MemoryStateStore store;
  Monitor m(store);
  m.feed(answered_at("2026-03-02T09:20:00Z", "2026-03-02T09:40:00Z"), "2026-03-02T12:00:00Z");
  const std::string text = m.hub.scrape();
  size_t families = 0;
  for (const auto& family : m.hub.collect()) {
    ++families;
    EXPECT_FALSE(family.help.empty()) << family.name;
    EXPECT_TRUE(family.name.starts_with("slawatch_")) << family.name;
    EXPECT_EQ(family.type == MetricType::Counter, family.name.ends_with("_total")) << family.name;
    EXPECT_NE(text.find("# HELP " + family.name + " "), std::string::npos) << family.name;
  }
  EXPECT_GE(families, 15u);
}

}  // namespace
}  // namespace slawatch
