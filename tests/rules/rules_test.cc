#include "rules/rules.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace slawatch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Line numbers below are 1-based, as diagnostics report them.
constexpr const char* kDeadline =
    "id: sample\n"                                                                // 1
    "kind: deadline\n"                                                            // 2
    "title: Sample\n"                                                             // 3
    "start: [dispatched]\n"                                                       // 4
    "stop: [acknowledged]\n"                                                      // 5
    "target: 30m\n"                                                               // 6
    "stages:\n"                                                                   // 7
    "  - {name: breach, at: 100%, severity: major, notify: [department.head]}\n";  // 8

constexpr const char* kCount =
    "id: returns\n"                     // 1
    "kind: count\n"                     // 2
    "title: Returns\n"                  // 3
    "events: [returned]\n"              // 4
    "threshold: 2\n"                    // 5
    "window: 72h\n"                     // 6
    "severity: major\n"                 // 7
    "notify: [city.hotline_office]\n";  // 8

constexpr const char* kCalendar =
    "id: test-cal\n"                                     // 1
    "kind: calendar\n"                                   // 2
    "time_zone: Asia/Shanghai\n"                         // 3
    "working_days: [mon, tue, wed, thu, fri]\n"          // 4
    "working_hours: [\"08:00-12:00\", \"14:30-17:30\"]\n"  // 5
    "holidays: [2026-10-01]\n"                           // 6
    "extra_working_days: [2026-10-10]\n";                // 7

// `sample` with line `line` (1-based) replaced by `text` (which may hold
// several lines).
std::string with_line(const char* sample, int line, const std::string& text) {
  std::istringstream in(sample);
  std::string out, current;
  for (int n = 1; std::getline(in, current); ++n) out += (n == line ? text : current) + "\n";
  return out;
}

Instant utc(const char* text) { return parse_rfc3339(text).value(); }

class RulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("slawatch-rules-" + std::string(info->name()) + "-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `content` to dir/name and returns the path as diagnostics name it.
  std::string write(const std::string& name, const std::string& content) {
    const fs::path path = dir_ / name;
    fs::create_directories(path.parent_path());
    std::ofstream(path) << content;
    return path.generic_string();
  }
  std::string dir() const { return dir_.generic_string(); }
  LoadedRules load() const { return load_rules(dir()); }

  static std::string all(const LoadedRules& loaded) {
    std::string out;
    for (const Diagnostic& d : loaded.diagnostics) out += d.to_string() + "\n";
    return out;
  }

  // Exactly one diagnostic, at file:line:column, whose message contains `text`.
  static void expect_only(const LoadedRules& loaded, const std::string& file, int line, int column,
                          const std::string& text) {
    EXPECT_EQ(loaded.rules, nullptr);
    ASSERT_EQ(loaded.diagnostics.size(), 1u) << all(loaded);
    expect_at(loaded.diagnostics[0], file, line, column, text);
  }

  static void expect_at(const Diagnostic& d, const std::string& file, int line, int column,
                        const std::string& text) {
    EXPECT_EQ(d.file, file);
    EXPECT_EQ(d.line, line) << d.to_string();
    EXPECT_EQ(d.column, column) << d.to_string();
    EXPECT_NE(d.message.find(text), std::string::npos) << d.to_string();
  }

  fs::path dir_;
};

// ---- shipped and example rule sets ---------------------------------------

TEST_F(RulesTest, ShippedRulesFolderLoadsClean) {
  const LoadedRules loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const RuleSet& set = *loaded.rules;
  ASSERT_EQ(set.deadlines.size(), 3u);
  ASSERT_EQ(set.counts.size(), 2u);
  // Sorted file order.
  EXPECT_EQ(set.deadlines[0].id.str(), "emergency-handling");
  EXPECT_EQ(set.deadlines[1].id.str(), "first-response");
  EXPECT_EQ(set.deadlines[2].id.str(), "normal-handling");
  EXPECT_EQ(set.counts[0].id.str(), "repeated-return");
  EXPECT_EQ(set.counts[1].id.str(), "repeated-transfer");
  ASSERT_TRUE(set.calendars.contains("haikou"));
  EXPECT_EQ(set.deadlines[2].calendar, set.calendars.at("haikou"));
  EXPECT_EQ(set.deadlines[2].target, 35h);
  EXPECT_EQ(set.deadlines[2].stages.back().offset, 70h);
  EXPECT_EQ(set.version.size(), 12u);
}

TEST_F(RulesTest, HaikouCalendarCountsMakeUpDaysAndSkipsHolidays) {
  const LoadedRules loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const Calendar& haikou = *loaded.rules->calendars.at("haikou");
  // Saturday 2026-02-14 is a make-up working day: 4h + 3h.
  EXPECT_EQ(haikou.counted(utc("2026-02-14T00:00:00+08:00"), utc("2026-02-15T00:00:00+08:00")), 7h);
  // Monday 2026-02-16 is in the Spring Festival.
  EXPECT_EQ(haikou.counted(utc("2026-02-16T00:00:00+08:00"), utc("2026-02-17T00:00:00+08:00")), 0h);
  // An ordinary Monday.
  EXPECT_EQ(haikou.counted(utc("2026-03-02T00:00:00+08:00"), utc("2026-03-03T00:00:00+08:00")), 7h);
}

