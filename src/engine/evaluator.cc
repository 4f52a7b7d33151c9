#include "engine/evaluator.h"

#include <algorithm>

namespace slawatch {
namespace {

// Within one instant, starts are applied before pauses/resumes and those before
// stops, so that "the first stop at or after the start" holds for a stop
// sharing its start's timestamp whatever the two ids are.
int rule_phase(const DeadlineRule& rule, EventType type) {
  if (rule.start.contains(type)) return 0;
  if (rule.pause.contains(type) || rule.resume.contains(type)) return 1;
  if (rule.stop.contains(type)) return 2;
  return -1;
}

class DeadlineEvaluator {
 public:
  DeadlineEvaluator(const DeadlineRule& rule, CaseEvaluation& out) : rule_(rule), out_(out) {}

  void run(std::span<const CaseEvent> log, std::span<const CaseEvaluation::InstantGroup> groups) {
    for (const auto& group : groups) {
      if (group.end == group.begin + 1) {
        // Alone at its instant (almost every event): no other event to order it against.
        const int phase = phase_of(log[group.begin]);
        if (phase >= 0) on_event(log[group.begin], phase, group.attributes);
      } else {
        for (int phase = 0; phase <= 2; ++phase) {
          for (size_t i = group.begin; i < group.end; ++i) {
            if (phase_of(log[i]) == phase) on_event(log[i], phase, group.attributes);
          }
        }
      }
    }
    if (open_) finish_cycle(std::nullopt, EventId{});
  }

 private:
  void on_event(const CaseEvent& e, int phase, const CaseAttributeViews& attributes) {
    switch (phase) {
      case 0:
        if (open_) finish_cycle(e.time, e.id);
        ++cycle_number_;
        if (rule_.when.matches(attributes)) open_cycle(e.time);
        break;
      case 1:
        if (rule_.pause.contains(e.type) && !paused_) {
          paused_ = true;
          if (open_) intervals_.back().end = e.time;
        } else if (rule_.resume.contains(e.type) && paused_) {
          paused_ = false;
          if (open_) intervals_.push_back({e.time, std::nullopt});
        }
        break;
      case 2:
        if (open_) finish_cycle(e.time, e.id);
        // A resolved or closed case waits on nobody any more: the pause ends
        // here too, so suspend, resolve, reopen cannot leave a case with no
        // deadline at all (contract section 2, amended 2026-12-06).
        paused_ = false;
        break;
    }
  }

  void open_cycle(Instant at) {
    open_ = true;
    started_at_ = at;
    if (intervals_.capacity() == 0 && !out_.spare.running.empty()) {
      intervals_ = std::move(out_.spare.running.back());
      out_.spare.running.pop_back();
    }
    intervals_.clear();
    // A case already waiting on the citizen opens its cycle paused.
    if (!paused_) intervals_.push_back({at, std::nullopt});
  }

  void finish_cycle(std::optional<Instant> closed_at, EventId closed_by) {
    open_ = false;
    CycleResult cycle;
    cycle.rule = rule_.id;
    cycle.deadline = &rule_;
    cycle.cycle = cycle_number_;
    cycle.started_at = started_at_;
    cycle.closed_at = closed_at;
    cycle.closed_by = std::move(closed_by);
    if (closed_at && !intervals_.empty() && !intervals_.back().end) intervals_.back().end = closed_at;
    cycle.paused_at_end = !closed_at && (intervals_.empty() || intervals_.back().end.has_value());
    const Instant horizon = closed_at.value_or(intervals_.empty() || !intervals_.back().end
                                                   ? started_at_
                                                   : *intervals_.back().end);
    Duration running{0};
    for (const auto& iv : intervals_) {
      if (!iv.end) continue;
      running += *iv.end - iv.begin;
      cycle.elapsed += rule_.calendar->counted(iv.begin, *iv.end);
    }
    if (closed_at || cycle.paused_at_end) cycle.paused = (horizon - started_at_) - running;
    const size_t cycle_index = out_.cycles.size();
    out_.cycles.push_back(std::move(cycle));

    for (const auto& stage : rule_.stages) {
      StageResult result;
      result.cycle_index = cycle_index;
      result.stage = stage.name;
      result.severity = stage.severity;
      result.notify = &stage.notify;
      locate_due(stage.offset, closed_at, result);
      out_.stages.push_back(result);
    }
    // The next cycle starts from an empty list anyway (open_cycle), so the
    // intervals move rather than copy.
    out_.cycles[cycle_index].running = std::move(intervals_);
  }

