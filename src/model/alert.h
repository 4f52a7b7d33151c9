#pragma once
// Alert events (contract section 3) as produced by the engine, before they are
// encoded as CloudEvents.
#include <optional>
#include <string>
#include <vector>

#include "model/ids.h"
#include "model/time.h"

namespace slawatch {

enum class AlertKind : uint8_t { fired, resolved, retracted };
std::string_view to_string(AlertKind kind);

struct NotifyTarget {
  std::string role;    // e.g. "department.duty_officer"
  std::string person;  // resolved from the duty roster at due_at; empty if no roster entry
};

struct Alert {
  AlertKind kind = AlertKind::fired;
  std::string alert_id;  // {case_id}/{rule}/{cycle}/{stage}
  CaseId case_id;
  RuleId rule;
  int cycle = 1;
  std::string stage;
  std::string severity;
  std::string department;
  Instant due_at;
  std::string rule_version;
  Instant emitted_at;  // the engine clock when this alert event was produced

  // fired
  Instant fired_at;
  Instant started_at;
  std::vector<NotifyTarget> notify;

  // resolved / retracted
  std::optional<Instant> closed_at;
  // retracted
  std::string reason;
  EventId event_id;
  // retracted: the stage had been resolved before (so it was no longer
  // overdue). Not part of the alert event; for the overdue tally.
  bool was_resolved = false;
};

std::string make_alert_id(const CaseId& case_id, const RuleId& rule, int cycle,
                          std::string_view stage);

}  // namespace slawatch
