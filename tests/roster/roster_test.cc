#include "roster/roster.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace slawatch {
namespace {

namespace fs = std::filesystem;

Instant at(const char* text) { return parse_rfc3339(text).value(); }

// Line numbers are 1-based, as diagnostics report them.
constexpr const char* kRoster =
    "title: Test roster\n"                                              // 1
    "defaults: {time_zone: Asia/Shanghai, handover: \"08:30\", period: 1d, starts: 2026-03-02}\n"  // 2
    "city:\n"                                                           // 3
    "  hotline_office: {order: [Hu Min, Gao Yan], period: 7d}\n"        // 4
    "  discipline_inspection: Zhou Mingde\n"                            // 5
    "departments:\n"                                                    // 6
    "  - id: water\n"                                                   // 7
    "    name: Water Bureau\n"                                          // 8
    "    head: Liu Jianguo\n"                                           // 9
    "    duty_officers:\n"                                              // 10
    "      order: [Chen Wei, Li Na, Zhao Lei]\n"                        // 11
    "      periods:\n"                                                  // 12
    "        - {from: 2026-03-10, to: 2026-03-11, person: Sun Hao}\n"   // 13
    "        - from: 2026-03-20\n"                                      // 14
    "          to: 2026-03-22\n"                                        // 15
    "          shifts:\n"                                               // 16
    "            - {from: 2026-03-20, to: 2026-03-20T20:30, person: Ma Li}\n"  // 17
    "            - {from: 2026-03-20T20:30, to: 2026-03-22, person: Sun Hao}\n"  // 18
    "  - id: roads\n"                                                   // 19
    "    head: Wu Gang\n"                                               // 20
    "    duty_officers: {order: [He Jing, Xu Tao], period: 12h, handover: \"20:00\", starts: 2026-03-01}\n"  // 21
    "    roles: {deputy_head: Lin Feng}\n";                             // 22

std::string with_line(const char* sample, int line, const std::string& text) {
  std::istringstream in(sample);
  std::string out, current;
  for (int n = 1; std::getline(in, current); ++n) out += (n == line ? text : current) + "\n";
  return out;
}

class RosterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("slawatch-roster-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& content) {
    const auto path = dir_ / name;
    std::ofstream(path) << content;
    return path.string();
  }
  LoadedRoster load(const std::string& content) { return load_roster(write("roster.yaml", content)); }
  // The messages of a load that must fail, as "line:column: message".
  std::vector<std::string> errors(const std::string& content) {
    auto loaded = load(content);
    EXPECT_EQ(loaded.roster, nullptr);
    std::vector<std::string> out;
    for (const auto& d : loaded.errors) {
      EXPECT_EQ(d.file, (dir_ / "roster.yaml").string());
      out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
    }
    return out;
  }

  fs::path dir_;
};

::testing::AssertionResult has_error(const std::vector<std::string>& errors, const std::string& part) {
  for (const auto& e : errors) {
    if (e.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  }
  std::string all;
  for (const auto& e : errors) all += "\n  " + e;
  return ::testing::AssertionFailure() << "no error containing '" << part << "' in:" << all;
}

TEST_F(RosterTest, DailyRotationHandsOverAtLocalHandoverTime) {
  auto loaded = load(kRoster);
  ASSERT_TRUE(loaded.errors.empty()) << loaded.errors.front().to_string();
  const Roster& r = *loaded.roster;
  // Anchor 2026-03-02 08:30 +08:00 = 00:30Z.
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-02T08:29:59+08:00")), "");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-02T08:30:00+08:00")), "Chen Wei");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-03T08:29:59.999+08:00")), "Chen Wei");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-03T08:30:00+08:00")), "Li Na");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-04T12:00:00+08:00")), "Zhao Lei");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-05T09:00:00+08:00")), "Chen Wei");
  // 100 days on: (100 mod 3) = 1.
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-06-10T09:00:00+08:00")), "Li Na");
  EXPECT_EQ(r.resolve("department.head", "water", at("2020-01-01T00:00:00Z")), "Liu Jianguo");
}

TEST_F(RosterTest, ExplicitPeriodsAndShiftsOverrideTheRotation) {
  auto loaded = load(kRoster);
  ASSERT_TRUE(loaded.roster);
  const Roster& r = *loaded.roster;
  // 2026-03-10 is day 8 of the rotation (Zhao Lei) but Sun Hao stands in.
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-10T08:29:00+08:00")), "Li Na");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-10T08:30:00+08:00")), "Sun Hao");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-11T08:29:00+08:00")), "Sun Hao");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-11T08:30:00+08:00")), "Chen Wei");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-20T20:29:00+08:00")), "Ma Li");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-20T20:30:00+08:00")), "Sun Hao");
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-22T08:29:00+08:00")), "Sun Hao");
  // 2026-03-22 08:30 is day 20: 20 mod 3 = 2.
  EXPECT_EQ(r.resolve("department.duty_officer", "water", at("2026-03-22T08:30:00+08:00")), "Zhao Lei");
}

