#pragma once
// Shared by the Alertmanager tests: alerts of every kind and a recording
// client whose answers the test scripts.
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "alertmanager/client.h"
#include "model/alert.h"

namespace slawatch::testing {

inline Instant at(const char* text) { return parse_rfc3339(text).value(); }

inline Alert fired_alert(const std::string& case_id = "C-1", const std::string& stage = "breach") {
  Alert a;
  a.kind = AlertKind::fired;
  a.case_id = CaseId(case_id);
  a.rule = RuleId("first-response");
  a.cycle = 1;
  a.stage = stage;
  a.alert_id = make_alert_id(a.case_id, a.rule, a.cycle, a.stage);
  a.severity = "major";
  a.department = "water";
  a.due_at = at("2026-03-02T10:00:00Z");
  a.fired_at = at("2026-03-02T10:00:30Z");
  a.started_at = at("2026-03-02T09:30:00Z");
  a.emitted_at = a.fired_at;
  a.rule_version = "v1";
  a.notify = {{"department.duty_officer", "Li Wei"}, {"department.head", ""}, {"department.duty_officer", "Zhang Min"}};
  return a;
}

inline Alert resolved_alert(const Alert& fired, Instant closed) {
  Alert a = fired;
  a.kind = AlertKind::resolved;
  a.notify.clear();
  a.closed_at = closed;
  a.emitted_at = closed;
  return a;
}

inline Alert retracted_alert(const Alert& fired, Instant closed) {
  Alert a = resolved_alert(fired, closed);
  a.kind = AlertKind::retracted;
  a.reason = "acknowledged before the due time";
  a.event_id = EventId("ev-late");
  return a;
}

// Records every POST body and answers from a script (accepted once the script runs out).
class RecordingClient final : public AlertmanagerClient {
 public:
  PostResult post(const std::string& alerts_json) override {
    posts.push_back(nlohmann::json::parse(alerts_json));
    if (answers.empty()) return PostResult::ok();
    PostResult answer = answers.front();
    answers.pop_front();
    return answer;
  }
  // Every alert of every post, flattened.
  std::vector<nlohmann::json> alerts() const {
    std::vector<nlohmann::json> all;
    for (const auto& post : posts) {
      for (const auto& alert : post) all.push_back(alert);
    }
    return all;
  }

  std::vector<nlohmann::json> posts;
  std::deque<PostResult> answers;
};

// "stage/role" -> Alertmanager alert.
inline std::map<std::string, nlohmann::json> by_role(const std::vector<nlohmann::json>& alerts) {
  std::map<std::string, nlohmann::json> out;
  for (const auto& a : alerts) {
    out[a["labels"]["stage"].get<std::string>() + "/" + a["labels"].value("role", "")] = a;
  }
  return out;
}

inline PostResult refused() { return PostResult{PostResult::Outcome::retry, "connect", "connection refused"}; }

}  // namespace slawatch::testing
