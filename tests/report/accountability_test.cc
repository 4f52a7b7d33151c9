// The accountability ledger on a small hand-made history, replayed through
// the real engine; every expected number is worked out by hand in comments.
#include "report/accountability.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace slawatch {
namespace {

namespace fs = std::filesystem;
using std::chrono::minutes;

constexpr const char* kRules =
    "id: first-response\nkind: deadline\ntitle: First response in 30 minutes\nstart: [dispatched]\n"
    "stop: [acknowledged, returned, resolved, closed]\ntarget: 30m\ncalendar: always\nstages:\n"
    "  - {name: warning, at: 80%, severity: minor, notify: [department.duty_officer]}\n"
    "  - {name: breach, at: 100%, severity: major, notify: [department.duty_officer, department.head]}\n"
    "  - {name: escalated, after: 60m, severity: critical, notify: [city.hotline_office, city.discipline_inspection]}\n"
    "---\n"
    "id: repeated-return\nkind: count\ntitle: Returned twice\nevents: [returned]\nthreshold: 2\nwindow: 72h\n"
    "severity: major\nnotify: [city.hotline_office]\n";

// water: Chen Wei and Li Na alternate daily at 08:30 from 2026-03-01 (turn 0 = Chen Wei).
constexpr const char* kRoster =
    "defaults: {time_zone: Asia/Shanghai, handover: \"08:30\", period: 1d, starts: 2026-03-01}\n"
    "city: {hotline_office: Hu Min, discipline_inspection: Zhou Bo}\n"
    "departments:\n"
    "  - {id: water, head: Liu Jun, duty_officers: {order: [Chen Wei, Li Na]}}\n"
    "  - {id: roads, head: Wu Gang, duty_officers: He Jing}\n";

std::string event(const std::string& id, const std::string& type, const std::string& case_id,
                  const std::string& local_time, const std::string& data = "{}") {
  return R"({"specversion":"1.0","id":")" + id + R"(","source":"/t","type":"hotline.case.)" + type +
         R"(","subject":")" + case_id + R"(","time":")" + local_time + R"(+08:00","data":)" + data + "}\n";
}

std::string dispatched(const std::string& id, const std::string& c, const std::string& t, const std::string& dept,
                       const std::string& from = "") {
  return event(id, "dispatched", c, t,
               R"({"department":")" + dept + "\"" + (from.empty() ? "" : R"(,"from_department":")" + from + "\"") + "}");
}

std::string by(const std::string& dept) { return R"({"department":")" + dept + R"("})"; }

// In file order (C5's acknowledgement arrives late).
const std::string kHistory =
    // C0: breach due 2026-03-01 20:30, before the window: not counted.
    dispatched("0a", "C0", "2026-03-01T20:00:00", "water") + event("0b", "acknowledged", "C0", "2026-03-01T21:00:00", by("water")) +
    // C1: water, breach due 09:30 (turn 1: Li Na), acknowledged 09:40 -> overdue 10m; escalated (10:00) met.
    dispatched("1a", "C1", "2026-03-02T09:00:00", "water") + event("1b", "acknowledged", "C1", "2026-03-02T09:40:00", by("water")) +
    // C2: water returns it at 10:20 (Li Na: 1 return) and it goes to roads at 10:25 (water, Li Na: 1 transfer);
    // roads (He Jing): breach due 10:55 and escalated due 11:25, resolved 12:00 -> 65m and 35m overdue.
    dispatched("2a", "C2", "2026-03-02T10:00:00", "water") + event("2b", "returned", "C2", "2026-03-02T10:20:00", by("water")) +
    dispatched("2c", "C2", "2026-03-02T10:25:00", "roads", "water") + event("2d", "resolved", "C2", "2026-03-02T12:00:00", by("roads")) +
    // C5: roads at 13:00; C6 moves the clock to 14:00 (C5's breach and escalation fire), then C5's
    // acknowledgement at 13:20 arrives: both retracted, nothing counted.
    dispatched("5a", "C5", "2026-03-02T13:00:00", "roads") +
    event("6a", "created", "C6", "2026-03-02T14:00:00", R"({"category":"noise","priority":"normal","channel":"phone"})") +
    event("5b", "acknowledged", "C5", "2026-03-02T13:20:00", by("roads")) +
    // C3: water at 2026-03-03 08:00, never answered; breach due 08:30 (turn 2: Chen Wei) and escalated 09:00,
    // still open at --to 10:00 -> 90m and 60m overdue.
    dispatched("3a", "C3", "2026-03-03T08:00:00", "water");

class AccountabilityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("slawatch-report-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    std::ofstream(dir_ / "rules.yaml") << kRules;
    std::ofstream(dir_ / "roster.yaml") << kRoster;
    std::ofstream(dir_ / "events.jsonl") << kHistory;
    auto rules = load_rules((dir_ / "rules.yaml").string());
    ASSERT_TRUE(rules.diagnostics.empty()) << rules.diagnostics.front().to_string();
    auto source = JsonLinesSource::open((dir_ / "events.jsonl").string());
    ASSERT_TRUE(source.ok());
    auto built = replay_accountability(rules.rules, load_roster_or_throw((dir_ / "roster.yaml").string()), **source,
                                       parse_rfc3339("2026-03-02T00:00:00+08:00").value(),
                                       parse_rfc3339("2026-03-03T10:00:00+08:00").value());
    ASSERT_TRUE(built.ok()) << built.error().message;
    report_ = *built;
  }
  void TearDown() override { fs::remove_all(dir_); }

  const PersonTally& person(const std::string& name) {
    for (const auto& p : report_.people) {
      if (p.person == name) return p;
    }
    ADD_FAILURE() << "no row for " << name;
    static PersonTally none;
    return none;
  }

  fs::path dir_;
  AccountabilityReport report_;
};