TEST_F(RosterTest, TwelveHourShiftsAndWeeklyCityRotation) {
  auto loaded = load(kRoster);
  ASSERT_TRUE(loaded.roster);
  const Roster& r = *loaded.roster;
  // roads: anchor 2026-03-01 20:00, 12h: He Jing 20:00-08:00, Xu Tao 08:00-20:00.
  EXPECT_EQ(r.resolve("department.duty_officer", "roads", at("2026-03-01T19:59:00+08:00")), "");
  EXPECT_EQ(r.resolve("department.duty_officer", "roads", at("2026-03-02T07:59:00+08:00")), "He Jing");
  EXPECT_EQ(r.resolve("department.duty_officer", "roads", at("2026-03-02T08:00:00+08:00")), "Xu Tao");
  EXPECT_EQ(r.resolve("department.duty_officer", "roads", at("2026-03-02T20:00:00+08:00")), "He Jing");
  EXPECT_EQ(r.resolve("department.deputy_head", "roads", at("2026-03-02T20:00:00+08:00")), "Lin Feng");
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-03-08T23:00:00+08:00")), "Hu Min");
  EXPECT_EQ(r.resolve("city.hotline_office", "roads", at("2026-03-09T08:30:00+08:00")), "Gao Yan");
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-03-16T08:30:00+08:00")), "Hu Min");
  EXPECT_EQ(r.resolve("city.discipline_inspection", "", at("2026-03-16T08:30:00+08:00")), "Zhou Mingde");
}

TEST_F(RosterTest, UnknownRolesAndDepartmentsResolveToNobody) {
  auto loaded = load(kRoster);
  ASSERT_TRUE(loaded.roster);
  const Roster& r = *loaded.roster;
  const Instant t = at("2026-03-05T09:00:00+08:00");
  EXPECT_EQ(r.resolve("department.duty_officer", "gas", t), "");
  EXPECT_EQ(r.resolve("department.deputy_head", "water", t), "");
  EXPECT_EQ(r.resolve("city.mayor", "water", t), "");
  EXPECT_EQ(r.resolve("duty_officer", "water", t), "");
}

TEST_F(RosterTest, HandoverStaysAtLocalTimeAcrossDaylightSaving) {
  // Europe/Berlin: clocks go forward on 2026-03-29 and back on 2026-10-25.
  auto loaded = load(
      "city: {hotline_office: {order: [A, B], period: 1d, handover: \"08:00\", time_zone: Europe/Berlin, "
      "starts: 2026-03-27}}\n"
      "departments: [{id: x, head: H}]\n");
  ASSERT_TRUE(loaded.roster) << loaded.errors.front().to_string();
  const Roster& r = *loaded.roster;
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-03-27T08:00:00+01:00")), "A");
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-03-29T07:59:00+02:00")), "B");
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-03-29T08:00:00+02:00")), "A");
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-10-26T07:59:00+01:00")), "A");  // turn 212
  EXPECT_EQ(r.resolve("city.hotline_office", "", at("2026-10-26T08:00:00+01:00")), "B");  // turn 213
}

TEST_F(RosterTest, ReportsEveryMistakeWithItsLocation) {
  auto e = errors(with_line(kRoster, 2, "defaults: {time_zone: Asia/Shangai, handover: \"8:75\", period: 0d, starts: 2026-02-30}"));
  EXPECT_TRUE(has_error(e, "2:23: unknown time zone 'Asia/Shangai'"));
  EXPECT_TRUE(has_error(e, "2:47: bad handover '8:75'"));
  EXPECT_TRUE(has_error(e, "2:63: 'period' must be longer than 0"));
  EXPECT_TRUE(has_error(e, "2:75: bad date '2026-02-30'"));
}

TEST_F(RosterTest, EmptyRotationIsAnError) {
  auto e = errors(with_line(kRoster, 11, "      order: []"));
  EXPECT_TRUE(has_error(e, "11:14: empty rotation 'water.duty_officers'"));
}

TEST_F(RosterTest, DuplicateDepartmentIsAnError) {
  auto e = errors(with_line(kRoster, 19, "  - id: water"));
  EXPECT_TRUE(has_error(e, "19:9: duplicate department 'water' (first listed at line 7)"));
}

