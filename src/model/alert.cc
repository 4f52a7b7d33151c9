#include "model/alert.h"

namespace slawatch {

std::string_view to_string(AlertKind kind) {
  switch (kind) {
    case AlertKind::fired: return "fired";
    case AlertKind::resolved: return "resolved";
    case AlertKind::retracted: return "retracted";
  }
  return "unknown";
}

std::string make_alert_id(const CaseId& case_id, const RuleId& rule, int cycle,
                          std::string_view stage) {
  std::string id;
  id.reserve(case_id.str().size() + rule.str().size() + stage.size() + 8);
  id.append(case_id.str()).append("/").append(rule.str()).append("/");
  id.append(std::to_string(cycle)).append("/").append(stage);
  return id;
}

}  // namespace slawatch