TEST_F(RulesTest, ContractExampleRulesLoadClean) {
  const LoadedRules loaded = load_rules(SLAWATCH_SHARED_DIR "/spec/examples/basic/rules");
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_EQ(loaded.rules->deadlines.size(), 2u);
  EXPECT_EQ(loaded.rules->counts.size(), 2u);
  const DeadlineRule& first_response = loaded.rules->deadlines[1];
  EXPECT_EQ(first_response.id.str(), "first-response");
  EXPECT_TRUE(first_response.start.contains(EventType::dispatched));
  EXPECT_TRUE(first_response.stop.contains(EventType::returned));
  EXPECT_FALSE(first_response.stop.contains(EventType::dispatched));
  EXPECT_TRUE(first_response.pause.empty());
}

// ---- a valid set, read in detail -----------------------------------------

TEST_F(RulesTest, ReadsEveryFieldOfADeadlineRule) {
  write("a.yaml",
        "id: full\n"
        "kind: deadline\n"
        "title: Full rule\n"
        "when: {priority: [urgent, emergency], district: [Longhua]}\n"
        "start: [hotline.case.created, reopened]\n"
        "stop: [resolved, closed]\n"
        "pause: suspended\n"
        "resume: [resumed]\n"
        "target: 1h30m\n"
        "stages:\n"
        "  - {name: warning, at: 50%, severity: info}\n"
        "  - {name: breach, at: 100%, severity: major, notify: [department.duty_officer]}\n"
        "  - {name: escalated, after: 3h, severity: critical, notify: [city.hotline_office]}\n");
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const DeadlineRule& rule = loaded.rules->deadlines.at(0);
  EXPECT_EQ(rule.title, "Full rule");
  EXPECT_EQ(rule.when.allowed.at("priority"), (std::vector<std::string>{"urgent", "emergency"}));
  EXPECT_EQ(rule.when.allowed.at("district"), (std::vector<std::string>{"Longhua"}));
  EXPECT_TRUE(rule.start.contains(EventType::created));
  EXPECT_TRUE(rule.start.contains(EventType::reopened));
  EXPECT_TRUE(rule.pause.contains(EventType::suspended));  // a single name is a list of one
  EXPECT_TRUE(rule.resume.contains(EventType::resumed));
  EXPECT_EQ(rule.target, 90min);
  EXPECT_EQ(rule.calendar->name(), make_always_calendar()->name());
  ASSERT_EQ(rule.stages.size(), 3u);
  EXPECT_EQ(rule.stages[0].offset, 45min);
  EXPECT_EQ(rule.stages[0].percent, 50);
  EXPECT_TRUE(rule.stages[0].notify.empty());
  EXPECT_EQ(rule.stages[1].offset, 90min);
  EXPECT_EQ(rule.stages[1].notify, (std::vector<std::string>{"department.duty_officer"}));
  EXPECT_EQ(rule.stages[2].offset, 3h);
  EXPECT_EQ(rule.stages[2].percent, 0);
  EXPECT_EQ(rule.stages[2].severity, "critical");
}

TEST_F(RulesTest, PercentOffsetIsAShareOfTheTarget) {
  write("a.yaml", with_line(kDeadline, 6, "target: 999ms"));
  write("b.yaml", with_line(with_line(kDeadline, 1, "id: other").c_str(), 8,
                            "  - {name: early, at: 1%, severity: minor}\n"
                            "  - {name: breach, at: 150%, severity: major}"));
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const Stage& whole = loaded.rules->deadlines[0].stages[0];
  EXPECT_EQ(whole.percent, 100);
  EXPECT_EQ(whole.offset, 999ms);
  const DeadlineRule& other = loaded.rules->deadlines[1];
  EXPECT_EQ(other.stages[0].offset, 18s);   // 1% of 30m
  EXPECT_EQ(other.stages[1].offset, 45min);  // 150% of 30m
}

TEST_F(RulesTest, PercentOffsetRoundsDownOddMilliseconds) {
  write("a.yaml", with_line(with_line(kDeadline, 6, "target: 999ms").c_str(), 8,
                            "  - {name: half, at: 50%, severity: minor}"));
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_EQ(loaded.rules->deadlines[0].stages[0].offset, 499ms);  // 499.5 rounded down
}

TEST_F(RulesTest, ReadsACountRule) {
  write("a.yaml", kCount);
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const CountRule& rule = loaded.rules->counts.at(0);
  EXPECT_EQ(rule.id.str(), "returns");
  EXPECT_TRUE(rule.events.contains(EventType::returned));
  EXPECT_EQ(rule.threshold, 2);
  EXPECT_EQ(rule.window, 72h);
  EXPECT_EQ(rule.severity, "major");
  EXPECT_EQ(rule.notify, (std::vector<std::string>{"city.hotline_office"}));
}

