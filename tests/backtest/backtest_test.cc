// Backtest on small hand-made histories whose differences are known exactly:
// first response 30m (baseline) vs 45m (candidate), edges at the threshold and
// 1 ms after it, a late event retracting a fired breach, business-time
// response times, samples, a rule present on one side only, and the renderers.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "backtest/backtest.h"

namespace slawatch {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class BacktestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("slawatch-backtest-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "baseline");
    fs::create_directories(dir_ / "candidate");
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string first_response(const std::string& target, const std::string& calendar = "always") {
    return "id: first-response\nkind: deadline\ntitle: First response\nstart: [dispatched]\n"
           "stop: [acknowledged, returned, resolved, closed]\npause: [suspended]\nresume: [resumed]\n"
           "target: " + target + "\ncalendar: " + calendar + "\nstages:\n"
           "  - {name: breach, at: 100%, severity: major, notify: [department.duty_officer]}\n";
  }
  void write(const fs::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
  }
  std::shared_ptr<const RuleSet> load(const std::string& side) {
    auto loaded = load_rules((dir_ / side).string());
    for (const auto& d : loaded.diagnostics) ADD_FAILURE() << d.to_string();
    return loaded.rules;
  }
  // One event line; `time` is UTC ("2026-03-02T09:00:00.000Z").
  void event(const std::string& id, const std::string& case_id, const std::string& type, const std::string& time,
             const std::string& department = "") {
    std::string data = "{}";
    if (type == "created") data = R"({"category":"water","priority":"normal","channel":"phone"})";
    if (!department.empty()) data = R"({"department":")" + department + "\"}";
    events_ += R"({"specversion":"1.0","id":")" + id + R"(","source":"/test","type":"hotline.case.)" + type +
               R"(","subject":")" + case_id + R"(","time":")" + time + R"(","data":)" + data + "}\n";
  }
  // A case dispatched at 09:00 to `department` and acknowledged at `ack` (or never).
  void dispatched_case(const std::string& case_id, const std::string& department, const std::string& ack) {
    event(case_id + "-c", case_id, "created", "2026-03-02T08:59:00.000Z");
    event(case_id + "-d", case_id, "dispatched", "2026-03-02T09:00:00.000Z", department);
    if (!ack.empty()) event(case_id + "-a", case_id, "acknowledged", "2026-03-02T" + ack + "Z", department);
  }
  Result<BacktestReport> run(BacktestStore store = BacktestStore::memory, size_t samples = 20) {
    write(dir_ / "events.jsonl", events_);
    auto baseline = load("baseline");
    auto candidate = load("candidate");
    if (!baseline || !candidate) return Error{"rules did not load"};
    BacktestOptions options;
    options.events_path = (dir_ / "events.jsonl").string();
    options.until = from_millis(to_millis(*parse_rfc3339("2026-03-02T12:00:00Z")));
    options.store = store;
    options.temp_root = dir_.string();
    options.sample_limit = samples;
    return run_backtest(baseline, "baseline", candidate, "candidate", options);
  }
  // Thirty-minute baseline, 45-minute candidate, and the edge cases around both.
  void thirty_vs_forty_five() {
    write(dir_ / "baseline" / "fr.yaml", first_response("30m"));
    write(dir_ / "candidate" / "fr.yaml", first_response("45m"));
    dispatched_case("c1", "water", "09:20:00.000");  // met by both
    dispatched_case("c2", "water", "09:30:00.000");  // exactly at 30m: met
    dispatched_case("c3", "water", "09:30:00.001");  // 1 ms after 30m: breaches the baseline only
    dispatched_case("c4", "water", "09:44:59.999");  // baseline only
    dispatched_case("c5", "roads", "09:45:00.000");  // exactly at 45m: baseline only
    dispatched_case("c6", "water", "09:45:00.001");  // 1 ms after 45m: both
    dispatched_case("c7", "water", "");              // never acknowledged: both
  }
  static const RuleComparison& rule(const BacktestReport& r, const std::string& id) {
    for (const auto& x : r.rules) {
      if (x.id == id) return x;
    }
    throw std::runtime_error("no rule " + id);
  }

  fs::path dir_;
  std::string events_;
};

