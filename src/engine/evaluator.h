#pragma once
// Pure evaluation of one case under a rule set: from the case's event log to
// its cycles and the due time and status of every stage. No clock, no state:
// the same log always gives the same answer, whatever order the events
// arrived in, which is what makes late and out-of-order input safe.
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "model/event.h"
#include "rules/rules.h"

namespace slawatch {

// A stretch of a cycle during which its clock ran (between pauses).
struct RunningInterval {
  Instant begin;
  std::optional<Instant> end;  // nullopt: still running at the end of the log
};

struct CycleResult {
  RuleId rule;
  const DeadlineRule* deadline = nullptr;  // exactly one of deadline / count is set
  const CountRule* count = nullptr;
  int cycle = 1;
  Instant started_at;
  std::optional<Instant> closed_at;
  EventId closed_by;       // the stop (or next start) event that closed the cycle
  Duration paused{0};      // total paused time inside the cycle so far
  // Time the cycle's clock ran, as its stages count it (calendar time only,
  // pauses excluded), up to its close (or its last pause if still open).
  // What a backtest reports as the response time of a closed cycle.
  Duration elapsed{0};
  bool paused_at_end = false;
  // The stretches the clock ran, in time order; the gaps between them (and
  // after the last, while paused_at_end) are the pauses.
  std::vector<RunningInterval> running;
};

enum class StageStatus : uint8_t {
  due,     // due_at is known and the cycle was still open then: breached once the clock reaches it
  met,     // the cycle closed at or before the stage's due time
  paused,  // the cycle is paused before reaching the stage: no due time yet
};

struct StageResult {
  size_t cycle_index = 0;  // into CaseEvaluation::cycles
  std::string_view stage;  // name, "threshold" for count rules
  std::string_view severity;
  const std::vector<std::string>* notify = nullptr;
  StageStatus status = StageStatus::paused;
  Instant due_at;  // meaningful when status == due
};

struct CaseEvaluation {
  std::vector<CycleResult> cycles;
  std::vector<StageResult> stages;

  const CycleResult& cycle_of(const StageResult& s) const { return cycles[s.cycle_index]; }
  // The stage of (rule, cycle, stage name), or nullptr.
  const StageResult* find(const RuleId& rule, int cycle, std::string_view stage) const;
  const CycleResult* find_cycle(const RuleId& rule, int cycle) const;

  // The log's events of one instant, [begin, end), with the case attributes
  // as they stand at that instant (its events included).
  struct InstantGroup {
    size_t begin = 0;
    size_t end = 0;
    CaseAttributeViews attributes;
  };
  // Memory of an earlier evaluation, for evaluate_case_into to fill again.
  // Not part of the result.
  struct Spare {
    std::vector<std::vector<RunningInterval>> running;
    std::vector<Instant> matching;  // a count rule's matching event times
    // The log cut into instants once per evaluation, for every rule to walk:
    // folding the attributes per rule was five folds of each event.
    std::vector<InstantGroup> groups;
  };
  Spare spare;
};

// `log` must be in log order (CaseRecord keeps it so).
CaseEvaluation evaluate_case(std::span<const CaseEvent> log, const RuleSet& rules);
// The same into `out`, replacing what it held and reusing its memory: the
// engine evaluates a case for every event applied and every timer fired, and
// the vectors of a fresh evaluation were a quarter of its allocations.
void evaluate_case_into(std::span<const CaseEvent> log, const RuleSet& rules, CaseEvaluation& out);

// Case attributes folded from the events at or before `at`.
CaseAttributes attributes_at(std::span<const CaseEvent> log, Instant at);
// The same, as views into `log` (no copies; valid while the log is unchanged).
CaseAttributeViews attribute_views_at(std::span<const CaseEvent> log, Instant at);

}  // namespace slawatch
