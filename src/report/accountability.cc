#include "report/accountability.h"

#include <algorithm>

#include "engine/engine.h"
#include "engine/evaluator.h"
#include "state/case_record.h"
#include "pipeline/pipeline.h"
#include "replay/replay_driver.h"
#include "state/store.h"

namespace slawatch {
namespace {

// The same word as the alerts' data.department and the case API use.
constexpr std::string_view kUnassigned = "unassigned";

void add_overdue(Tally& t, Duration overdue) {
  t.overdue_total += overdue;
  t.overdue_max = std::max(t.overdue_max, overdue);
}

// One stored case's log, as the alerts the engine has fired by `clock` (replay: no grace).
void feed_stored_case(AccountabilityLedger& ledger, const RuleSet& rules, const CaseId& id,
                      const std::vector<CaseEvent>& log, Instant clock) {
  for (const auto& event : log) ledger.on_event(event);
  const CaseEvaluation evaluation = evaluate_case(log, rules);
  for (const auto& stage : evaluation.stages) {
    if (stage.status != StageStatus::due || stage.due_at > clock) continue;
    const CycleResult& cycle = evaluation.cycle_of(stage);
    Alert a;
    a.kind = AlertKind::fired;
    a.alert_id = make_alert_id(id, cycle.rule, cycle.cycle, stage.stage);
    a.case_id = id;
    a.rule = cycle.rule;
    a.cycle = cycle.cycle;
    a.stage = std::string(stage.stage);
    a.department = attributes_at(log, stage.due_at).department;
    a.due_at = stage.due_at;
    if (stage.notify != nullptr) {
      for (const auto& role : *stage.notify) a.notify.push_back(NotifyTarget{role, {}});
    }
    ledger.on_alert(a);
    if (cycle.closed_at && *cycle.closed_at <= clock) {
      a.kind = AlertKind::resolved;
      a.closed_at = cycle.closed_at;
      ledger.on_alert(a);
    }
  }
}

}  // namespace

AccountabilityLedger::AccountabilityLedger(std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Roster> roster,
                                           Instant from, Instant to)
    : rules_(std::move(rules)), roster_(std::move(roster)), from_(from), to_(to) {}

bool AccountabilityLedger::is_early_warning(const RuleId& rule, const std::string& stage) const {
  for (const auto& deadline : rules_->deadlines) {
    if (deadline.id != rule) continue;
    for (const auto& s : deadline.stages) {
      if (s.name == stage) return s.offset < deadline.target;
    }
  }
  return false;
}

std::string AccountabilityLedger::duty_officer(const std::string& department, Instant t) const {
  std::string_view person;
  if (roster_) person = roster_->resolve("department.duty_officer", department, t);
  return std::string(person.empty() ? kNobodyOnDuty : person);
}

void AccountabilityLedger::on_alert(const Alert& alert) {
  switch (alert.kind) {
    case AlertKind::fired: {
      if (!in_window(alert.due_at) || is_early_warning(alert.rule, alert.stage)) return;
      Breach b;
      b.case_id = alert.case_id.str();
      b.stage = alert.stage;
      b.department = alert.department.empty() ? std::string(kUnassigned) : alert.department;
      b.person = duty_officer(alert.department, alert.due_at);
      b.due_at = alert.due_at;
      b.discipline = std::any_of(alert.notify.begin(), alert.notify.end(),
                                 [](const NotifyTarget& n) { return n.role == kDisciplineRole; });
      breaches_[alert.alert_id] = std::move(b);
      return;
    }
    case AlertKind::resolved:
      if (auto it = breaches_.find(alert.alert_id); it != breaches_.end()) it->second.closed_at = alert.closed_at;
      return;
    case AlertKind::retracted:
      breaches_.erase(alert.alert_id);
      return;
  }
}

void AccountabilityLedger::on_event(const CaseEvent& event) {
  if (!in_window(event.time)) return;
  if (event.type == EventType::returned && !event.department.empty()) {
    moves_.push_back(Move{std::string(event.case_id.str()), event.department.str(),
                          duty_officer(event.department.str(), event.time), true});
  } else if (event.type == EventType::dispatched && !event.from_department.empty() &&
             event.from_department != event.department) {
    moves_.push_back(Move{std::string(event.case_id.str()), event.from_department.str(),
                          duty_officer(event.from_department.str(), event.time), false});
  }
}

AccountabilityReport AccountabilityLedger::build(Instant end) const {
  AccountabilityReport r;
  r.from = from_;
  r.to = to_;
  r.end = std::max(end, to_);
  auto add_stage = [&](const std::string& name) {
    if (std::find(r.stages.begin(), r.stages.end(), name) == r.stages.end()) r.stages.push_back(name);
  };
  for (const auto& rule : rules_->deadlines) {
    for (const auto& stage : rule.stages) {
      if (stage.offset >= rule.target) add_stage(stage.name);
    }
  }
  if (!rules_->counts.empty()) add_stage(std::string(kCountStageName));

  std::map<std::pair<std::string, std::string>, Tally> people;
  std::set<std::pair<std::string, std::string>> case_people;
  for (const auto& [id, b] : breaches_) {
    add_stage(b.stage);
    const Duration overdue = std::max(Duration{0}, b.closed_at.value_or(r.end) - b.due_at);
    for (Tally* t : {&r.total, &r.departments[b.department], &people[{b.department, b.person}]}) {
      ++t->breaches;
      ++t->by_stage[b.stage];
      add_overdue(*t, overdue);
      if (!b.closed_at) ++t->still_open;
      if (b.discipline) ++t->discipline;
      t->cases.insert(b.case_id);
    }
    if (b.person != kNobodyOnDuty) case_people.emplace(b.case_id, b.person);
  }
  for (const auto& m : moves_) {
    for (Tally* t : {&r.total, &r.departments[m.department], &people[{m.department, m.person}]}) {
      ++(m.is_return ? t->returns : t->transfers);
    }
  }
  r.person_times = static_cast<int64_t>(case_people.size());
  for (auto& [key, tally] : people) r.people.push_back(PersonTally{key.first, key.second, std::move(tally)});
  return r;
}

Result<AccountabilityReport> replay_accountability(std::shared_ptr<const RuleSet> rules,
                                                   std::shared_ptr<const Roster> roster, RecordSource& events,
                                                   Instant from, Instant to) {
  MemoryStateStore store;
  NullSink alerts, dead_letters;
  EngineOptions engine_options;
  engine_options.grace = Duration{0};       // replay: event time, no grace (contract section 4),
  engine_options.fire_at_due_time = false;  // a stage fires once the clock has passed it
  Engine engine(rules, store, engine_options);
  PipelineOptions options;
  options.roster = roster;
  Pipeline pipeline(engine, store, alerts, dead_letters, options);
  AccountabilityLedger ledger(rules, roster, from, to);
  pipeline.set_alert_observer([&](const Alert& a) { ledger.on_alert(a); });
  pipeline.set_event_observer([&](const CaseEvent& e, ApplyOutcome outcome) {
    if (outcome == ApplyOutcome::applied) ledger.on_event(e);
  });
  Pipeline* lanes[] = {&pipeline};
  auto replayed = replay_history(events, lanes, ReplayOptions{to, 10000});
  if (!replayed.ok()) return replayed.error();
  return ledger.build(engine.clock());
}

Result<AccountabilityReport> state_accountability(std::shared_ptr<const RuleSet> rules,
                                                  std::shared_ptr<const Roster> roster, StateStore& store,
                                                  Instant from, Instant to) {
  StateStore* const stores[] = {&store};
  return state_accountability(std::move(rules), std::move(roster), stores, from, to);
}

Result<AccountabilityReport> state_accountability(std::shared_ptr<const RuleSet> rules,
                                                  std::shared_ptr<const Roster> roster,
                                                  std::span<StateStore* const> stores, Instant from, Instant to) {
  AccountabilityLedger ledger(rules, roster, from, to);
  std::optional<Instant> end;
  for (StateStore* store : stores) {
    auto checkpoint = store->load_checkpoint();
    if (!checkpoint.ok()) return checkpoint.error();
    // Each partition's cases are taken as of its own clock; open breaches are
    // overdue until the latest of them.
    const Instant clock = checkpoint->clock;
    end = end ? std::max(*end, clock) : clock;
    std::optional<Error> failure;
    auto status = store->for_each_case([&](const CaseId& id, std::string_view bytes) {
      auto record = decode_case_record(bytes, id);
      if (!record.ok()) {
        failure = record.error();
        return false;
      }
      feed_stored_case(ledger, *rules, id, record->events, clock);
      return true;
    });
    if (failure) return *failure;
    if (!status.ok()) return status.error();
  }
  return ledger.build(end.value_or(to));
}

}  // namespace slawatch