TEST_F(BacktestTest, ThirtyVersusFortyFiveMinutesKnownCases) {
  thirty_vs_forty_five();
  auto report = run();
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& fr = rule(*report, "first-response");
  EXPECT_EQ(fr.baseline_target, Duration{30min});
  EXPECT_EQ(fr.candidate_target, Duration{45min});
  ASSERT_EQ(fr.stages.size(), 1u);
  const auto& breach = fr.stages[0];
  EXPECT_EQ(breach.total.baseline, 5u);
  EXPECT_EQ(breach.total.candidate, 2u);
  EXPECT_EQ(breach.total.gone, 3u);
  EXPECT_EQ(breach.total.added, 0u);
  EXPECT_EQ(breach.total.difference(), -3);
  EXPECT_EQ(breach.gone_cases, (std::vector<std::string>{"c3", "c4", "c5"}));
  EXPECT_TRUE(breach.added_cases.empty());
  ASSERT_EQ(breach.departments.size(), 2u);
  EXPECT_EQ(breach.departments.at("water").baseline, 4u);
  EXPECT_EQ(breach.departments.at("water").candidate, 2u);
  EXPECT_EQ(breach.departments.at("roads").baseline, 1u);
  EXPECT_EQ(breach.departments.at("roads").candidate, 0u);
  EXPECT_EQ(report->baseline.records, 20u);
  EXPECT_EQ(report->baseline.dead_letters, 0u);
  EXPECT_EQ(headline(fr),
            "first-response/breach: 30m -> 45m, 3 of 5 breaches disappear (5 -> 2, -3, -60.0%); most in water "
            "(-2), roads (-1).");
}

TEST_F(BacktestTest, ResponseTimesAgainstBothTargets) {
  thirty_vs_forty_five();
  auto report = run();
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& fr = rule(*report, "first-response");
  ASSERT_TRUE(fr.baseline_times && fr.candidate_times);
  const ResponseTimes& t = *fr.baseline_times;
  EXPECT_EQ(t.closed, 6u);      // c1..c6
  EXPECT_EQ(t.still_open, 1u);  // c7
  EXPECT_EQ(t.within_baseline, 2u);   // 20m, 30m exactly
  EXPECT_EQ(t.within_candidate, 5u);  // ... and 30m+1ms, 44:59.999, 45m exactly
  // Sorted: 20m, 30m, 30m+1ms, 45m-1ms, 45m, 45m+1ms; nearest rank.
  EXPECT_EQ(t.p50, Duration{30min} + 1ms);
  EXPECT_EQ(t.p90, Duration{45min} + 1ms);
  EXPECT_EQ(t.p99, Duration{45min} + 1ms);
  // 3 x 45m = 135m over ~30 buckets: 5m wide, [0,5m) ... plus overflow.
  EXPECT_EQ(fr.bucket_width, Duration{5min});
  ASSERT_EQ(t.buckets.size(), 28u);
  EXPECT_EQ(t.buckets[4], 1u);  // [20m, 25m)
  EXPECT_EQ(t.buckets[6], 2u);  // [30m, 35m): 30m and 30m+1ms
  EXPECT_EQ(t.buckets[8], 1u);  // [40m, 45m): 45m-1ms
  EXPECT_EQ(t.buckets[9], 2u);  // [45m, 50m)
  // The same cycles on both sides: the same distribution.
  EXPECT_EQ(fr.candidate_times->buckets, t.buckets);
}

TEST_F(BacktestTest, LateAcknowledgementRetractsTheBreachOnBothSides) {
  write(dir_ / "baseline" / "fr.yaml", first_response("30m"));
  write(dir_ / "candidate" / "fr.yaml", first_response("45m"));
  dispatched_case("c1", "water", "");
  // c2 moves the clock to 10:00: c1's breach fires on both sides...
  event("c2-c", "c2", "created", "2026-03-02T10:00:00.000Z");
  // ...then c1's acknowledgement at 09:25 arrives late and retracts it.
  event("c1-a", "c1", "acknowledged", "2026-03-02T09:25:00.000Z", "water");
  auto report = run();
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& breach = rule(*report, "first-response").stages[0];
  EXPECT_EQ(report->baseline.fired, 1u);
  EXPECT_EQ(report->baseline.retracted, 1u);
  EXPECT_EQ(breach.total.baseline, 0u);
  EXPECT_EQ(breach.total.candidate, 0u);
  EXPECT_EQ(headline(rule(*report, "first-response")), "first-response/breach: 30m -> 45m, no change (0 breaches).");
}