TEST_F(RulesTest, ACalendarAndItsRuleCanShareAFile) {
  write("all.yaml", std::string(kCalendar) + "---\n" +
                        with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_EQ(loaded.rules->deadlines.at(0).calendar, loaded.rules->calendars.at("test-cal"));
  EXPECT_EQ(loaded.rules->deadlines.at(0).calendar->name(), "test-cal");
  EXPECT_TRUE(loaded.rules->calendars.contains("always"));
}

TEST_F(RulesTest, CalendarHolidayRangesAndMakeUpDaysReachTheCalendar) {
  write("cal.yaml", with_line(with_line(kCalendar, 6,
                                        "holidays:\n"
                                        "  - {from: 2026-10-01, to: 2026-10-07, name: National Day}")
                                  .c_str(),
                              8, "extra_working_days: [2026-10-10]"));
  write("rule.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  const LoadedRules loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  const Calendar& calendar = *loaded.rules->calendars.at("test-cal");
  // Wednesday 2026-10-07 is the last holiday; Saturday 2026-10-10 is worked.
  EXPECT_EQ(calendar.counted(utc("2026-10-07T00:00:00+08:00"), utc("2026-10-08T00:00:00+08:00")), 0h);
  EXPECT_EQ(calendar.counted(utc("2026-10-08T00:00:00+08:00"), utc("2026-10-09T00:00:00+08:00")), 7h);
  EXPECT_EQ(calendar.counted(utc("2026-10-10T00:00:00+08:00"), utc("2026-10-11T00:00:00+08:00")), 7h);
}

TEST_F(RulesTest, ExtraCalendarPathsAreSearchedForCalendarsOnly) {
  const std::string config = dir() + "/config";
  write("config/calendars.yaml", std::string(kCalendar) + "---\n" + kCount);
  write("config/server.yaml", "listen: 0.0.0.0:8080\n");  // unrelated config is left alone
  write("rules/rule.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  const LoadedRules loaded = load_rules(dir() + "/rules", {config});
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_TRUE(loaded.rules->calendars.contains("test-cal"));
  EXPECT_TRUE(loaded.rules->counts.empty());  // the count rule in config/ is not a rule here
}

TEST_F(RulesTest, FolderIsReadRecursivelyThroughSymlinksSkippingHiddenAndOtherFiles) {
  write("real/nested/b.yaml", with_line(kDeadline, 1, "id: b"));
  write("rules/a.yml", with_line(kDeadline, 1, "id: a"));
  write("rules/.backup.yaml", "this: is not read\n");
  write("rules/notes.txt", "neither is this\n");
  fs::create_directory_symlink("../real", dir_ / "rules" / "linked");
  fs::create_directory_symlink("..", dir_ / "rules" / "loop");  // must not recurse forever
  const LoadedRules loaded = load_rules(dir() + "/rules");
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  ASSERT_EQ(loaded.rules->deadlines.size(), 2u);
  EXPECT_EQ(loaded.rules->deadlines[0].id.str(), "a");
  EXPECT_EQ(loaded.rules->deadlines[1].id.str(), "b");
}

TEST_F(RulesTest, AFileReachedTwiceIsReadOnce) {
  write("config/calendars/cal.yaml", kCalendar);
  write("rules/rule.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  fs::create_directory_symlink("../config/calendars", dir_ / "rules" / "calendars");
  const LoadedRules loaded = load_rules(dir() + "/rules", {dir() + "/config/calendars"});
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_EQ(loaded.rules->calendars.size(), 2u);  // always + test-cal
}

TEST_F(RulesTest, ASingleFileCanBeLoaded) {
  const std::string file = write("only.yaml", kCount);
  const LoadedRules loaded = load_rules(file);
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  EXPECT_EQ(loaded.rules->counts.size(), 1u);
}

// ---- version -------------------------------------------------------------

TEST_F(RulesTest, VersionIsStableAndIndependentOfTheFolderLocation) {
  write("one/a.yaml", kDeadline);
  write("two/a.yaml", kDeadline);
  const LoadedRules first = load_rules(dir() + "/one");
  const LoadedRules again = load_rules(dir() + "/one");
  const LoadedRules elsewhere = load_rules(dir() + "/two");
  ASSERT_NE(first.rules, nullptr) << all(first);
  ASSERT_NE(elsewhere.rules, nullptr) << all(elsewhere);
  EXPECT_EQ(first.rules->version, again.rules->version);
  EXPECT_EQ(first.rules->version, elsewhere.rules->version);
  EXPECT_EQ(first.rules->version.find_first_not_of("0123456789abcdef"), std::string::npos);
}

TEST_F(RulesTest, VersionChangesWithContentAndFileName) {
  write("one/a.yaml", kDeadline);
  write("two/a.yaml", with_line(kDeadline, 6, "target: 31m"));
  write("three/b.yaml", kDeadline);
  const LoadedRules one = load_rules(dir() + "/one");
  const LoadedRules two = load_rules(dir() + "/two");
  const LoadedRules three = load_rules(dir() + "/three");
  ASSERT_NE(one.rules, nullptr);
  ASSERT_NE(two.rules, nullptr);
  ASSERT_NE(three.rules, nullptr);
  EXPECT_NE(one.rules->version, two.rules->version);
  EXPECT_NE(one.rules->version, three.rules->version);
}

TEST_F(RulesTest, VersionChangesWhenAnExtraCalendarChanges) {
  write("rules/a.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  write("cal1/c.yaml", kCalendar);
  write("cal2/c.yaml", with_line(kCalendar, 6, "holidays: [2026-10-02]"));
  const LoadedRules one = load_rules(dir() + "/rules", {dir() + "/cal1"});
  const LoadedRules two = load_rules(dir() + "/rules", {dir() + "/cal2"});
  ASSERT_NE(one.rules, nullptr) << all(one);
  ASSERT_NE(two.rules, nullptr) << all(two);
  EXPECT_NE(one.rules->version, two.rules->version);
}

// ---- one test per mistake --------------------------------------------------

TEST_F(RulesTest, UnknownKeySuggestsTheClosestKnownKey) {
  const std::string file = write("a.yaml", with_line(kDeadline, 6, "tagret: 30m"));
  const LoadedRules loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 2u) << all(loaded);
  expect_at(loaded.diagnostics[0], file, 1, 1, "missing required key 'target'");
  expect_at(loaded.diagnostics[1], file, 6, 1, "unknown key 'tagret' (did you mean 'target'?)");
}

TEST_F(RulesTest, UnknownKeyFarFromAnyKnownKeyHasNoSuggestion) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "title: x\nowner: me"));
  const LoadedRules loaded = load();
  expect_only(loaded, file, 4, 1, "unknown key 'owner'");
  EXPECT_EQ(loaded.diagnostics[0].message.find("did you mean"), std::string::npos);
}

TEST_F(RulesTest, MissingRequiredKey) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "# no title"));
  expect_only(load(), file, 1, 1, "missing required key 'title'");
}

