#pragma once
// Pure reconciliation of what a case has already announced (its fired marks)
// with what its event log now says (its evaluation): fires newly breached
// stages, resolves fired stages whose cycle closed, retracts fired stages the
// log no longer breaches, and picks the case's next timer.
#include <vector>

#include "engine/evaluator.h"
#include "model/alert.h"
#include "state/case_record.h"

namespace slawatch {

struct ReconcileContext {
  const CaseId& case_id;
  const RuleSet& rules;
  Instant clock;           // the engine clock: fired_at / emitted_at of new alerts
  Instant fire_up_to;      // fire unfired stages with due_at <= fire_up_to
  Instant breached_up_to;  // a fired stage stays fired while its due_at <= breached_up_to
  const EventId* trigger = nullptr;  // the event being applied, if any
  // Repair after a rule change: a cycle that closed keeps the outcome it had
  // (its resolved alerts stay, a breach the new rules would find is not fired).
  bool keep_closed_outcomes = false;
};

// Updates record.marks and record.timer_due; appends alert events to `out`
// in due-time order.
void reconcile(const ReconcileContext& context, const CaseEvaluation& evaluation,
               CaseRecord& record, std::vector<Alert>& out);

}  // namespace slawatch
