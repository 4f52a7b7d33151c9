// Mapping of slawatch alert events to Alertmanager v2 alerts: one per
// notified role, identifying labels identical for every kind, annotations
// readable, startsAt/endsAt per kind and never inverted; and the decoder that
// turns delivered CloudEvents back into alerts.
#include "alertmanager/mapping.h"

#include <gtest/gtest.h>

#include "alertmanager_fixture.h"
#include "io/alert_json.h"

namespace slawatch {
namespace {

using namespace slawatch::testing;

MappingOptions options() { return MappingOptions{"http://slawatch.example:9464/", std::chrono::minutes{1}}; }

nlohmann::json map(const Alert& alert, Instant now) {
  nlohmann::json out = nlohmann::json::array();
  append_alertmanager_alerts(alert, now, options(), out);
  return out;
}

TEST(AlertmanagerMapping, FiredAlertIsOneAlertmanagerAlertPerRoleWithIdentifyingLabels) {
  const Alert alert = fired_alert();
  const auto out = map(alert, at("2026-03-02T10:12:05.500Z"));
  ASSERT_EQ(out.size(), 2u);  // duty officer (twice in notify) and head
  const nlohmann::json expected_labels = {{"alertname", "first-response"}, {"stage", "breach"},
                                          {"severity", "major"},         {"department", "water"},
                                          {"case_id", "C-1"},            {"cycle", "1"},
                                          {"source", "slawatch"},        {"role", "department.duty_officer"}};
  EXPECT_EQ(out[0]["labels"], expected_labels);
  EXPECT_EQ(out[1]["labels"]["role"], "department.head");
  EXPECT_EQ(out[0]["startsAt"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(out[0]["endsAt"], "2026-03-02T10:16:05.500Z");  // now + 4 x resend
  EXPECT_EQ(out[0]["generatorURL"], "http://slawatch.example:9464/api/v1/cases/C-1");
  const auto& annotations = out[0]["annotations"];
  EXPECT_EQ(annotations["alert_id"], "C-1/first-response/1/breach");
  EXPECT_EQ(annotations["due_at"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(annotations["overdue_by"], "12m5s");
  EXPECT_EQ(annotations["on_duty"], "Li Wei, Zhang Min");
  EXPECT_EQ(annotations["summary"],
            "Case C-1 at water: first-response stage breach (major) due 2026-03-02T10:00:00.000Z, overdue by "
            "12m5s; on duty: Li Wei, Zhang Min");
  // Nobody on the roster for the head: no on_duty annotation, no "on duty" in the summary.
  EXPECT_FALSE(out[1]["annotations"].contains("on_duty"));
  EXPECT_EQ(out[1]["annotations"]["summary"].get<std::string>().find("on duty"), std::string::npos);
}

TEST(AlertmanagerMapping, ResolvedAlertEndsAtClosedTimeWithTheSameLabels) {
  const Alert fired = fired_alert();
  Alert resolved = resolved_alert(fired, at("2026-03-02T10:20:00Z"));
  resolved.notify = fired.notify;  // the dispatcher carries the roles over
  const auto firing = map(fired, at("2026-03-02T10:01:00Z"));
  const auto out = map(resolved, at("2026-03-02T11:00:00Z"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["labels"], firing[0]["labels"]);
  EXPECT_EQ(out[1]["labels"], firing[1]["labels"]);
  EXPECT_EQ(out[0]["startsAt"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(out[0]["endsAt"], "2026-03-02T10:20:00.000Z");
  EXPECT_EQ(out[0]["annotations"]["overdue_by"], "20m");
  EXPECT_EQ(out[0]["annotations"]["closed_at"], "2026-03-02T10:20:00.000Z");
  EXPECT_EQ(out[0]["annotations"]["summary"],
            "Case C-1 at water: first-response stage breach (major) was due 2026-03-02T10:00:00.000Z; closed "
            "2026-03-02T10:20:00.000Z, 20m overdue; on duty: Li Wei, Zhang Min");
}

TEST(AlertmanagerMapping, RetractedAlertEndsWhereItStartedNeverBefore) {
  const Alert fired = fired_alert();
  Alert retracted = retracted_alert(fired, at("2026-03-02T09:55:00Z"));  // closed before due
  retracted.notify = fired.notify;
  const auto out = map(retracted, at("2026-03-02T10:05:00Z"));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["labels"], map(fired, at("2026-03-02T10:01:00Z"))[0]["labels"]);
  EXPECT_EQ(out[0]["startsAt"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(out[0]["endsAt"], "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(out[0]["annotations"]["retracted"], "acknowledged before the due time");
  EXPECT_EQ(out[0]["annotations"]["closed_at"], "2026-03-02T09:55:00.000Z");
  EXPECT_FALSE(out[0]["annotations"].contains("overdue_by"));
  EXPECT_NE(out[0]["annotations"]["summary"].get<std::string>().find("retracted: acknowledged before the due time"),
            std::string::npos);
  // A retraction without a known close time also ends at startsAt.
  retracted.closed_at.reset();
  EXPECT_EQ(map(retracted, at("2026-03-02T10:05:00Z"))[0]["endsAt"], "2026-03-02T10:00:00.000Z");
}

TEST(AlertmanagerMapping, FiredAlertDueInTheFutureNeverEndsBeforeItStarts) {
  Alert alert = fired_alert();
  alert.due_at = at("2026-03-03T00:00:00Z");  // clock skew: due after "now + 4 x resend"
  const auto out = map(alert, at("2026-03-02T10:00:00Z"));
  EXPECT_EQ(out[0]["endsAt"], out[0]["startsAt"]);
  EXPECT_EQ(out[0]["annotations"]["overdue_by"], "0s");
}

TEST(AlertmanagerMapping, CountRuleWithoutRolesOrDepartment) {
  Alert alert = fired_alert();
  alert.rule = RuleId("repeated-return");
  alert.stage = "threshold";
  alert.department.clear();
  alert.notify.clear();
  MappingOptions no_url{"", std::chrono::minutes{1}};
  nlohmann::json out = nlohmann::json::array();
  append_alertmanager_alerts(alert, at("2026-03-02T10:00:00Z"), no_url, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0]["labels"].contains("role"));
  EXPECT_EQ(out[0]["labels"]["department"], "unassigned");
  EXPECT_EQ(out[0]["labels"]["alertname"], "repeated-return");
  EXPECT_FALSE(out[0].contains("generatorURL"));
}

TEST(AlertmanagerMapping, RolesOnDutyKeepFirstMentionOrder) {
  const auto roles = roles_on_duty({{"b", "x"}, {"a", ""}, {"b", "y"}, {"a", "z"}});
  ASSERT_EQ(roles.size(), 2u);
  EXPECT_EQ(roles[0].role, "b");
  EXPECT_EQ(roles[0].on_duty, "x, y");
  EXPECT_EQ(roles[1].role, "a");
  EXPECT_EQ(roles[1].on_duty, "z");
}

TEST(AlertCloudEventDecoding, EveryKindRoundTrips) {
  const Alert fired = fired_alert();
  for (const Alert& alert : {fired, resolved_alert(fired, at("2026-03-02T10:20:00Z")),
                             retracted_alert(fired, at("2026-03-02T09:50:00Z"))}) {
    auto decoded = decode_alert_cloudevent(encode_alert_cloudevent(alert, "/slawatch"));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->kind, alert.kind);
    EXPECT_EQ(decoded->alert_id, alert.alert_id);
    EXPECT_EQ(decoded->case_id, alert.case_id);
    EXPECT_EQ(decoded->rule, alert.rule);
    EXPECT_EQ(decoded->cycle, alert.cycle);
    EXPECT_EQ(decoded->stage, alert.stage);
    EXPECT_EQ(decoded->severity, alert.severity);
    EXPECT_EQ(decoded->department, alert.department);
    EXPECT_EQ(decoded->due_at, alert.due_at);
    EXPECT_EQ(decoded->rule_version, alert.rule_version);
    EXPECT_EQ(decoded->emitted_at, alert.emitted_at);
    EXPECT_EQ(decoded->closed_at, alert.closed_at);
    EXPECT_EQ(decoded->reason, alert.reason);
    EXPECT_EQ(decoded->event_id, alert.kind == AlertKind::retracted ? alert.event_id : EventId());
    if (alert.kind == AlertKind::fired) {
      EXPECT_EQ(decoded->fired_at, alert.fired_at);
      EXPECT_EQ(decoded->started_at, alert.started_at);
      ASSERT_EQ(decoded->notify.size(), 3u);
      EXPECT_EQ(decoded->notify[0].person, "Li Wei");
      EXPECT_EQ(decoded->notify[1].role, "department.head");
      EXPECT_EQ(decoded->notify[1].person, "");  // null in JSON
    }
  }
}

TEST(AlertCloudEventDecoding, RejectsWhatIsNotAnAlert) {
  EXPECT_FALSE(decode_alert_cloudevent("not json").ok());
  EXPECT_FALSE(decode_alert_cloudevent(R"({"type":"hotline.case.created","time":"2026-03-02T10:00:00Z"})").ok());
  std::string bad = encode_alert_cloudevent(fired_alert(), "/s");
  bad.replace(bad.find("\"cycle\":1"), 9, "\"cycle\":\"1\"");
  auto decoded = decode_alert_cloudevent(bad);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("cycle"), std::string::npos);
}

}  // namespace
}  // namespace slawatch