TEST_F(RulesTest, MissingRequiredKeyInAStage) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name: breach, at: 100%}"));
  expect_only(load(), file, 8, 5, "missing required key 'severity' in stage 'breach'");
}

// Found by fuzz_rules (fuzz/corpus/rules/stage-without-name.yaml): a stage
// map without 'name' threw YAML::InvalidNode out of the loader.
TEST_F(RulesTest, StageWithoutANameIsADiagnosticNotAnException) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name:breach, at: 100%, severity: major}"));
  const LoadedRules loaded = load();
  EXPECT_EQ(loaded.rules, nullptr);
  ASSERT_FALSE(loaded.diagnostics.empty());
  EXPECT_NE(loaded.diagnostics[0].to_string().find(":8:5: missing required key 'name' in stage 1"), std::string::npos)
      << loaded.diagnostics[0].to_string();
}

TEST_F(RulesTest, KeyWithoutValue) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "title:"));
  expect_only(load(), file, 3, 1, "'title' needs a value");
}

TEST_F(RulesTest, DuplicateKey) {
  const std::string file = write("a.yaml", with_line(kDeadline, 6, "target: 30m\ntarget: 40m"));
  expect_only(load(), file, 7, 1, "duplicate key 'target' (first given at line 6)");
}

TEST_F(RulesTest, WrongTypeForStages) {
  const std::string file =
      write("a.yaml", with_line(with_line(kDeadline, 8, "").c_str(), 7, "stages: breach"));
  expect_only(load(), file, 7, 9, "'stages' must be a list of stages, got the text 'breach'");
}

TEST_F(RulesTest, WrongTypeForAList) {
  const std::string file = write("a.yaml", with_line(kDeadline, 4, "start: {dispatched: yes}"));
  expect_only(load(), file, 4, 8, "'start' must be a list, got a mapping");
}

TEST_F(RulesTest, WrongTypeForWhen) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "title: x\nwhen: urgent"));
  expect_only(load(), file, 4, 7, "'when' must map case attributes to allowed values");
}

TEST_F(RulesTest, WrongTypeForThreshold) {
  const std::string file = write("a.yaml", with_line(kCount, 5, "threshold: [2]"));
  expect_only(load(), file, 5, 12, "'threshold' must be a whole number of at least 2, got a list");
}

TEST_F(RulesTest, DocumentThatIsNotAMapping) {
  const std::string file = write("a.yaml", std::string(kCount) + "---\n- just\n- a list\n");
  expect_only(load(), file, 10, 1, "expected a rule or calendar (a mapping with 'kind:'), got a list");
}

TEST_F(RulesTest, BadDuration) {
  const std::string file = write("a.yaml", with_line(kDeadline, 6, "target: 30 minutes"));
  expect_only(load(), file, 6, 9, "'target': bad duration '30 minutes'");
}

TEST_F(RulesTest, ZeroDuration) {
  const std::string file = write("a.yaml", with_line(kCount, 6, "window: 0s"));
  expect_only(load(), file, 6, 9, "'window' must be longer than 0, got '0s'");
}

TEST_F(RulesTest, BadPercent) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name: breach, at: 100, severity: major}"));
  expect_only(load(), file, 8, 24, "bad percent '100' for 'at'");
}

TEST_F(RulesTest, ZeroPercent) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name: breach, at: 0%, severity: major}"));
  expect_only(load(), file, 8, 24, "bad percent '0%' for 'at'");
}

TEST_F(RulesTest, StageWithBothAtAndAfter) {
  const std::string file = write(
      "a.yaml", with_line(kDeadline, 8, "  - {name: breach, at: 100%, after: 30m, severity: major}"));
  expect_only(load(), file, 8, 30, "stage 'breach' has both 'at' and 'after'");
}

TEST_F(RulesTest, StageWithNeitherAtNorAfter) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name: breach, severity: major}"));
  expect_only(load(), file, 8, 5, "stage 'breach' needs 'at: N%' (of the target) or 'after: <duration>'");
}

TEST_F(RulesTest, UnknownEventTypeListsTheValidOnes) {
  const std::string file = write("a.yaml", with_line(kDeadline, 4, "start: [dispached]"));
  expect_only(load(), file, 4, 9,
              "unknown event type 'dispached' in 'start' (did you mean 'dispatched'?); valid types: "
              "created, dispatched, acknowledged, returned, suspended, resumed, updated, resolved, "
              "closed, reopened, feedback");
}

