#pragma once
// Test support: alert index entries from an alert id ("case/rule/cycle/stage",
// no '/' inside a part), a state and a department, and the CloudEvent a
// reader gets back for one.
#include <string>
#include <string_view>

#include "io/alert_json.h"
#include "state/store.h"

namespace slawatch::testing {

inline IndexedAlert indexed_alert(std::string_view alert_id, AlertIndexEntry::State state, std::string department) {
  IndexedAlert indexed;
  indexed.source = "/test";
  Alert& a = indexed.alert;
  const size_t rule_at = alert_id.find('/') + 1;
  const size_t cycle_at = alert_id.find('/', rule_at) + 1;
  const size_t stage_at = alert_id.find('/', cycle_at) + 1;
  a.case_id = CaseId{alert_id.substr(0, rule_at - 1)};
  a.rule = RuleId{alert_id.substr(rule_at, cycle_at - rule_at - 1)};
  a.cycle = std::stoi(std::string(alert_id.substr(cycle_at, stage_at - cycle_at - 1)));
  a.stage = std::string(alert_id.substr(stage_at));
  a.alert_id = make_alert_id(a.case_id, a.rule, a.cycle, a.stage);
  a.severity = "major";
  a.department = std::move(department);
  a.due_at = from_millis(1'772'382'763'972);
  a.emitted_at = a.due_at + Duration{4'000};
  a.rule_version = "d31222ec1b3b";
  switch (state) {
    case AlertIndexEntry::State::firing:
      a.kind = AlertKind::fired;
      a.fired_at = a.emitted_at;
      a.started_at = a.due_at - Duration{1'800'000};
      a.notify = {NotifyTarget{"department.duty_officer", ""}};
      break;
    case AlertIndexEntry::State::resolved:
      a.kind = AlertKind::resolved;
      a.closed_at = a.due_at + Duration{60'000};
      break;
    case AlertIndexEntry::State::retracted:
      a.kind = AlertKind::retracted;
      a.reason = "the cycle closed at or before the stage's due time";
      a.event_id = EventId{"e-late"};
      break;
  }
  return indexed;
}

// The entry a reader gets for `indexed`: its CloudEvent rendered as delivered.
inline AlertIndexEntry read_back(const IndexedAlert& indexed, AlertIndexEntry::State state) {
  return AlertIndexEntry{indexed.alert.alert_id, state, indexed.alert.department,
                         encode_alert_cloudevent(indexed.alert, indexed.source)};
}

}  // namespace slawatch::testing