  // Walks the running intervals, counting only calendar time, to the instant
  // where elapsed time reaches `offset`.
  void locate_due(Duration offset, std::optional<Instant> closed_at, StageResult& result) const {
    Duration elapsed{0};
    for (const auto& iv : intervals_) {
      if (!iv.end) {  // running at the end of the log: the due time is ahead
        result.status = StageStatus::due;
        result.due_at = rule_.calendar->advance(iv.begin, offset - elapsed);
        return;
      }
      const Duration counted = rule_.calendar->counted(iv.begin, *iv.end);
      if (elapsed + counted >= offset) {
        result.due_at = rule_.calendar->advance(iv.begin, offset - elapsed);
        const bool open_at_due = !closed_at || result.due_at < *closed_at;
        result.status = open_at_due ? StageStatus::due : StageStatus::met;
        return;
      }
      elapsed += counted;
    }
    result.status = closed_at ? StageStatus::met : StageStatus::paused;
  }

  int phase_of(const CaseEvent& e) const { return rule_phase(rule_, e.type); }

  const DeadlineRule& rule_;
  CaseEvaluation& out_;
  bool open_ = false;
  bool paused_ = false;
  int cycle_number_ = 0;
  Instant started_at_;
  std::vector<RunningInterval> intervals_;
};

void evaluate_count(const CountRule& rule, std::span<const CaseEvent> log,
                    std::span<const CaseEvaluation::InstantGroup> groups, CaseEvaluation& out) {
  std::vector<Instant>& matching = out.spare.matching;
  matching.clear();
  for (const auto& group : groups) {
    for (size_t i = group.begin; i < group.end; ++i) {
      const auto& e = log[i];
      if (!rule.events.contains(e.type) || !rule.when.matches(group.attributes)) continue;
      matching.push_back(e.time);
      // Window inclusive: t - window <= t_i <= t.
      const auto first = std::lower_bound(matching.begin(), matching.end(), e.time - rule.window);
      if (matching.end() - first >= rule.threshold) {
        CycleResult cycle;
        cycle.rule = rule.id;
        cycle.count = &rule;
        cycle.cycle = 1;
        cycle.started_at = *first;
        out.cycles.push_back(std::move(cycle));
        StageResult stage;
        stage.cycle_index = out.cycles.size() - 1;
        stage.stage = kCountStageName;
        stage.severity = rule.severity;
        stage.notify = &rule.notify;
        stage.status = StageStatus::due;
        stage.due_at = e.time;
        out.stages.push_back(stage);
        return;  // fires once per case
      }
    }
  }
}

// Cuts the log into instants, folding the attributes as it goes: attributes
// at an instant include the whole instant.
void group_instants(std::span<const CaseEvent> log, std::vector<CaseEvaluation::InstantGroup>& groups) {
  groups.clear();
  CaseAttributeViews attributes;
  for (size_t begin = 0; begin < log.size();) {
    size_t end = begin;
    while (end < log.size() && log[end].time == log[begin].time) attributes.apply(log[end++]);
    groups.push_back({begin, end, attributes});
    begin = end;
  }
}

}  // namespace

const StageResult* CaseEvaluation::find(const RuleId& rule, int cycle, std::string_view stage) const {
  for (const auto& s : stages) {
    const auto& c = cycles[s.cycle_index];
    if (c.cycle == cycle && s.stage == stage && c.rule == rule) return &s;
  }
  return nullptr;
}

const CycleResult* CaseEvaluation::find_cycle(const RuleId& rule, int cycle) const {
  for (const auto& c : cycles) {
    if (c.cycle == cycle && c.rule == rule) return &c;
  }
  return nullptr;
}

CaseEvaluation evaluate_case(std::span<const CaseEvent> log, const RuleSet& rules) {
  CaseEvaluation out;
  evaluate_case_into(log, rules, out);
  out.spare = {};
  return out;
}

void evaluate_case_into(std::span<const CaseEvent> log, const RuleSet& rules, CaseEvaluation& out) {
  for (auto& cycle : out.cycles) {
    if (cycle.running.capacity() > 0) out.spare.running.push_back(std::move(cycle.running));
  }
  out.cycles.clear();
  out.stages.clear();
  if (out.cycles.capacity() == 0) {
    // Room for one cycle of every rule, the usual case, in one allocation each.
    size_t stages = rules.counts.size();
    for (const auto& rule : rules.deadlines) stages += rule.stages.size();
    out.cycles.reserve(rules.deadlines.size() + rules.counts.size());
    out.stages.reserve(stages);
  }
  group_instants(log, out.spare.groups);
  const std::span<const CaseEvaluation::InstantGroup> groups = out.spare.groups;
  for (const auto& rule : rules.deadlines) DeadlineEvaluator(rule, out).run(log, groups);
  for (const auto& rule : rules.counts) evaluate_count(rule, log, groups, out);
}

CaseAttributeViews attribute_views_at(std::span<const CaseEvent> log, Instant at) {
  CaseAttributeViews attributes;
  for (const auto& e : log) {
    if (e.time > at) break;
    attributes.apply(e);
  }
  return attributes;
}

CaseAttributes attributes_at(std::span<const CaseEvent> log, Instant at) {
  const CaseAttributeViews views = attribute_views_at(log, at);
  return CaseAttributes{std::string(views.category), std::string(views.priority), std::string(views.channel),
                        std::string(views.district), std::string(views.department)};
}

}  // namespace slawatch