TEST_F(RulesTest, UnknownEventTypeWithTheFullPrefix) {
  const std::string file = write("a.yaml", with_line(kCount, 4, "events: [hotline.case.retuned]"));
  expect_only(load(), file, 4, 10,
              "unknown event type 'hotline.case.retuned' in 'events' (did you mean 'returned'?)");
}

TEST_F(RulesTest, EventTypeInBothStartAndStop) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 5, "stop: [acknowledged, dispatched]"));
  expect_only(load(), file, 5, 22, "event type 'dispatched' is in both 'start' and 'stop'");
}

TEST_F(RulesTest, EventTypeInBothPauseAndStop) {
  const std::string file = write(
      "a.yaml", with_line(kDeadline, 5, "stop: [acknowledged]\npause: [acknowledged]\nresume: [resumed]"));
  expect_only(load(), file, 6, 9, "event type 'acknowledged' is in both 'stop' and 'pause'");
}

TEST_F(RulesTest, DuplicateRuleIdNamesBothLocations) {
  const std::string first = write("a.yaml", kDeadline);
  const std::string second = write("b.yaml", with_line(kCount, 1, "id: sample"));
  expect_only(load(), second, 1, 5, "duplicate rule id 'sample' (first defined at " + first + ":1:5)");
}

TEST_F(RulesTest, DuplicateCalendarIdNamesBothLocations) {
  write("a.yaml", kDeadline);
  const std::string first = write("c1.yaml", kCalendar);
  const std::string second = write("c2.yaml", kCalendar);
  expect_only(load(), second, 1, 5,
              "duplicate calendar id 'test-cal' (first defined at " + first + ":1:5)");
}

TEST_F(RulesTest, StagesOutOfOrder) {
  const std::string file = write("a.yaml", with_line(kDeadline, 8,
                                                     "  - {name: warning, after: 30m, severity: minor}\n"
                                                     "  - {name: breach, at: 100%, severity: major}"));
  expect_only(load(), file, 9, 24, "stages out of order: 'breach' (30m) is not after 'warning' (30m)");
}

TEST_F(RulesTest, StagesOutOfOrderWithDurations) {
  const std::string file = write("a.yaml", with_line(kDeadline, 8,
                                                     "  - {name: warning, at: 100%, severity: minor}\n"
                                                     "  - {name: breach, after: 20m, severity: major}"));
  expect_only(load(), file, 9, 27, "stages out of order: 'breach' (20m) is not after 'warning' (30m)");
}

TEST_F(RulesTest, DuplicateStageName) {
  const std::string file = write("a.yaml", with_line(kDeadline, 8,
                                                     "  - {name: breach, at: 80%, severity: minor}\n"
                                                     "  - {name: breach, at: 100%, severity: major}"));
  expect_only(load(), file, 9, 5, "duplicate stage name 'breach' (first at line 8)");
}

TEST_F(RulesTest, UnknownCalendarSuggestsAKnownOne) {
  write("cal.yaml", with_line(kCalendar, 1, "id: haikou"));
  const std::string file = write("a.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: haikuo"));
  expect_only(load(), file, 7, 11,
              "unknown calendar 'haikuo' (did you mean 'haikou'?); known calendars: always, haikou");
}

TEST_F(RulesTest, RuleOnABrokenCalendarIsNotAlsoToldItIsUnknown) {
  const std::string calendar = write("cal.yaml", with_line(kCalendar, 3, "time_zone: Asia/Shangai"));
  write("a.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  expect_only(load(), calendar, 3, 12, "unknown time zone 'Asia/Shangai'");
}

TEST_F(RulesTest, EmptyStartList) {
  const std::string file = write("a.yaml", with_line(kDeadline, 4, "start: []"));
  expect_only(load(), file, 4, 8, "empty 'start' list: at least one entry is needed");
}

TEST_F(RulesTest, EmptyStopList) {
  const std::string file = write("a.yaml", with_line(kDeadline, 5, "stop:"));
  expect_only(load(), file, 5, 1, "empty 'stop' list");
}

TEST_F(RulesTest, EmptyStagesList) {
  const std::string file =
      write("a.yaml", with_line(with_line(kDeadline, 8, "").c_str(), 7, "stages: []"));
  expect_only(load(), file, 7, 9, "empty 'stages' list");
}

TEST_F(RulesTest, BadSeverity) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 8, "  - {name: breach, at: 100%, severity: majr}"));
  expect_only(load(), file, 8, 40,
              "bad severity 'majr' (did you mean 'major'?): use info, minor, major or critical");
}

TEST_F(RulesTest, BadRole) {
  const std::string file = write(
      "a.yaml",
      with_line(kDeadline, 8, "  - {name: breach, at: 100%, severity: major, notify: [hotline_office]}"));
  expect_only(load(), file, 8, 56, "bad role 'hotline_office': write department.<role> or city.<role>");
}

TEST_F(RulesTest, BadRoleScope) {
  const std::string file = write("a.yaml", with_line(kCount, 8, "notify: [province.office]"));
  expect_only(load(), file, 8, 10, "bad role 'province.office'");
}

TEST_F(RulesTest, PauseWithoutResume) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 5, "stop: [acknowledged]\npause: [suspended]"));
  expect_only(load(), file, 6, 1, "'pause' without 'resume'");
}

