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
  a.department = attribute_views_at(record.events, due_at).department;
  a.due_at = due_at;
  a.rule_version = ctx.rules.version;
  a.emitted_at = ctx.clock;
  return a;
}

Alert resolved_alert(const ReconcileContext& ctx, const CaseRecord& record, const CycleResult& cycle,
                     const StageResult& stage, const FiredMark& mark) {
  Alert a = base_alert(ctx, record, AlertKind::resolved, cycle.rule, cycle.cycle, stage.stage,
                       stage.severity, stage.due_at);
  a.department = mark.department;
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

// A closed cycle breached its rule when it was still open at the due time of
// the rule's breach stage (the first at or past 100% of the target); a rule
// with no such stage is breached when more than its target elapsed.
bool breached(const CaseEvaluation& evaluation, size_t cycle_index) {
  const CycleResult& cycle = evaluation.cycles[cycle_index];
  const DeadlineRule& rule = *cycle.deadline;
  const auto breach = std::find_if(rule.stages.begin(), rule.stages.end(),
                                   [&](const Stage& stage) { return stage.offset >= rule.target; });
  if (breach == rule.stages.end()) return cycle.elapsed > rule.target;
  for (const auto& stage : evaluation.stages) {
    if (stage.cycle_index == cycle_index && stage.stage == breach->name) return stage.status == StageStatus::due;
  }
  return false;
}

// The departments at the starts of the evaluation's deadline cycles (by
// cycle index; empty for count rules), folded in one pass over the log: this
// runs for every event applied, so it must not fold the log once per cycle.
// Fills scratch.departments (scratch.order is its working space).
void departments_at_starts(const CaseRecord& record, const CaseEvaluation& evaluation, ReconcileScratch& scratch) {
  std::vector<size_t>& order = scratch.order;
  order.clear();
  for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
    if (evaluation.cycles[i].deadline != nullptr) order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return evaluation.cycles[a].started_at < evaluation.cycles[b].started_at;
  });
  std::vector<std::string_view>& departments = scratch.departments;
  departments.assign(evaluation.cycles.size(), std::string_view{});
  CaseAttributeViews attributes;
  auto event = record.events.begin();
  for (size_t index : order) {
    const Instant start = evaluation.cycles[index].started_at;
    for (; event != record.events.end() && event->time <= start; ++event) attributes.apply(*event);
    departments[index] = attributes.department;
  }
}

CycleMark cycle_mark(const CaseEvaluation& evaluation, size_t cycle_index, std::string department) {
  const CycleResult& cycle = evaluation.cycles[cycle_index];
  CycleMark mark{cycle.rule, cycle.cycle, cycle.started_at, std::move(department)};
  if (cycle.closed_at) {
    mark.closed = true;
    mark.breached = breached(evaluation, cycle_index);
    mark.elapsed = cycle.elapsed;
  }
  return mark;
}

// Whether the evaluation's deadline cycles are exactly `reported`, in order:
// most events change no cycle, and this answers that without building marks.
bool unchanged(const CaseEvaluation& evaluation, const std::vector<std::string_view>& departments,
               const std::vector<CycleMark>& reported) {
  size_t next = 0;
  for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
    const CycleResult& cycle = evaluation.cycles[i];
    if (cycle.deadline == nullptr) continue;
    if (next == reported.size()) return false;
    const CycleMark& mark = reported[next++];
    if (mark.cycle != cycle.cycle || mark.started_at != cycle.started_at || mark.closed != cycle.closed_at.has_value() ||
        mark.rule != cycle.rule || mark.department != departments[i]) {
      return false;
    }
    if (mark.closed && (mark.elapsed != cycle.elapsed || mark.breached != breached(evaluation, i))) return false;
  }
  return next == reported.size();
}

// Brings record.cycles in line with the evaluation and reports the difference.
void report_cycles(const ReconcileContext& ctx, const CaseEvaluation& evaluation, CaseRecord& record) {
  ReconcileScratch own_scratch;
  ReconcileScratch& scratch = ctx.scratch != nullptr ? *ctx.scratch : own_scratch;
  std::vector<CycleMark>& now = scratch.cycles;
  now.clear();
  if (ctx.keep_closed_outcomes) {
    for (const auto& mark : record.cycles) {
      if (mark.closed) now.push_back(mark);
    }
  }
  const size_t kept = now.size();
  departments_at_starts(record, evaluation, scratch);
  const std::vector<std::string_view>& departments = scratch.departments;
  if (!ctx.keep_closed_outcomes && unchanged(evaluation, departments, record.cycles)) return;
  for (size_t i = 0; i < evaluation.cycles.size(); ++i) {
    const CycleResult& cycle = evaluation.cycles[i];
    if (cycle.deadline == nullptr) continue;
    const bool superseded = std::any_of(now.begin(), now.begin() + static_cast<std::ptrdiff_t>(kept),
                                        [&](const CycleMark& m) { return m.rule == cycle.rule && m.cycle == cycle.cycle; });
    if (!superseded) now.push_back(cycle_mark(evaluation, i, std::string(departments[i])));
  }
  if (now == record.cycles) return;
  if (ctx.outcomes != nullptr) {
    for (const auto& mark : record.cycles) {
      if (std::find(now.begin(), now.end(), mark) == now.end()) ctx.outcomes->push_back(CycleOutcome{mark, true});
    }
    for (const auto& mark : now) {
      if (std::find(record.cycles.begin(), record.cycles.end(), mark) == record.cycles.end()) {
        ctx.outcomes->push_back(CycleOutcome{mark, false});
      }
    }
  }
  record.cycles.swap(now);  // the scratch keeps the old marks' memory for the next case
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
    a.department = mark.department;
    if (cycle != nullptr) {
      a.started_at = cycle->started_at;
      a.closed_at = cycle->closed_at;
    }
    a.reason = retraction_reason(cycle, stage);
    a.was_resolved = mark.resolved;
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
        out.push_back(resolved_alert(ctx, record, cycle, stage, *mark));
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
    record.marks.push_back(FiredMark{cycle.rule, cycle.cycle, std::string(stage->stage), stage->due_at,
                                     cycle.closed_at.has_value(), a.department});
    out.push_back(std::move(a));
    if (cycle.closed_at) out.push_back(resolved_alert(ctx, record, cycle, *stage, record.marks.back()));
  }

  // 3. Report what changed about the case's deadline cycles.
  report_cycles(ctx, evaluation, record);
}

}  // namespace slawatch
