#pragma once
// Pure reconciliation of what a case has already announced (its fired marks)
// with what its event log now says (its evaluation): fires newly breached
// stages, resolves fired stages whose cycle closed, retracts fired stages the
// log no longer breaches, picks the case's next timer, and reports what
// changed about the case's deadline cycles (CycleOutcome).
#include <string_view>
#include <vector>

#include "engine/evaluator.h"
#include "model/alert.h"
#include "state/case_record.h"

namespace slawatch {

// What a case reports about a deadline cycle, for exact metrics. A cycle is
// reported open when its start is applied and reported closed, with its
// outcome (met or breached) and its elapsed time on the rule's calendar, when
// its close is applied. That outcome is final for the log as it stands; a
// later event that changes the cycle (a late stop before the close, a late
// earlier start renumbering or cutting it short, a change of its department
// at the start) withdraws what was reported and reports the cycle anew, in
// the same batch. Sums of reports minus withdrawals therefore always equal
// the cycles of the committed logs, whatever order the events came in.
struct CycleOutcome {
  CycleMark cycle;
  bool withdrawn = false;  // false: reported
};

// Memory reconcile reuses from one case to the next; the engine keeps one.
struct ReconcileScratch {
  std::vector<size_t> order;
  std::vector<std::string_view> departments;
  std::vector<CycleMark> cycles;
};

struct ReconcileContext {
  const CaseId& case_id;
  const RuleSet& rules;
  Instant clock;           // the engine clock: fired_at / emitted_at of new alerts
  Instant fire_up_to;      // fire unfired stages with due_at <= fire_up_to
  Instant breached_up_to;  // a fired stage stays fired while its due_at <= breached_up_to
  const EventId* trigger = nullptr;  // the event being applied, if any
  // Repair after a rule change: a cycle that closed keeps the outcome it had
  // (its resolved alerts stay, a breach the new rules would find is not fired).
  // Cycle reports and withdrawals are appended here when set.
  std::vector<CycleOutcome>* outcomes = nullptr;
  bool keep_closed_outcomes = false;
  ReconcileScratch* scratch = nullptr;  // reused when set, else made per call
};

// Updates record.marks and record.timer_due; appends alert events to `out`
// in due-time order.
void reconcile(const ReconcileContext& context, const CaseEvaluation& evaluation,
               CaseRecord& record, std::vector<Alert>& out);

}  // namespace slawatch