TEST_F(RulesTest, ResumeWithoutPause) {
  const std::string file =
      write("a.yaml", with_line(kDeadline, 5, "stop: [acknowledged]\nresume: [resumed]"));
  expect_only(load(), file, 6, 1, "'resume' without 'pause'");
}

TEST_F(RulesTest, BadPriorityInWhen) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "title: x\nwhen: {priority: [urgnt]}"));
  expect_only(load(), file, 4, 19,
              "bad priority 'urgnt' (did you mean 'urgent'?): use normal, urgent or emergency");
}

TEST_F(RulesTest, UnknownAttributeInWhen) {
  const std::string file = write("a.yaml", with_line(kDeadline, 3, "title: x\nwhen: {prority: [urgent]}"));
  expect_only(load(), file, 4, 8, "unknown key 'prority' in 'when' (did you mean 'priority'?)");
}

TEST_F(RulesTest, BadRuleId) {
  const std::string file = write("a.yaml", with_line(kDeadline, 1, "id: First_Response"));
  expect_only(load(), file, 1, 5,
              "bad id 'First_Response': use only lower-case letters, digits and '-'");
}

TEST_F(RulesTest, UnknownKind) {
  const std::string file = write("a.yaml", with_line(kDeadline, 2, "kind: dedline"));
  expect_only(load(), file, 2, 7,
              "unknown kind 'dedline' (did you mean 'deadline'?): use deadline, count or calendar");
}

TEST_F(RulesTest, MissingKind) {
  const std::string file = write("a.yaml", with_line(kDeadline, 2, "# kind forgotten"));
  expect_only(load(), file, 1, 1, "missing required key 'kind'");
}

TEST_F(RulesTest, ThresholdBelowTwo) {
  const std::string file = write("a.yaml", with_line(kCount, 5, "threshold: 1"));
  expect_only(load(), file, 5, 12, "'threshold' must be a whole number of at least 2, got the text '1'");
}

TEST_F(RulesTest, EmptyCountEvents) {
  const std::string file = write("a.yaml", with_line(kCount, 4, "events: []"));
  expect_only(load(), file, 4, 9, "empty 'events' list");
}

TEST_F(RulesTest, BadDate) {
  write("a.yaml", kDeadline);
  const std::string file = write("cal.yaml", with_line(kCalendar, 6, "holidays: [2026-02-30]"));
  expect_only(load(), file, 6, 12, "bad date '2026-02-30': write a real date as YYYY-MM-DD");
}

TEST_F(RulesTest, DateRangeEndingBeforeItStarts) {
  write("a.yaml", kDeadline);
  const std::string file =
      write("cal.yaml", with_line(kCalendar, 6, "holidays:\n  - {from: 2026-10-07, to: 2026-10-01}"));
  expect_only(load(), file, 7, 28, "date range ends (2026-10-01) before it starts (2026-10-07)");
}

TEST_F(RulesTest, DateBothHolidayAndExtraWorkingDay) {
  write("a.yaml", kDeadline);
  const std::string file = write("cal.yaml", with_line(kCalendar, 7, "extra_working_days: [2026-10-01]"));
  expect_only(load(), file, 7, 22, "date 2026-10-01 is both a holiday and an extra working day");
}

TEST_F(RulesTest, OverlappingWorkingHours) {
  write("a.yaml", kDeadline);
  const std::string file = write(
      "cal.yaml", with_line(kCalendar, 5, "working_hours: [\"08:00-12:00\", \"11:00-13:00\"]"));
  expect_only(load(), file, 5, 32, "working hours 11:00-13:00 overlap 08:00-12:00");
}

TEST_F(RulesTest, BadWorkingHours) {
  write("a.yaml", kDeadline);
  const std::string file = write("cal.yaml", with_line(kCalendar, 5, "working_hours: [\"12:00-08:00\"]"));
  expect_only(load(), file, 5, 17, "bad working hours '12:00-08:00'");
}

TEST_F(RulesTest, BadWorkingDay) {
  write("a.yaml", kDeadline);
  const std::string file = write("cal.yaml", with_line(kCalendar, 4, "working_days: [mon, moon]"));
  expect_only(load(), file, 4, 21, "bad working day 'moon' (did you mean 'mon'?)");
}

TEST_F(RulesTest, ReservedCalendarId) {
  write("a.yaml", kDeadline);
  const std::string file = write("cal.yaml", with_line(kCalendar, 1, "id: always"));
  expect_only(load(), file, 1, 5, "calendar id 'always' is reserved");
}

TEST_F(RulesTest, YamlSyntaxErrorHasALocation) {
  const std::string file = write("a.yaml", with_line(kDeadline, 4, "start: [dispatched\nx: 1"));
  const LoadedRules loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 1u) << all(loaded);
  EXPECT_EQ(loaded.diagnostics[0].file, file);
  EXPECT_GE(loaded.diagnostics[0].line, 4);
  EXPECT_GT(loaded.diagnostics[0].column, 0);
  EXPECT_NE(loaded.diagnostics[0].message.find("YAML syntax error"), std::string::npos);
}

TEST_F(RulesTest, EmptyFolder) {
  const LoadedRules loaded = load();
  expect_only(loaded, dir(), 0, 0, "no rule files (*.yaml, *.yml) found");
}

TEST_F(RulesTest, FolderWithCalendarsButNoRules) {
  write("cal.yaml", kCalendar);
  expect_only(load(), dir(), 0, 0, "no rules found");
}

