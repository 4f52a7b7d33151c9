#pragma once
// slawatch alert events -> Alertmanager API v2 alerts. Pure functions.
//
// One slawatch alert becomes one Alertmanager alert per notified role, so
// Alertmanager routes by role; the labels identify it (alertname = rule id,
// stage, severity, department, case_id, cycle, role, source="slawatch"):
// the same slawatch alert always gives the same label sets, whether it is
// firing, resolved or retracted. `cycle` is there because a case's next
// cycle of the same rule and stage is a different alert (contract section 3),
// and Alertmanager would otherwise merge the two.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/alert.h"
#include "model/time.h"

namespace slawatch {

struct MappingOptions {
  std::string generator_base_url;  // empty: no generatorURL
  Duration resend = std::chrono::minutes{1};
};

// The notified roles in first-mention order, each with its people on duty
// ("" when the roster named nobody). An alert with no roles gives one entry
// with an empty role (an Alertmanager alert without a `role` label).
struct RoleOnDuty {
  std::string role;
  std::string on_duty;  // persons, ", "-separated, in roster order
};
std::vector<RoleOnDuty> roles_on_duty(const std::vector<NotifyTarget>& notify);

// Appends the Alertmanager alerts for `alert` as of `now` to the JSON array
// `out`. `alert.notify` names the roles for every kind (the dispatcher fills
// it in for resolved and retracted alerts from the firing one or the rules).
//   fired:     startsAt = due_at, endsAt = now + 4 x resend
//   resolved:  startsAt = due_at, endsAt = closed_at
//   retracted: startsAt = due_at, endsAt = closed_at, which is at or before
//              due_at, so it is raised to startsAt (Alertmanager rejects an
//              end before the start): the alert ends where it began.
// endsAt is never before startsAt.
void append_alertmanager_alerts(const Alert& alert, Instant now, const MappingOptions& options,
                                nlohmann::json& out);

// "http://host:9464/api/v1/cases/C-1" (case ids are URL-safe by contract).
std::string generator_url(const std::string& base, const CaseId& case_id);

}  // namespace slawatch
