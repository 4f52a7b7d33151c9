// Micro-benchmarks of the per-event path: intake, case evaluation, the whole
// engine over in-memory state, and alert encoding. Throughput numbers for
// durable end-to-end replay come from bench/replay_bench.sh.
#include <benchmark/benchmark.h>

#include <memory>
#include <vector>

#include "engine/engine.h"
#include "intake/cloudevent.h"
#include "io/alert_json.h"
#include "rules/rules.h"
#include "sim/simulator.h"

namespace slawatch {
namespace {

std::shared_ptr<const RuleSet> default_rules() {
  static auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  if (!loaded.rules) std::abort();
  return loaded.rules;
}

std::vector<std::string> simulated_lines(int64_t cases) {
  SimulatorOptions options;
  options.cases = cases;
  options.seed = 7;
  HotlineSimulator simulator(options);
  std::vector<std::string> lines;
  SimRecord record;
  while (simulator.next(record)) lines.push_back(record.line);
  return lines;
}

std::vector<CaseEvent> simulated_events(int64_t cases) {
  CloudEventParser parser;
  std::vector<CaseEvent> events;
  for (const auto& line : simulated_lines(cases)) events.push_back(parser.parse(line).value());
  return events;
}

void BM_ParseEvent(benchmark::State& state) {
  const auto lines = simulated_lines(2000);
  CloudEventParser parser;
  size_t i = 0;
  for (auto _ : state) {
    auto parsed = parser.parse(lines[i++ % lines.size()]);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_ParseEvent);

// The whole engine per event (apply + clock advance + periodic flush) over
// in-memory state: the CPU cost of slawatch without RocksDB.
void BM_EngineReplay(benchmark::State& state) {
  const auto events = simulated_events(state.range(0));
  auto rules = default_rules();
  for (auto _ : state) {
    MemoryStateStore store;
    Engine engine(rules, store, EngineOptions{});
    std::vector<Alert> alerts;
    size_t n = 0;
    for (const auto& e : events) {
      (void)engine.apply(e, alerts);
      (void)engine.advance(e.time, alerts);
      if (++n % 2000 == 0) {
        StateBatch batch;
        engine.flush_into(batch);
        (void)store.commit(batch);
      }
      alerts.clear();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_EngineReplay)->Arg(5000)->Unit(benchmark::kMillisecond);

void BM_EvaluateCase(benchmark::State& state) {
  const auto events = simulated_events(200);
  auto rules = default_rules();
  // One typical case log: the first case's events.
  std::vector<CaseEvent> log;
  for (const auto& e : events) {
    if (e.case_id == events.front().case_id) log.push_back(e);
  }
  for (auto _ : state) {
    auto evaluation = evaluate_case(log, *rules);
    benchmark::DoNotOptimize(evaluation);
  }
  state.counters["events_in_log"] = static_cast<double>(log.size());
}
BENCHMARK(BM_EvaluateCase);

void BM_EncodeAlert(benchmark::State& state) {
  Alert alert;
  alert.alert_id = "HK-20260302-000123/first-response/1/breach";
  alert.case_id = CaseId{"HK-20260302-000123"};
  alert.rule = RuleId{"first-response"};
  alert.stage = "breach";
  alert.severity = "major";
  alert.department = "water-supply";
  alert.rule_version = "85eb4fc8c247";
  alert.notify = {{"department.duty_officer", ""}, {"department.head", ""}};
  for (auto _ : state) {
    auto json = encode_alert_cloudevent(alert, "/slawatch");
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_EncodeAlert);

}  // namespace
}  // namespace slawatch