TEST_F(RulesTest, MissingPath) {
  const std::string missing = dir() + "/nowhere";
  expect_only(load_rules(missing), missing, 0, 0, "no such file or folder");
}

// ---- everything at once -----------------------------------------------------

TEST_F(RulesTest, EveryMistakeInAFileIsReportedInLineOrder) {
  const std::string file = write("a.yaml",
                                 "id: Bad_Id\n"                              // 1
                                 "kind: deadline\n"                          // 2
                                 "title: Many mistakes\n"                    // 3
                                 "start: [dispached]\n"                      // 4
                                 "stop: [acknowledged]\n"                    // 5
                                 "tagret: 30m\n"                             // 6
                                 "stages:\n"                                 // 7
                                 "  - {name: breach, at: 100%, severity: high, notify: [boss]}\n");  // 8
  const LoadedRules loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 6u) << all(loaded);
  expect_at(loaded.diagnostics[0], file, 1, 1, "missing required key 'target'");
  expect_at(loaded.diagnostics[1], file, 1, 5, "bad id 'Bad_Id'");
  expect_at(loaded.diagnostics[2], file, 4, 9, "unknown event type 'dispached'");
  expect_at(loaded.diagnostics[3], file, 6, 1, "unknown key 'tagret'");
  expect_at(loaded.diagnostics[4], file, 8, 40, "bad severity 'high'");
  expect_at(loaded.diagnostics[5], file, 8, 55, "bad role 'boss'");
}

TEST_F(RulesTest, MistakesInSeveralFilesAreAllReportedInFileOrder) {
  const std::string a = write("a.yaml", with_line(kDeadline, 6, "target: soon"));
  const std::string b = write("b.yaml", with_line(kCount, 5, "threshold: 1"));
  const std::string c = write("c.yaml", with_line(kCalendar, 6, "holidays: [2026-13-01]"));
  const LoadedRules loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 3u) << all(loaded);
  expect_at(loaded.diagnostics[0], a, 6, 9, "bad duration 'soon'");
  expect_at(loaded.diagnostics[1], b, 5, 12, "'threshold'");
  expect_at(loaded.diagnostics[2], c, 6, 12, "bad date '2026-13-01'");
}

TEST_F(RulesTest, ASyntaxErrorInOneFileDoesNotHideMistakesInAnother) {
  const std::string a = write("a.yaml", "id: [unclosed\n");
  const std::string b = write("b.yaml", with_line(kCount, 7, "severity: loud"));
  const LoadedRules loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 2u) << all(loaded);
  EXPECT_EQ(loaded.diagnostics[0].file, a);
  expect_at(loaded.diagnostics[1], b, 7, 11, "bad severity 'loud'");
}

// ---- AttributeFilter ---------------------------------------------------------

TEST(AttributeFilterTest, EmptyFilterMatchesEveryCase) {
  EXPECT_TRUE(AttributeFilter{}.matches(CaseAttributes{}));
}

TEST(AttributeFilterTest, EveryListedAttributeMustHaveAnAllowedValue) {
  AttributeFilter filter;
  filter.allowed["priority"] = {"urgent", "emergency"};
  filter.allowed["district"] = {"Longhua"};
  CaseAttributes attributes;
  attributes.priority = "urgent";
  attributes.district = "Longhua";
  EXPECT_TRUE(filter.matches(attributes));
  attributes.priority = "emergency";
  EXPECT_TRUE(filter.matches(attributes));
  attributes.priority = "normal";
  EXPECT_FALSE(filter.matches(attributes));
  attributes.priority = "urgent";
  attributes.district = "Meilan";
  EXPECT_FALSE(filter.matches(attributes));
}

TEST(AttributeFilterTest, AnAbsentAttributeDoesNotMatch) {
  AttributeFilter filter;
  filter.allowed["department"] = {"water"};
  EXPECT_FALSE(filter.matches(CaseAttributes{}));
}

// ---- Diagnostic and the check command -----------------------------------------

TEST(DiagnosticTest, FormatsFileLineColumnAndMessage) {
  EXPECT_EQ((Diagnostic{"rules/x.yaml", 3, 7, "unknown key 'tagret'"}.to_string()),
            "rules/x.yaml:3:7: unknown key 'tagret'");
  EXPECT_EQ((Diagnostic{"rules", 0, 0, "no rules found"}.to_string()), "rules: no rules found");
}

TEST_F(RulesTest, CheckCommandPrintsASummaryWhenRulesAreValid) {
  write("a.yaml", kDeadline);
  write("b.yaml", kCount);
  write("c.yaml", kCalendar);
  std::ostringstream out, err;
  EXPECT_EQ(check_rules_command(dir(), {}, out, err), 0);
  const std::string version = load().rules->version;
  EXPECT_EQ(out.str(), "rules OK: 2 rules (1 deadline, 1 count), 1 calendar, version " + version + "\n");
  EXPECT_EQ(err.str(), "");
}

TEST_F(RulesTest, CheckCommandPrintsEveryDiagnosticAndFails) {
  const std::string a = write("a.yaml", with_line(kDeadline, 6, "tagret: 30m"));
  std::ostringstream out, err;
  EXPECT_EQ(check_rules_command(dir(), {}, out, err), 1);
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(err.str(), a + ":1:1: missing required key 'target'\n" + a +
                           ":6:1: unknown key 'tagret' (did you mean 'target'?)\n"
                           "rules check failed: 2 errors\n");
}

}  // namespace
}  // namespace slawatch