TEST_F(AccountabilityTest, TotalsCasesAndPersonTimes) {
  const Tally& t = report_.total;
  EXPECT_EQ(t.breaches, 5);  // C1 breach, C2 breach + escalated, C3 breach + escalated
  EXPECT_EQ(t.by_stage.at("breach"), 3);
  EXPECT_EQ(t.by_stage.at("escalated"), 2);
  EXPECT_FALSE(t.by_stage.contains("warning")) << "early warnings are not breaches";
  EXPECT_EQ(t.cases.size(), 3u);         // C1, C2, C3
  EXPECT_EQ(report_.person_times, 3);    // (C1, Li Na), (C2, He Jing), (C3, Chen Wei)
  EXPECT_EQ(t.overdue_total, minutes{10 + 65 + 35 + 90 + 60});
  EXPECT_EQ(t.overdue_max, minutes{90});
  EXPECT_EQ(t.still_open, 2);
  EXPECT_EQ(t.discipline, 2);
  EXPECT_EQ(t.returns, 1);
  EXPECT_EQ(t.transfers, 1);
  EXPECT_EQ(report_.stages, (std::vector<std::string>{"breach", "escalated", "threshold"}));
  EXPECT_EQ(report_.end, parse_rfc3339("2026-03-03T10:00:00+08:00").value());
}

TEST_F(AccountabilityTest, PerDepartment) {
  ASSERT_EQ(report_.departments.size(), 2u);
  const Tally& water = report_.departments.at("water");
  EXPECT_EQ(water.breaches, 3);
  EXPECT_EQ(water.cases.size(), 2u);
  EXPECT_EQ(water.overdue_total, minutes{10 + 90 + 60});
  EXPECT_EQ(water.overdue_max, minutes{90});
  EXPECT_EQ(water.discipline, 1);
  EXPECT_EQ(water.returns, 1);
  EXPECT_EQ(water.transfers, 1);
  const Tally& roads = report_.departments.at("roads");
  EXPECT_EQ(roads.breaches, 2);
  EXPECT_EQ(roads.cases.size(), 1u);
  EXPECT_EQ(roads.overdue_total, minutes{100});
  EXPECT_EQ(roads.overdue_max, minutes{65});
  EXPECT_EQ(roads.still_open, 0);
  EXPECT_EQ(roads.returns + roads.transfers, 0);
}

TEST_F(AccountabilityTest, PerDutyOfficerOnDutyAtTheDueTime) {
  ASSERT_EQ(report_.people.size(), 3u);
  const auto& li = person("Li Na");
  EXPECT_EQ(li.department, "water");
  EXPECT_EQ(li.tally.breaches, 1);
  EXPECT_EQ(li.tally.overdue_total, minutes{10});
  EXPECT_EQ(li.tally.returns, 1);
  EXPECT_EQ(li.tally.transfers, 1);
  const auto& chen = person("Chen Wei");
  EXPECT_EQ(chen.tally.breaches, 2);
  EXPECT_EQ(chen.tally.cases.size(), 1u);
  EXPECT_EQ(chen.tally.overdue_total, minutes{150});
  EXPECT_EQ(chen.tally.still_open, 2);
  EXPECT_EQ(chen.tally.discipline, 1);
  const auto& he = person("He Jing");
  EXPECT_EQ(he.department, "roads");
  EXPECT_EQ(he.tally.breaches, 2);
  EXPECT_EQ(he.tally.by_stage.at("escalated"), 1);
  EXPECT_EQ(he.tally.overdue_max, minutes{65});
}

TEST_F(AccountabilityTest, RendersTheSameNumbersInEveryFormat) {
  const std::string md = render_markdown(report_);
  EXPECT_NE(md.find("**3 cases, 3 person-times: 5 breached stages (2 escalated to discipline inspection), "
                    "1 returns, 1 transfers.**"), std::string::npos) << md;
  EXPECT_NE(md.find("| Chen Wei | water | 1 | 2 | 1 | 1 | 0 | 2h30m | 1h30m | 2 | 0 | 0 | 1 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| water | 2 | 3 | 2 | 1 | 0 | 2h40m | 1h30m | 2 | 1 | 1 | 1 |"), std::string::npos) << md;
  const std::string csv = render_csv(report_);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "level,department,person,cases,breaches,stage_breach,stage_escalated,stage_threshold,"
            "overdue_total_seconds,overdue_max_seconds,still_open,returns,transfers,discipline_inspection");
  EXPECT_NE(csv.find("\ntotal,,,3,5,3,2,0,15600,5400,2,1,1,2\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nperson,roads,He Jing,1,2,1,1,0,6000,3900,0,0,0,1\n"), std::string::npos) << csv;
  const std::string html = render_html(report_);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_NE(html.find("<td>Chen Wei</td><td>water</td><td class=\"n\">1</td><td class=\"n\">2</td>"), std::string::npos);
}

}  // namespace
}  // namespace slawatch