TEST_F(RosterTest, OverlappingPeriodsAreAnError) {
  auto e = errors(with_line(kRoster, 13, "        - {from: 2026-03-19, to: 2026-03-21, person: Sun Hao}"));
  EXPECT_TRUE(has_error(e, "14:11: period 2026-03-20 .. 2026-03-22 overlaps the one at line 13"));
}

TEST_F(RosterTest, GapsAndOverlapsInsideAPeriodAreErrors) {
  auto gap = errors(with_line(kRoster, 18, "            - {from: 2026-03-20T21:00, to: 2026-03-22, person: Sun Hao}"));
  EXPECT_TRUE(has_error(gap, "18:15: gap in the shifts of the period at line 14: nobody from 2026-03-20T20:30 to 2026-03-20T21:00"));
  auto overlap = errors(with_line(kRoster, 18, "            - {from: 2026-03-20T20:00, to: 2026-03-22, person: Sun Hao}"));
  EXPECT_TRUE(has_error(overlap, "18:15: shift 2026-03-20T20:00 .. 2026-03-22 overlaps the one at line 17"));
  auto short_end = errors(with_line(kRoster, 18, "            - {from: 2026-03-20T20:30, to: 2026-03-21, person: Sun Hao}"));
  EXPECT_TRUE(has_error(short_end, "18:15: shifts of the period at line 14 end at 2026-03-21, not at its end 2026-03-22"));
  auto late_start = errors(with_line(kRoster, 17, "            - {from: 2026-03-20T09:00, to: 2026-03-20T20:30, person: Ma Li}"));
  EXPECT_TRUE(has_error(late_start, "nobody from 2026-03-20 to 2026-03-20T09:00"));
}

TEST_F(RosterTest, BadPeriodsAreErrors) {
  auto e = errors(with_line(kRoster, 13, "        - {from: 2026-03-11, to: 2026-03-10, person: Sun Hao}"));
  EXPECT_TRUE(has_error(e, "13:34: empty period 2026-03-11 .. 2026-03-10: 'to' must be after 'from'"));
  auto both = errors(with_line(kRoster, 13, "        - {from: 2026-03-10, to: 2026-03-11}"));
  EXPECT_TRUE(has_error(both, "13:11: a period of 'water.duty_officers' needs either 'person' or 'shifts'"));
  auto bad_time = errors(with_line(kRoster, 13, "        - {from: 2026-03-10T25:00, to: 2026-03-11, person: X}"));
  EXPECT_TRUE(has_error(bad_time, "13:18: bad 'from' '2026-03-10T25:00'"));
}

TEST_F(RosterTest, MissingRotationFieldsWithoutDefaultsAreErrors) {
  auto e = errors(
      "city: {hotline_office: {order: [A]}}\n"
      "departments: [{id: x, head: H}]\n");
  EXPECT_TRUE(has_error(e, "1:24: rotation 'city.hotline_office' needs 'period' (here or in 'defaults')"));
  EXPECT_TRUE(has_error(e, "needs 'time_zone'"));
  EXPECT_TRUE(has_error(e, "needs 'handover'"));
  EXPECT_TRUE(has_error(e, "needs 'starts'"));
}

TEST_F(RosterTest, StructuralMistakes) {
  EXPECT_TRUE(has_error(errors("departments: [{id: x, head: H}]\n"), "1:1: missing required key 'city'"));
  EXPECT_TRUE(has_error(errors("city: {}\ndepartments: [{id: x}]\n"), "2:15: department 'x' names nobody"));
  EXPECT_TRUE(has_error(errors("city: {Hotline: A}\ndepartments: [{id: x, head: H}]\n"), "1:8: bad role name 'Hotline'"));
  EXPECT_TRUE(has_error(errors("city: {a: A}\ndepartments: [{id: x, haed: H}]\n"),
                        "2:23: unknown key 'haed' in a department (did you mean 'head'?)"));
  EXPECT_TRUE(has_error(errors("city: {a: [A]}\ndepartments: [{id: x, head: H}]\n"), "1:11: 'city.a' must be a person's name or a rotation"));
  EXPECT_TRUE(has_error(errors("city: {a: A\n"), "bad YAML"));
}

TEST_F(RosterTest, LoadOrThrowListsEveryError) {
  const std::string path = write("bad.yaml", "city: {}\ndepartments: [{id: x}, {id: x}]\n");
  try {
    load_roster_or_throw(path);
    FAIL() << "expected RosterError";
  } catch (const RosterError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(path + ":2:15: department 'x' names nobody"), std::string::npos) << message;
    EXPECT_NE(message.find(path + ":2:29: duplicate department 'x'"), std::string::npos) << message;
  }
}