namespace slawatch {
namespace {

// ---- size limits (issue 16: 10,000 stages were accepted) --------------------

std::string stages_list(size_t count) {
  std::string out = "stages:\n";
  for (size_t i = 0; i < count; ++i) {
    out += "  - {name: s" + std::to_string(i) + ", after: " + std::to_string(i + 1) + "m, severity: minor}\n";
  }
  return out;
}

TEST_F(RulesTest, TwentyStagesAreAcceptedAndTheTwentyFirstIsNot) {
  const std::string without_stages = with_line(kDeadline, 8, "");
  write("a.yaml", with_line(without_stages.c_str(), 7, stages_list(20)));
  EXPECT_NE(load().rules, nullptr) << all(load());
  const std::string path = write("a.yaml", with_line(without_stages.c_str(), 7, stages_list(21)));
  // Line 7 is "stages:", the 21st stage is on line 7 + 21.
  expect_only(load(), path, 28, 5, "more than 20 stages in one rule");
}

TEST_F(RulesTest, RulesPerSetAreLimited) {
  std::string many;
  for (int i = 0; i < 1001; ++i) {
    if (i > 0) many += "---\n";
    many += with_line(kCount, 1, "id: r" + std::to_string(i));
  }
  const std::string path = write("many.yaml", many);
  auto loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 1u) << all(loaded);
  expect_at(loaded.diagnostics[0], path, 1000 * 9 + 1, 1, "more than 1000 rules in the set");
}

TEST_F(RulesTest, EventTypeListsAreLimited) {
  std::string list = "stop: [";
  for (int i = 0; i < 33; ++i) list += std::string(i > 0 ? ", " : "") + "acknowledged";
  const std::string path = write("a.yaml", with_line(kDeadline, 5, list + "]"));
  expect_only(load(), path, 5, 8 + 32 * 14, "'stop' has more than 32 entries");
}

TEST_F(RulesTest, TextAndNamesAreLimited) {
  std::string path = write("a.yaml", with_line(kDeadline, 3, "title: " + std::string(1024, 't')));
  EXPECT_NE(load().rules, nullptr) << all(load());
  path = write("a.yaml", with_line(kDeadline, 3, "title: " + std::string(1025, 't')));
  expect_only(load(), path, 3, 8, "'title' is too long (1025 bytes, limit 1024)");
  path = write("a.yaml", with_line(kDeadline, 1, "id: " + std::string(65, 'a')));
  expect_only(load(), path, 1, 5, "bad id: longer than 64 characters (65)");
}

TEST_F(RulesTest, RuleFilesOverTheSizeLimitAreNotRead) {
  const std::string path = write("a.yaml", std::string(kDeadline) + "# " + std::string(4u << 20, 'x') + "\n");
  auto loaded = load();
  ASSERT_FALSE(loaded.diagnostics.empty());
  EXPECT_NE(loaded.diagnostics[0].message.find("file too large"), std::string::npos) << all(loaded);
}

TEST_F(RulesTest, ACalendarWithoutWorkingTimeInAYearIsWarnedOfNotRefused) {
  // Every Monday of 2027 is a holiday in a calendar that works only on Mondays.
  std::string mondays;
  for (auto day = std::chrono::sys_days{std::chrono::year{2027} / 1 / 4};
       day < std::chrono::sys_days{std::chrono::year{2028} / 1 / 1}; day += std::chrono::days{7}) {
    const std::chrono::year_month_day ymd{day};
    char text[16];
    std::snprintf(text, sizeof(text), "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
    mondays += std::string(mondays.empty() ? "" : ", ") + text;
  }
  std::string calendar = with_line(kCalendar, 4, "working_days: [mon]");
  calendar = with_line(calendar.c_str(), 6, "holidays: [" + mondays + "]");
  calendar = with_line(calendar.c_str(), 7, "");
  const std::string path = write("cal.yaml", calendar);
  write("rule.yaml", with_line(kDeadline, 6, "target: 30m\ncalendar: test-cal"));
  auto loaded = load();
  ASSERT_NE(loaded.rules, nullptr) << all(loaded);
  ASSERT_EQ(loaded.warnings.size(), 1u);
  expect_at(loaded.warnings[0], path, 6, 12, "warning: calendar 'test-cal' has no working time in 2027");
  // One working Monday left: no warning.
  write("cal.yaml", with_line(calendar.c_str(), 6, "holidays: [" + mondays.substr(12) + "]"));
  EXPECT_TRUE(load().warnings.empty());
}

TEST_F(RulesTest, ASymlinkLoopIsReportedAsOne) {
  fs::create_symlink("b.yaml", dir_ / "a.yaml");
  fs::create_symlink("a.yaml", dir_ / "b.yaml");
  write("ok.yaml", kDeadline);
  auto loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 2u) << all(loaded);
  EXPECT_EQ(loaded.diagnostics[0].message, "symlink loop (too many levels of symbolic links)");
  fs::remove(dir_ / "a.yaml");
  fs::remove(dir_ / "b.yaml");
  fs::create_symlink("missing.yaml", dir_ / "a.yaml");
  loaded = load();
  ASSERT_EQ(loaded.diagnostics.size(), 1u) << all(loaded);
  EXPECT_EQ(loaded.diagnostics[0].message, "broken link: its target does not exist");
}

}  // namespace
}  // namespace slawatch