TEST_F(BacktestTest, BusinessCalendarCountsOnlyWorkingTime) {
  const std::string calendar =
      "id: office\nkind: calendar\ntitle: Office\ntime_zone: UTC\nworking_days: [mon, tue, wed, thu, fri]\n"
      "working_hours: [\"09:00-17:00\"]\n";
  write(dir_ / "baseline" / "fr.yaml", first_response("30m", "office"));
  write(dir_ / "baseline" / "office.yaml", calendar);
  write(dir_ / "candidate" / "fr.yaml", first_response("45m", "office"));
  write(dir_ / "candidate" / "office.yaml", calendar);
  // Friday 16:50 -> Monday 09:10: 20 working minutes, met by both.
  event("w-d", "w", "dispatched", "2026-03-06T16:50:00.000Z", "water");
  event("w-a", "w", "acknowledged", "2026-03-09T09:10:00.000Z", "water");
  // Friday 16:40 -> Monday 09:20: 40 working minutes, breaches the 30m baseline only.
  event("x-d", "x", "dispatched", "2026-03-06T16:40:00.000Z", "roads");
  event("x-a", "x", "acknowledged", "2026-03-09T09:20:00.000Z", "roads");
  write(dir_ / "events.jsonl", events_);
  BacktestOptions options;
  options.events_path = (dir_ / "events.jsonl").string();
  auto report = run_backtest(load("baseline"), "b", load("candidate"), "c", options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& fr = rule(*report, "first-response");
  EXPECT_EQ(fr.baseline_calendar, "office");
  ASSERT_TRUE(fr.baseline_times);
  EXPECT_EQ(fr.baseline_times->closed, 2u);
  EXPECT_EQ(fr.baseline_times->p50, Duration{20min});
  EXPECT_EQ(fr.baseline_times->max, Duration{40min});
  EXPECT_EQ(fr.baseline_times->within_baseline, 1u);
  EXPECT_EQ(fr.baseline_times->within_candidate, 2u);
  EXPECT_EQ(fr.stages[0].total.baseline, 1u);
  EXPECT_EQ(fr.stages[0].total.candidate, 0u);
  EXPECT_EQ(fr.stages[0].gone_cases, std::vector<std::string>{"x"});
}

TEST_F(BacktestTest, PausedTimeIsNotResponseTime) {
  write(dir_ / "baseline" / "fr.yaml", first_response("30m"));
  write(dir_ / "candidate" / "fr.yaml", first_response("45m"));
  // 10 minutes running, an hour suspended, 20 more running: 30 minutes exactly, met by both.
  event("p-d", "p", "dispatched", "2026-03-02T09:00:00.000Z", "water");
  event("p-s", "p", "suspended", "2026-03-02T09:10:00.000Z");
  event("p-r", "p", "resumed", "2026-03-02T10:10:00.000Z");
  event("p-a", "p", "acknowledged", "2026-03-02T10:30:00.000Z", "water");
  auto report = run();
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& fr = rule(*report, "first-response");
  ASSERT_TRUE(fr.baseline_times);
  EXPECT_EQ(fr.baseline_times->closed, 1u);
  EXPECT_EQ(fr.baseline_times->max, Duration{30min});
  EXPECT_EQ(fr.baseline_times->within_baseline, 1u);
  EXPECT_EQ(fr.stages[0].total.baseline, 0u);
}

TEST_F(BacktestTest, RocksDbStateGivesTheSameReportAndCleansUp) {
  thirty_vs_forty_five();
  auto memory = run(BacktestStore::memory);
  auto rocks = run(BacktestStore::rocksdb);
  ASSERT_TRUE(memory.ok() && rocks.ok());
  auto without_timing = [](const BacktestReport& r) {
    auto j = nlohmann::json::parse(render_json(r));
    for (const char* k : {"seconds", "store"}) j.erase(k);
    j["baseline"].erase("seconds");
    j["candidate"].erase("seconds");
    return j;
  };
  EXPECT_EQ(without_timing(*memory), without_timing(*rocks));
  EXPECT_EQ(rocks->store, "rocksdb");
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename().string().rfind("slawatch-backtest-", 0), std::string::npos)
        << "left behind: " << entry.path();
  }
}

