// evaluate_case_into reuses an earlier evaluation's memory. Whatever that
// evaluation held (more cycles, fewer, paused ones, count rules that fired),
// the result must be exactly what a fresh evaluate_case gives.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "engine/evaluator.h"
#include "stream_fixture.h"

namespace slawatch::testing {
namespace {

void expect_same_evaluation(const CaseEvaluation& got, const CaseEvaluation& want, const std::string& what) {
  ASSERT_EQ(got.cycles.size(), want.cycles.size()) << what;
  for (size_t i = 0; i < want.cycles.size(); ++i) {
    const CycleResult& g = got.cycles[i];
    const CycleResult& w = want.cycles[i];
    EXPECT_TRUE(g.rule == w.rule && g.deadline == w.deadline && g.count == w.count && g.cycle == w.cycle &&
                g.started_at == w.started_at && g.closed_at == w.closed_at && g.closed_by == w.closed_by &&
                g.paused == w.paused && g.elapsed == w.elapsed && g.paused_at_end == w.paused_at_end)
        << what << ": cycle " << i;
    ASSERT_EQ(g.running.size(), w.running.size()) << what << ": cycle " << i;
    for (size_t j = 0; j < w.running.size(); ++j) {
      EXPECT_TRUE(g.running[j].begin == w.running[j].begin && g.running[j].end == w.running[j].end)
          << what << ": cycle " << i << " interval " << j;
    }
  }
  ASSERT_EQ(got.stages.size(), want.stages.size()) << what;
  for (size_t i = 0; i < want.stages.size(); ++i) {
    const StageResult& g = got.stages[i];
    const StageResult& w = want.stages[i];
    EXPECT_TRUE(g.cycle_index == w.cycle_index && g.stage == w.stage && g.severity == w.severity &&
                g.notify == w.notify && g.status == w.status && (g.status != StageStatus::due || g.due_at == w.due_at))
        << what << ": stage " << i;
  }
}

TEST(EvaluationReuse, EveryLogEvaluatesIntoReusedMemoryAsIntoFreshMemory) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  SimulatorOptions options;
  options.cases = 400;
  options.seed = 11;
  options.late_fraction = 0.05;
  options.reorder_fraction = 0.05;
  std::map<CaseId, std::vector<CaseEvent>> logs;
  for (auto& e : simulated_events(options)) logs[e.case_id].push_back(std::move(e));
  // Every prefix of every log (in log order): cases with one cycle, several,
  // paused, closed, and count rules that fired, so the reused evaluation
  // meets both more and fewer cycles and intervals than it held.
  std::vector<std::vector<CaseEvent>> inputs;
  size_t with_several_cycles = 0;
  for (auto& [id, log] : logs) {
    std::sort(log.begin(), log.end(), event_order_less);
    log.erase(std::unique(log.begin(), log.end(), [](const CaseEvent& a, const CaseEvent& b) { return a.id == b.id; }),
              log.end());
    for (size_t n = 1; n <= log.size(); ++n) inputs.emplace_back(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(n));
    if (evaluate_case(log, *rules).cycles.size() > 2) ++with_several_cycles;
  }
  ASSERT_GT(with_several_cycles, 10u) << "the input must exercise cases with several cycles";
  std::shuffle(inputs.begin(), inputs.end(), std::mt19937(5));
  CaseEvaluation reused;
  for (size_t i = 0; i < inputs.size(); ++i) {
    evaluate_case_into(inputs[i], *rules, reused);
    expect_same_evaluation(reused, evaluate_case(inputs[i], *rules),
                           "input " + std::to_string(i) + " (case " + std::string(inputs[i][0].case_id.str()) + ")");
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace slawatch::testing
