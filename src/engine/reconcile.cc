#include "engine/reconcile.h"

#include <algorithm>

namespace slawatch {
namespace {

Alert base_alert(const ReconcileContext& ctx, const CaseRecord& record, AlertKind kind,
                 const RuleId& rule, int cycle, std::string_view stage, std::string_view severity,
                 Instant due_at) {
  Alert a;
  a.kind = kind;
  a.alert_id = make_alert_id(ctx.case_id, rule, cycle, stage);
  a.case_id = ctx.case_id;
  a.rule = rule;
  a.cycle = cycle;
  a.stage = std::string(stage);
  a.severity = std::string(severity);
  a.department = attributes_at(record.events, due_at).department;
  a.due_at = due_at;
  a.rule_version = ctx.rules.version;
  a.emitted_at = ctx.clock;
  return a;
}

Alert resolved_alert(const ReconcileContext& ctx, const CaseRecord& record, const CycleResult& cycle,
                     const StageResult& stage) {
  Alert a = base_alert(ctx, record, AlertKind::resolved, cycle.rule, cycle.cycle, stage.stage,
                       stage.severity, stage.due_at);
  a.started_at = cycle.started_at;
  a.closed_at = cycle.closed_at;
  a.event_id = cycle.closed_by;
  return a;
}

// Why a fired stage is no longer breached, in words an inspector can check.
std::string retraction_reason(const CycleResult* cycle, const StageResult* stage) {
  if (cycle == nullptr) return "the cycle no longer exists: the case's events or attributes changed";
  if (stage == nullptr) return "the stage no longer exists in the rule";
  switch (stage->status) {
    case StageStatus::met:
      return "the cycle closed at or before the stage's due time";
    case StageStatus::paused:
      return "the cycle was paused before the stage fell due";
    case StageStatus::due:
      return "the due time moved to " + format_rfc3339_utc(stage->due_at);
  }
  return "the stage is no longer breached";
}

}  // namespace

void reconcile(const ReconcileContext& ctx, const CaseEvaluation& evaluation, CaseRecord& record,
               std::vector<Alert>& out) {
  // 1. Retract marks that the log no longer supports.
  std::erase_if(record.marks, [&](const FiredMark& mark) {
    if (ctx.keep_closed_outcomes && mark.resolved) return false;
    const StageResult* stage = evaluation.find(mark.rule, mark.cycle, mark.stage);
    // A stage still breached but now due at another instant (a late pause, a
    // late earlier start renumbering the cycles) is retracted and fired again
    // below, so the standing alert describes the stage as the log has it.
    if (stage != nullptr && stage->status == StageStatus::due && stage->due_at <= ctx.breached_up_to &&
        stage->due_at == mark.due_at) {
      return false;
    }
    const CycleResult* cycle = evaluation.find_cycle(mark.rule, mark.cycle);
    Alert a = base_alert(ctx, record, AlertKind::retracted, mark.rule, mark.cycle, mark.stage,
                         stage ? stage->severity : std::string_view{}, mark.due_at);
    if (cycle != nullptr) {
      a.started_at = cycle->started_at;
      a.closed_at = cycle->closed_at;
    }
    a.reason = retraction_reason(cycle, stage);
    if (ctx.trigger != nullptr) a.event_id = *ctx.trigger;
    out.push_back(std::move(a));
    return true;
  });

  // 2. Fire what is due, resolve what closed, and find the next due time.
  std::vector<const StageResult*> to_fire;
  record.timer_due.reset();
  for (const auto& stage : evaluation.stages) {
    if (stage.status != StageStatus::due) continue;
    const auto& cycle = evaluation.cycle_of(stage);
    auto mark = std::find_if(record.marks.begin(), record.marks.end(), [&](const FiredMark& m) {
      return m.cycle == cycle.cycle && m.stage == stage.stage && m.rule == cycle.rule;
    });
    if (mark != record.marks.end()) {
      if (!mark->resolved && cycle.closed_at) {
        mark->resolved = true;
        out.push_back(resolved_alert(ctx, record, cycle, stage));
      }
      continue;
    }
    if (ctx.keep_closed_outcomes && cycle.closed_at) continue;
    if (stage.due_at <= ctx.fire_up_to) {
      to_fire.push_back(&stage);
    } else if (!record.timer_due || stage.due_at < *record.timer_due) {
      record.timer_due = stage.due_at;
    }
  }
  std::stable_sort(to_fire.begin(), to_fire.end(),
                   [](const StageResult* a, const StageResult* b) { return a->due_at < b->due_at; });
  for (const StageResult* stage : to_fire) {
    const auto& cycle = evaluation.cycle_of(*stage);
    Alert a = base_alert(ctx, record, AlertKind::fired, cycle.rule, cycle.cycle, stage->stage,
                         stage->severity, stage->due_at);
    a.fired_at = ctx.clock;
    a.started_at = cycle.started_at;
    for (const auto& role : *stage->notify) a.notify.push_back(NotifyTarget{role, {}});
    out.push_back(std::move(a));
    record.marks.push_back(FiredMark{cycle.rule, cycle.cycle, std::string(stage->stage),
                                     stage->due_at, cycle.closed_at.has_value()});
    if (cycle.closed_at) out.push_back(resolved_alert(ctx, record, cycle, *stage));
  }
}

}  // namespace slawatch
