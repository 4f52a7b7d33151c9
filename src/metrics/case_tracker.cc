#include "metrics/case_tracker.h"

namespace slawatch {

CaseTracker::CaseTracker(std::shared_ptr<const RuleSet> rules, BusinessProbe& probe, size_t capacity)
    : probe_(probe), capacity_(capacity == 0 ? 1 : capacity) {
  use_rules(std::move(rules));
}

void CaseTracker::use_rules(std::shared_ptr<const RuleSet> rule_set) {
  rules_ptr_ = std::move(rule_set);
  breach_stage_.clear();
  for (const auto& rule : rules().deadlines) {
    std::string breach;
    for (const auto& stage : rule.stages) {
      if (stage.offset >= rule.target) {
        breach = stage.name;
        break;
      }
    }
    breach_stage_.push_back(std::move(breach));
  }
}

void CaseTracker::replace_rules(std::shared_ptr<const RuleSet> rules) {
  for (auto& [id, track] : cases_) {
    forget(track);
    track.cycles.assign(rules->deadlines.size(), OpenCycle{});
  }
  use_rules(std::move(rules));
}

CaseTracker::~CaseTracker() {
  // Open cycles stop being counted with the tracker (a partition handed over).
  for (auto& [id, track] : cases_) forget(track);
}

CaseTracker::Track& CaseTracker::touch(const CaseId& id) {
  auto [it, inserted] = cases_.try_emplace(id);
  Track& track = it->second;
  if (!inserted) {
    recency_.splice(recency_.begin(), recency_, track.recency);
    return track;
  }
  track.cycles.resize(rules().deadlines.size());
  recency_.push_front(id);
  track.recency = recency_.begin();
  if (cases_.size() > capacity_) {
    auto oldest = cases_.find(recency_.back());
    forget(oldest->second);
    recency_.pop_back();
    cases_.erase(oldest);
  }
  return track;
}

void CaseTracker::forget(Track& track) {
  for (size_t i = 0; i < track.cycles.size(); ++i) {
    if (track.cycles[i].open) probe_.cycle_forgotten(rules().deadlines[i].id.str(), track.cycles[i].department);
  }
}

void CaseTracker::close_cycle(size_t rule, OpenCycle& cycle) {
  probe_.cycle_closed(rules().deadlines[rule].id.str(), cycle.department, cycle.breached);
  cycle = OpenCycle{};
}

void CaseTracker::on_event(const CaseEvent& event) {
  Track& track = touch(event.case_id);
  const std::string previous_department = track.attributes.department;
  track.attributes.apply(event);
  const std::string& department = track.attributes.department;
  switch (event.type) {
    case EventType::created:
      probe_.case_created(event.priority);
      if (event.priority == "emergency") track.emergency_since = event.time;
      break;
    case EventType::dispatched: {
      const std::string& from = event.from_department.empty() ? previous_department : event.from_department;
      if (!from.empty() && from != event.department) probe_.case_transferred(from);
      track.dispatched_at = event.time;
      track.dispatched_to = event.department;
      break;
    }
    case EventType::acknowledged:
    case EventType::returned:
      // Sending a case back is a response too (it stops the first-response clock).
      if (track.dispatched_at && event.time >= *track.dispatched_at) {
        probe_.first_response(track.dispatched_to, event.time - *track.dispatched_at);
      }
      track.dispatched_at.reset();
      if (event.type == EventType::returned) {
        probe_.case_returned(event.department.empty() ? department : event.department);
      }
      break;
    case EventType::resolved:
    case EventType::closed:
      if (track.emergency_since && event.time >= *track.emergency_since) {
        probe_.emergency_handled(department, event.time - *track.emergency_since);
      }
      track.emergency_since.reset();
      break;
    case EventType::feedback:
      if (event.satisfied) probe_.feedback(department, *event.satisfied);
      break;
    default:
      break;
  }
  for (size_t i = 0; i < rules().deadlines.size(); ++i) {
    const DeadlineRule& rule = rules().deadlines[i];
    OpenCycle& cycle = track.cycles[i];
    if (cycle.open && rule.stop.contains(event.type)) close_cycle(i, cycle);
    if (rule.start.contains(event.type)) {
      if (cycle.open) close_cycle(i, cycle);
      if (rule.when.matches(track.attributes)) {
        cycle = OpenCycle{true, false, department};
        probe_.cycle_opened(rule.id.str(), department);
      }
    } else if (cycle.open && cycle.department != department) {
      probe_.cycle_moved(rule.id.str(), cycle.department, department);
      cycle.department = department;
    }
  }
}

void CaseTracker::on_alert(const Alert& alert) {
  probe_.alert(alert);
  if (alert.kind == AlertKind::fired) {
    for (const auto& target : alert.notify) probe_.alert_notified(alert, target.role);
  }
  if (alert.stage == kCountStageName && alert.kind == AlertKind::fired) {
    probe_.cycle_breached(alert.rule.str(), alert.department);
    return;
  }
  for (size_t i = 0; i < rules().deadlines.size(); ++i) {
    if (rules().deadlines[i].id != alert.rule || alert.stage != breach_stage_[i]) continue;
    if (alert.kind == AlertKind::fired) probe_.cycle_breached(alert.rule.str(), alert.department);
    // A resolution belongs to a cycle already closed (perhaps replaced by a
    // new one); a retraction means a late event closed it in time after all.
    if (alert.kind == AlertKind::resolved) continue;
    if (auto it = cases_.find(alert.case_id); it != cases_.end() && it->second.cycles[i].open) {
      it->second.cycles[i].breached = alert.kind == AlertKind::fired;
    }
  }
}

}  // namespace slawatch