TEST_F(RosterTest, ChecksTheRulesDepartmentsAndRoles) {
  const std::string roster = write("roster.yaml", kRoster);
  fs::create_directories(dir_ / "rules");
  write("rules/a.yaml",
        "id: a\nkind: deadline\ntitle: A\nwhen: {department: [water, raods]}\nstart: [dispatched]\n"
        "stop: [acknowledged]\ntarget: 30m\nstages:\n"
        "  - {name: breach, at: 100%, severity: major, notify: [department.duty_officer, department.deputy_head]}\n");
  write("rules/b.yaml",
        "id: b\nkind: count\ntitle: B\nevents: [returned]\nthreshold: 2\nwindow: 72h\nseverity: major\n"
        "notify: [city.hotline_office, city.mayor, department.chief]\n");
  std::ostringstream out, err;
  EXPECT_EQ(check_roster_command(roster, (dir_ / "rules").string(), out, err), 1);
  const std::string text = err.str();
  const std::string a = (dir_ / "rules/a.yaml").string();
  const std::string b = (dir_ / "rules/b.yaml").string();
  EXPECT_NE(text.find(a + ":4:28: rule 'a' names department 'raods' that the roster (" + roster +
                      ") does not list (did you mean 'roads'?)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(a + ":9:81: warning: rule 'a' notifies 'department.deputy_head' but 1 department(s)"),
            std::string::npos) << text;
  EXPECT_NE(text.find(b + ":8:31: rule 'b' notifies 'city.mayor' but the roster"), std::string::npos) << text;
  EXPECT_NE(text.find(b + ":8:43: rule 'b' notifies 'department.chief' but no department"), std::string::npos) << text;
  EXPECT_EQ(text.find("department.duty_officer"), std::string::npos) << text;
  EXPECT_EQ(text.find("city.hotline_office"), std::string::npos) << text;
  EXPECT_NE(text.find("roster check: 3 error(s), 1 warning(s)"), std::string::npos) << text;
}

TEST_F(RosterTest, CheckCommandSummaryWhenValid) {
  std::ostringstream out, err;
  EXPECT_EQ(check_roster_command(write("roster.yaml", kRoster), "", out, err), 0);
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(out.str(), "roster OK: 2 departments, 2 city roles, 3 rotations, 13 people\n");
}

TEST_F(RosterTest, ShippedRosterCoversTheRulesAndEverySimulatedUnit) {
  const std::string root = SLAWATCH_SOURCE_DIR;
  std::ostringstream out, err;
  EXPECT_EQ(check_roster_command(root + "/config/roster.yaml", root + "/rules", out, err), 0) << err.str();
  EXPECT_EQ(err.str(), "");
  auto roster = load_roster_or_throw(root + "/config/roster.yaml");
  EXPECT_EQ(roster->departments().size(), 91u);
  const Instant t = at("2026-03-02T10:00:00+08:00");
  for (const auto& [id, d] : roster->departments()) {
    EXPECT_FALSE(roster->resolve("department.duty_officer", id, t).empty()) << id;
    EXPECT_FALSE(roster->resolve("department.head", id, t).empty()) << id;
  }
  EXPECT_FALSE(roster->resolve("city.hotline_office", "", t).empty());
  EXPECT_FALSE(roster->resolve("city.discipline_inspection", "", t).empty());
}

TEST_F(RosterTest, ResolveIsFast) {
  auto roster = load_roster_or_throw(std::string(SLAWATCH_SOURCE_DIR) + "/config/roster.yaml");
  const Instant start = at("2026-03-02T00:00:00+08:00");
  const auto begin = std::chrono::steady_clock::now();
  std::vector<std::string> ids;
  for (const auto& [id, d] : roster->departments()) ids.push_back(id);
  size_t found = 0;
  constexpr int kLookups = 200000;
  for (int i = 0; i < kLookups; ++i) {
    const auto& d = ids[static_cast<size_t>(i) % ids.size()];
    found += !roster->resolve("department.duty_officer", d, start + std::chrono::minutes{i}).empty();
  }
  const auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - begin).count();
  std::cout << "resolve: " << took * 1000 / kLookups << " ns per lookup\n";
  EXPECT_EQ(found, static_cast<size_t>(kLookups));
  // Generous bound (shared CI machine): a lookup is well under a microsecond.
  EXPECT_LT(took / kLookups, 5.0) << took / kLookups << " us per lookup";
}

}  // namespace
}  // namespace slawatch