TEST_F(BacktestTest, SamplesAreTheSmallestCaseIdsUpToTheLimit) {
  thirty_vs_forty_five();
  auto report = run(BacktestStore::memory, 2);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(rule(*report, "first-response").stages[0].gone_cases, (std::vector<std::string>{"c3", "c4"}));
}

TEST_F(BacktestTest, RuleOnOneSideOnlyCountsAsAddedOrGone) {
  thirty_vs_forty_five();
  write(dir_ / "candidate" / "return.yaml",
        "id: quick-return\nkind: count\ntitle: Returned twice\nevents: [returned]\nthreshold: 2\nwindow: 1h\n"
        "severity: minor\nnotify: [city.hotline_office]\n");
  event("c1-r", "c1", "returned", "2026-03-02T09:50:00.000Z", "water");
  event("c1-r2", "c1", "returned", "2026-03-02T09:55:00.000Z", "water");
  auto report = run();
  ASSERT_TRUE(report.ok()) << report.error().message;
  const auto& qr = rule(*report, "quick-return");
  EXPECT_FALSE(qr.in_baseline);
  EXPECT_TRUE(qr.in_candidate);
  ASSERT_EQ(qr.stages.size(), 1u);
  EXPECT_EQ(qr.stages[0].name, "threshold");
  EXPECT_EQ(qr.stages[0].total.baseline, 0u);
  EXPECT_EQ(qr.stages[0].total.added, 1u);
  EXPECT_EQ(qr.stages[0].added_cases, std::vector<std::string>{"c1"});
}

TEST_F(BacktestTest, RenderersCarryTheNumbers) {
  thirty_vs_forty_five();
  auto report = run();
  ASSERT_TRUE(report.ok());
  const auto j = nlohmann::json::parse(render_json(*report));
  ASSERT_EQ(j["rules"].size(), 1u);
  const auto& stage = j["rules"][0]["stages"][0];
  EXPECT_EQ(stage["baseline"], 5);
  EXPECT_EQ(stage["candidate"], 2);
  EXPECT_EQ(stage["gone"], 3);
  EXPECT_EQ(stage["departments"]["roads"]["difference"], -1);
  EXPECT_EQ(j["rules"][0]["response_times"]["baseline"]["within_candidate_target"], 5);
  EXPECT_EQ(j["summary"][0], headline(report->rules[0]));

  const std::string md = render_markdown(*report);
  EXPECT_NE(md.find("**first-response/breach: 30m -> 45m, 3 of 5 breaches disappear"), std::string::npos);
  EXPECT_NE(md.find("| breach | 30m -> 45m | 5 | 2 | -3 | 3 | 0 |"), std::string::npos);

  const std::string html = render_html(*report);
  EXPECT_NE(html.find("<title>Backtest: first-response/breach: 30m -&gt; 45m, 3 of 5"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("baseline 30m: 33.3% within"), std::string::npos);
  EXPECT_NE(html.find("candidate 45m: 83.3% within"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(BacktestHelpers, NiceBucketWidths) {
  EXPECT_EQ(nice_bucket_width(Duration{90min}, 30), Duration{5min});
  EXPECT_EQ(nice_bucket_width(Duration{72h}, 30), Duration{4h});
  EXPECT_EQ(nice_bucket_width(Duration{10s}, 30), Duration{1s});
}

TEST(BacktestHelpers, SummaryOfNoTimes) {
  std::vector<int64_t> none;
  auto t = summarize_times(none, 3, Duration{5min}, 10, Duration{30min}, Duration{45min});
  EXPECT_EQ(t.closed, 0u);
  EXPECT_EQ(t.still_open, 3u);
  EXPECT_EQ(t.buckets, std::vector<uint64_t>(10, 0));
}

}  // namespace
}  // namespace slawatch
