#include "alertmanager/mapping.h"

#include <algorithm>

namespace slawatch {
namespace {

std::string department_label(const std::string& department) {
  return department.empty() ? "unassigned" : department;
}

// Whole seconds: "12m5s" reads better in a notification than "12m5s250ms".
std::string overdue_text(Duration d) {
  return format_duration(std::chrono::floor<std::chrono::seconds>(std::max(Duration{0}, d)));
}

std::string stage_title(const Alert& alert) {
  return "Case " + std::string(alert.case_id.str()) + " at " + department_label(alert.department) + ": " +
         std::string(alert.rule.str()) + " stage " + alert.stage + " (" + alert.severity + ")";
}

std::string summary(const Alert& alert, Instant now, const std::string& on_duty) {
  const std::string due = format_rfc3339_utc(alert.due_at);
  std::string text;
  switch (alert.kind) {
    case AlertKind::fired:
      text = stage_title(alert) + " due " + due + ", overdue by " +
             overdue_text(now - alert.due_at);
      break;
    case AlertKind::resolved:
      text = stage_title(alert) + " was due " + due + "; closed " + format_rfc3339_utc(*alert.closed_at) + ", " +
             overdue_text(*alert.closed_at - alert.due_at) + " overdue";
      break;
    case AlertKind::retracted:
      text = stage_title(alert) + " due " + due + " was not breached after all (retracted: " + alert.reason + ")";
      break;
  }
  if (!on_duty.empty()) text += "; on duty: " + on_duty;
  return text;
}

}  // namespace

std::vector<RoleOnDuty> roles_on_duty(const std::vector<NotifyTarget>& notify) {
  std::vector<RoleOnDuty> roles;
  for (const auto& target : notify) {
    auto it = std::find_if(roles.begin(), roles.end(), [&](const RoleOnDuty& r) { return r.role == target.role; });
    if (it == roles.end()) {
      roles.push_back(RoleOnDuty{target.role, ""});
      it = std::prev(roles.end());
    }
    if (target.person.empty()) continue;
    if (!it->on_duty.empty()) it->on_duty += ", ";
    it->on_duty += target.person;
  }
  if (roles.empty()) roles.push_back(RoleOnDuty{});
  return roles;
}

std::string generator_url(const std::string& base, const CaseId& case_id) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url + "/api/v1/cases/" + std::string(case_id.str());
}

void append_alertmanager_alerts(const Alert& alert, Instant now, const MappingOptions& options,
                                nlohmann::json& out) {
  const Instant starts = alert.due_at;
  Instant ends = now + 4 * options.resend;
  if (alert.kind != AlertKind::fired) ends = alert.closed_at.value_or(starts);
  ends = std::max(ends, starts);

  for (const auto& [role, on_duty] : roles_on_duty(alert.notify)) {
    nlohmann::json labels = {{"alertname", alert.rule.str()},
                             {"stage", alert.stage},
                             {"severity", alert.severity},
                             {"department", department_label(alert.department)},
                             {"case_id", alert.case_id.str()},
                             {"cycle", std::to_string(alert.cycle)},
                             {"source", "slawatch"}};
    if (!role.empty()) labels["role"] = role;
    nlohmann::json annotations = {{"summary", summary(alert, now, on_duty)},
                                  {"alert_id", alert.alert_id},
                                  {"due_at", format_rfc3339_utc(alert.due_at)}};
    switch (alert.kind) {
      case AlertKind::fired:
        annotations["overdue_by"] = overdue_text(now - alert.due_at);
        break;
      case AlertKind::resolved:
        annotations["overdue_by"] = overdue_text(*alert.closed_at - alert.due_at);
        annotations["closed_at"] = format_rfc3339_utc(*alert.closed_at);
        break;
      case AlertKind::retracted:
        if (alert.closed_at) annotations["closed_at"] = format_rfc3339_utc(*alert.closed_at);
        annotations["retracted"] = alert.reason;
        break;
    }
    if (!on_duty.empty()) annotations["on_duty"] = on_duty;
    nlohmann::json item = {{"labels", std::move(labels)},
                           {"annotations", std::move(annotations)},
                           {"startsAt", format_rfc3339_utc(starts)},
                           {"endsAt", format_rfc3339_utc(ends)}};
    if (!options.generator_base_url.empty()) item["generatorURL"] = generator_url(options.generator_base_url, alert.case_id);
    out.push_back(std::move(item));
  }
}

}  // namespace slawatch
