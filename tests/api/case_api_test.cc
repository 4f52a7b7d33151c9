// The case API over a real RocksDB state written by a Pipeline: a case's
// events in event-time order, its cycles and stages with their status and
// breach as of the committed clock, its alerts' latest states (fired,
// resolved, retracted); the alert listing with filters and paging; 404 for an
// unknown case; 400 naming each bad parameter; evaluation under the rules in
// force after a reload; several threads reading while the pipeline commits.
// For the workbench: elapsed time of open cycles and pauses, as_of, the
// department and people on duty at each due time (a roster), filters on rule,
// stage, severity, person and due time, "unassigned", CSV, /api/v1/info, the
// ledger over two partitions, and the read token on every route.
#include "api/case_api.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../engine/engine_fixture.h"
#include "../pipeline/records.h"
#include "../state/temp_database.h"
#include "pipeline/pipeline.h"
#include "report/accountability.h"
#include "state/rocksdb_store.h"

namespace slawatch {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using testing::kT0;

std::string iso(Instant t) { return format_rfc3339_utc(t); }

RawRecord ev(const std::string& id, const std::string& type, const std::string& case_id, Instant t,
             const std::string& data = R"({"department":"roads"})") {
  return record(event_line(id, type, case_id, iso(t), data));
}

std::shared_ptr<const RuleSet> pausable_first_response(minutes target = minutes{30}) {
  auto rule = testing::first_response_rule(true);
  rule.target = target;
  for (auto& stage : rule.stages) stage.offset = target * stage.percent / 100;
  auto set = testing::rule_set({rule});
  std::const_pointer_cast<RuleSet>(set)->version = "v" + std::to_string(target.count());
  return set;
}

// The roster the pipeline names people from and the API resolves due stages with.
// roads: duty officer Li Lei until 2026-03-02 00:30 UTC (08:30 Shanghai), Zhang Ming after; head Wang Wei.
// water: only a head. No one for parks.
std::shared_ptr<const Roster> roads_roster() {
  const auto path = std::filesystem::temp_directory_path() / ("slawatch-api-roster-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "defaults: {time_zone: Asia/Shanghai, handover: '08:30', period: 1d, starts: 2026-03-01}\n"
                         "city: {hotline_office: Huang Lihua}\n"
                         "departments:\n"
                         "  - id: roads\n    name: Roads Bureau\n    head: Wang Wei\n"
                         "    duty_officers: {order: [Li Lei, Zhang Ming]}\n"
                         "  - id: water\n    head: Chen Jing\n";
  auto loaded = load_roster(path.string());
  std::filesystem::remove(path);
  EXPECT_TRUE(loaded.errors.empty()) << (loaded.errors.empty() ? "" : loaded.errors[0].to_string());
  return loaded.roster;
}

// A RocksDB state in a temp dir, written by a live Pipeline:
//   c1 created 00:00, dispatched 00:01 (fed first), acknowledged 00:40: warning and breach fired, then resolved
//   c2 dispatched 00:05, warning and breach fired at 00:35, then a late acknowledgement at 00:20 retracts them
//   c3 dispatched 00:00, never acknowledged: warning and breach firing, escalation due 01:00
//   c4 dispatched 00:10, suspended 00:12-00:17, suspended again at 00:20: paused, nothing due
// committed with the clock at 00:45.
class CaseApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    temp_ = std::make_unique<testing::TempDatabase>("slawatch-api-test");
    db_ = temp_->database;
    ASSERT_NE(db_, nullptr);
    rules_ = pausable_first_response();
    in_force_ = std::make_unique<RulesInForce>(rules_);
    roster_in_force_ = std::make_unique<RosterInForce>(roads_roster());
    reader_ = std::make_unique<StateReader>(db_);
    api_ = std::make_unique<CaseApi>(*reader_, *in_force_, *roster_in_force_, CaseApiOptions{"", "Asia/Shanghai"});
    write_state();
  }
  void TearDown() override {
    api_.reset();
    reader_.reset();
    db_.reset();
    temp_.reset();
  }

  // A live pipeline on partition 0 of the state (the engine's side of the API).
  struct Writer {
    Writer(std::shared_ptr<RocksDbDatabase> db, std::shared_ptr<const RuleSet> rules, uint16_t partition = 0,
           std::shared_ptr<const Roster> roster = nullptr)
        : store(std::move(db), partition), engine(std::move(rules), store, EngineOptions{}),
          pipeline(engine, store, sink, sink, PipelineOptions{.roster = std::move(roster)}) {
      EXPECT_TRUE(engine.open().ok());
      EXPECT_TRUE(pipeline.recover().ok());
    }
    RocksDbStateStore store;
    NullSink sink;
    Engine engine;
    Pipeline pipeline;
  };

  void write_state() {
    Writer writer(db_, rules_, 0, roster_in_force_->get());
    Pipeline& pipeline = writer.pipeline;
    auto feed = [&](RawRecord r) { ASSERT_TRUE(pipeline.on_record_live(r).ok()); };
    feed(ev("c1-d", "dispatched", "c1", kT0 + minutes{1}));
    feed(ev("c1-c", "created", "c1", kT0, R"({"category":"pothole","priority":"normal","channel":"phone"})"));
    feed(ev("c2-d", "dispatched", "c2", kT0 + minutes{5}, R"({"department":"water"})"));
    feed(ev("c3-d", "dispatched", "c3", kT0));
    feed(ev("c4-d", "dispatched", "c4", kT0 + minutes{10}, R"({"department":"parks"})"));
    feed(ev("c4-s1", "suspended", "c4", kT0 + minutes{12}, R"({"reason":"waiting for the citizen"})"));
    feed(ev("c4-r1", "resumed", "c4", kT0 + minutes{17}, "{}"));
    feed(ev("c4-s2", "suspended", "c4", kT0 + minutes{20}, "{}"));
    ASSERT_TRUE(pipeline.advance(kT0 + minutes{35}).ok());
    feed(ev("c1-a", "acknowledged", "c1", kT0 + minutes{40}));
    feed(ev("c2-a", "acknowledged", "c2", kT0 + minutes{20}, R"({"department":"water"})"));
    ASSERT_TRUE(pipeline.advance(kT0 + minutes{45}).ok());
    ASSERT_TRUE(pipeline.maybe_commit("pos", true).ok());
  }

  static HttpRequest get(std::string_view path, std::string_view query = "") {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    r.query = query;
    return r;
  }
  json case_json(const std::string& id, int status = 200) {
    const std::string path = "/api/v1/cases/" + id;
    auto response = api_->get_case(get(path));
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return json::parse(response.body);
  }
  json case_json_as_of(const std::string& id, std::string_view query, int status = 200) {
    const std::string path = "/api/v1/cases/" + id;
    auto response = api_->get_case(get(path, query));
    EXPECT_EQ(response.status, status) << response.body;
    return json::parse(response.body);
  }
  std::string alerts_csv(std::string_view query) {
    auto response = api_->list_alerts(get("/api/v1/alerts", query));
    EXPECT_EQ(response.status, 200) << response.body;
    EXPECT_EQ(response.content_type, "text/csv; charset=utf-8");
    return response.body;
  }
  std::vector<std::string> alert_ids(std::string_view query) {
    std::vector<std::string> ids;
    const json page = alerts_json(query);
    for (const auto& a : page["alerts"]) ids.push_back(a["alert_id"]);
    return ids;
  }
  json alerts_json(std::string_view query, int status = 200) {
    auto response = api_->list_alerts(get("/api/v1/alerts", query));
    EXPECT_EQ(response.status, status) << response.body;
    EXPECT_EQ(response.content_type, "application/json");
    return json::parse(response.body);
  }
  static const json& stage(const json& cycle, const std::string& name) {
    for (const auto& s : cycle["stages"]) {
      if (s["stage"] == name) return s;
    }
    static const json none;
    ADD_FAILURE() << "no stage " << name << " in " << cycle.dump();
    return none;
  }

  std::unique_ptr<testing::TempDatabase> temp_;
  std::shared_ptr<RocksDbDatabase> db_;
  std::shared_ptr<const RuleSet> rules_;
  std::unique_ptr<RulesInForce> in_force_;
  std::unique_ptr<RosterInForce> roster_in_force_;
  std::unique_ptr<StateReader> reader_;
  std::unique_ptr<CaseApi> api_;
};

TEST_F(CaseApiTest, CaseHasEventsInTimeOrderCyclesStagesAndResolvedAlerts) {
  const json c1 = case_json("c1");
  EXPECT_EQ(c1["case_id"], "c1");
  EXPECT_EQ(c1["as_of"], iso(kT0 + minutes{45}));
  EXPECT_EQ(c1["rules_version"], rules_->version);
  ASSERT_EQ(c1["events"].size(), 3u);
  EXPECT_EQ(c1["events"][0]["id"], "c1-c");  // fed second, happened first
  EXPECT_EQ(c1["events"][0]["type"], "hotline.case.created");
  EXPECT_EQ(c1["events"][0]["time"], iso(kT0));
  EXPECT_EQ(c1["events"][0]["data"], (json{{"category", "pothole"}, {"priority", "normal"}, {"channel", "phone"}}));
  EXPECT_EQ(c1["events"][1]["id"], "c1-d");
  EXPECT_EQ(c1["events"][2]["id"], "c1-a");
  EXPECT_EQ(c1["events"][2]["data"]["department"], "roads");

  ASSERT_EQ(c1["rules"].size(), 1u);
  EXPECT_EQ(c1["rules"][0]["rule"], "first-response");
  ASSERT_EQ(c1["rules"][0]["cycles"].size(), 1u);
  const json& cycle = c1["rules"][0]["cycles"][0];
  EXPECT_EQ(cycle["cycle"], 1);
  EXPECT_EQ(cycle["started_at"], iso(kT0 + minutes{1}));
  EXPECT_EQ(cycle["closed_at"], iso(kT0 + minutes{40}));
  EXPECT_EQ(cycle["closed_by"], "c1-a");
  EXPECT_EQ(cycle["paused_now"], false);
  EXPECT_EQ(cycle["paused_total_ms"], 0);
  EXPECT_EQ(cycle["elapsed"], "39m");
  ASSERT_EQ(cycle["stages"].size(), 3u);
  EXPECT_EQ(stage(cycle, "warning")["status"], "due");
  EXPECT_EQ(stage(cycle, "warning")["due_at"], iso(kT0 + minutes{25}));
  EXPECT_EQ(stage(cycle, "warning")["breached"], true);
  EXPECT_EQ(stage(cycle, "breach")["due_at"], iso(kT0 + minutes{31}));
  EXPECT_EQ(stage(cycle, "breach")["severity"], "major");
  EXPECT_EQ(stage(cycle, "breach")["notify"], (json{"department.duty_officer", "department.head"}));
  EXPECT_EQ(stage(cycle, "escalated")["status"], "met");  // closed before 01:01
  EXPECT_EQ(stage(cycle, "escalated")["due_at"], nullptr);
  EXPECT_EQ(stage(cycle, "escalated")["breached"], false);

  ASSERT_EQ(c1["alerts"].size(), 2u);  // in alert id order
  EXPECT_EQ(c1["alerts"][0]["alert_id"], "c1/first-response/1/breach");
  EXPECT_EQ(c1["alerts"][0]["state"], "resolved");
  EXPECT_EQ(c1["alerts"][0]["department"], "roads");
  EXPECT_EQ(c1["alerts"][0]["event"]["type"], "slawatch.alert.resolved");
  EXPECT_EQ(c1["alerts"][0]["event"]["data"]["due_at"], iso(kT0 + minutes{31}));
  EXPECT_EQ(c1["alerts"][1]["alert_id"], "c1/first-response/1/warning");
  EXPECT_EQ(c1["alerts"][1]["state"], "resolved");
}

TEST_F(CaseApiTest, RetractedAlertsAndOpenCyclesBreachedAsOfTheClock) {
  const json c2 = case_json("c2");
  ASSERT_EQ(c2["alerts"].size(), 2u);
  EXPECT_EQ(c2["alerts"][0]["alert_id"], "c2/first-response/1/breach");
  EXPECT_EQ(c2["alerts"][1]["alert_id"], "c2/first-response/1/warning");
  for (const auto& alert : c2["alerts"]) {
    EXPECT_EQ(alert["state"], "retracted");
    EXPECT_EQ(alert["department"], "water");
    EXPECT_EQ(alert["event"]["type"], "slawatch.alert.retracted");
  }
  const json& closed = c2["rules"][0]["cycles"][0];
  EXPECT_EQ(closed["closed_at"], iso(kT0 + minutes{20}));
  for (const auto& s : closed["stages"]) {
    EXPECT_EQ(s["status"], "met") << s.dump();
    EXPECT_EQ(s["breached"], false) << s.dump();
  }

  const json c3 = case_json("c3");
  const json& open = c3["rules"][0]["cycles"][0];
  EXPECT_EQ(open["closed_at"], nullptr);
  EXPECT_EQ(open["closed_by"], nullptr);
  EXPECT_EQ(stage(open, "breach")["status"], "due");
  EXPECT_EQ(stage(open, "breach")["breached"], true);  // due 00:30, clock 00:45
  EXPECT_EQ(stage(open, "escalated")["status"], "due");
  EXPECT_EQ(stage(open, "escalated")["due_at"], iso(kT0 + minutes{60}));
  EXPECT_EQ(stage(open, "escalated")["breached"], false);
  ASSERT_EQ(c3["alerts"].size(), 2u);
  EXPECT_EQ(c3["alerts"][0]["state"], "firing");
  EXPECT_EQ(c3["alerts"][0]["event"]["type"], "slawatch.alert.fired");
  EXPECT_EQ(c3["alerts"][1]["state"], "firing");
}

TEST_F(CaseApiTest, PausedCycleShowsItsPausesAndNoDueTimes) {
  const json c4 = case_json("c4");
  ASSERT_EQ(c4["events"].size(), 4u);
  EXPECT_EQ(c4["events"][1]["data"]["reason"], "waiting for the citizen");
  const json& cycle = c4["rules"][0]["cycles"][0];
  EXPECT_EQ(cycle["paused_now"], true);
  EXPECT_EQ(cycle["paused_total"], "5m");  // the finished pause 00:12-00:17
  EXPECT_EQ(cycle["paused_total_ms"], 5 * 60 * 1000);
  EXPECT_EQ(cycle["elapsed"], "5m");  // 00:10-00:12 and 00:17-00:20
  for (const auto& s : cycle["stages"]) {
    EXPECT_EQ(s["status"], "paused") << s.dump();
    EXPECT_EQ(s["due_at"], nullptr);
    EXPECT_EQ(s["breached"], false);
  }
  EXPECT_TRUE(c4["alerts"].empty());
}

TEST_F(CaseApiTest, UnknownCaseIs404WithAJsonError) {
  const json missing = case_json("c9", 404);
  EXPECT_NE(missing["error"].get<std::string>().find("c9"), std::string::npos);
  EXPECT_TRUE(case_json("", 404).contains("error"));
  EXPECT_TRUE(case_json("c1/extra", 404).contains("error"));
}

TEST_F(CaseApiTest, ACaseOfAPartitionNotOwnedHereIs421NamingThePartitionNeverStaleData) {
  OwnedPartitions owned;  // a Kafka instance: partition 1 only; c1..c4 are stored in partition 0
  owned.add(1);
  CaseApi api(*reader_, *in_force_, *roster_in_force_, CaseApiOptions{.owned = &owned});
  auto answer = api.get_case(get("/api/v1/cases/c1"));
  EXPECT_EQ(answer.status, 421) << answer.body;
  EXPECT_EQ(answer.content_type, "application/json");
  const json body = json::parse(answer.body);
  EXPECT_EQ(body["case_id"], "c1");
  EXPECT_EQ(body["partition"], 0);
  EXPECT_EQ(body["owner"], "not owned here");
  EXPECT_NE(body["error"].get<std::string>().find("partition 0, which is not owned here"), std::string::npos);
  EXPECT_FALSE(body.contains("events"));  // nothing of the stored copy
  EXPECT_FALSE(body.contains("rules"));
  // Once the partition's latest changelog marker names its owner, the answer names it.
  owned.learn_owner(0, "node-b");
  answer = api.get_case(get("/api/v1/cases/c1"));
  EXPECT_EQ(answer.status, 421);
  const json named = json::parse(answer.body);
  EXPECT_EQ(named["owner"], "node-b");
  EXPECT_NE(named["error"].get<std::string>().find("partition 0, which is owned by instance node-b as of its last "
                                                   "commit"),
            std::string::npos)
      << answer.body;
  EXPECT_FALSE(named.contains("events"));
  owned.learn_owner(0, "");  // forgotten again (this instance's own marker: it no longer owns the partition)
  EXPECT_EQ(json::parse(api.get_case(get("/api/v1/cases/c1")).body)["owner"], "not owned here");
  // A case stored nowhere here: 404, saying which partitions are owned here.
  answer = api.get_case(get("/api/v1/cases/nobody"));
  EXPECT_EQ(answer.status, 404);
  EXPECT_NE(json::parse(answer.body)["error"].get<std::string>().find("owns partition(s) 1;"), std::string::npos)
      << answer.body;
  // /api/v1/info hands the page the clocks of owned partitions only; the alert list skips the others.
  EXPECT_TRUE(json::parse(api.info(get("/api/v1/info")).body)["partitions"].empty());
  EXPECT_TRUE(json::parse(api.list_alerts(get("/api/v1/alerts")).body)["alerts"].empty());
  const size_t every_alert = alerts_json("")["alerts"].size();  // the fixture's API: no ownership
  ASSERT_GT(every_alert, 0u);

  owned.add(0);  // assigned (back) to this instance
  answer = api.get_case(get("/api/v1/cases/c1"));
  EXPECT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(json::parse(answer.body)["events"].size(), 3u);
  EXPECT_EQ(json::parse(api.info(get("/api/v1/info")).body)["partitions"].size(), 1u);
  EXPECT_EQ(json::parse(api.list_alerts(get("/api/v1/alerts")).body)["alerts"].size(), every_alert);
  owned.remove(0);  // revoked again
  EXPECT_EQ(api.get_case(get("/api/v1/cases/c1")).status, 421);
}

TEST_F(CaseApiTest, AnInstanceOwningEveryPartitionAnswersAsWithoutOwnership) {
  OwnedPartitions everything(OwnedPartitions::Initially::everything);
  CaseApi api(*reader_, *in_force_, *roster_in_force_, CaseApiOptions{.owned = &everything});
  EXPECT_EQ(api.get_case(get("/api/v1/cases/c1")).status, 200);
  const auto unknown = api.get_case(get("/api/v1/cases/nobody"));
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(json::parse(unknown.body)["error"], "unknown case 'nobody'");
}

TEST_F(CaseApiTest, ListsAlertsFilteredAndPagedAcrossThreePages) {
  const json all = alerts_json("");
  ASSERT_EQ(all["alerts"].size(), 6u);
  EXPECT_EQ(all["next_cursor"], nullptr);

  std::vector<std::string> ids;
  std::vector<size_t> sizes;
  std::string query = "limit=2";
  for (int page = 0; page < 10; ++page) {
    const json body = alerts_json(query);
    sizes.push_back(body["alerts"].size());
    for (const auto& a : body["alerts"]) ids.push_back(a["alert_id"]);
    if (body["next_cursor"].is_null()) break;
    query = "limit=2&cursor=" + body["next_cursor"].get<std::string>();
  }
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 2}));
  EXPECT_EQ(ids, (std::vector<std::string>{"c1/first-response/1/breach", "c1/first-response/1/warning",
                                           "c2/first-response/1/breach", "c2/first-response/1/warning",
                                           "c3/first-response/1/breach", "c3/first-response/1/warning"}));

  const json firing = alerts_json("state=firing");
  ASSERT_EQ(firing["alerts"].size(), 2u);
  EXPECT_EQ(firing["alerts"][0]["alert_id"], "c3/first-response/1/breach");
  EXPECT_EQ(firing["alerts"][0]["event"]["data"]["case_id"], "c3");
  const json water = alerts_json("department=water");
  ASSERT_EQ(water["alerts"].size(), 2u);
  EXPECT_EQ(water["alerts"][0]["state"], "retracted");
  EXPECT_EQ(alerts_json("state=resolved&department=roads")["alerts"].size(), 2u);
  EXPECT_TRUE(alerts_json("state=resolved&department=water")["alerts"].empty());
  EXPECT_EQ(alerts_json("state=retracted&department=%77ater")["alerts"].size(), 2u);  // percent-decoded
  EXPECT_TRUE(alerts_json("state=retracted&department=roads")["alerts"].empty());
}

TEST_F(CaseApiTest, BadParametersAre400NamingTheParameter) {
  auto error_of = [&](std::string_view query) { return alerts_json(query, 400)["error"].get<std::string>(); };
  EXPECT_NE(error_of("state=open").find("'state'"), std::string::npos);
  for (const char* limit : {"limit=0", "limit=-1", "limit=1001", "limit=ten", "limit=5x", "limit="}) {
    EXPECT_NE(error_of(limit).find("'limit'"), std::string::npos) << limit;
  }
  EXPECT_EQ(alerts_json("limit=1000")["alerts"].size(), 6u);
  EXPECT_NE(error_of("cursor=zz").find("'cursor'"), std::string::npos);
  EXPECT_NE(error_of("cursor=abc").find("'cursor'"), std::string::npos);
  EXPECT_NE(error_of("colour=red").find("'colour'"), std::string::npos);
  EXPECT_NE(error_of("department=%zz").find("percent"), std::string::npos);
  EXPECT_EQ(api_->get_case(get("/api/v1/cases/c1", "x=1")).status, 400);
}

TEST_F(CaseApiTest, EvaluatesUnderTheRulesInForceAfterAReload) {
  in_force_->set(pausable_first_response(minutes{60}));
  const json c3 = case_json("c3");
  EXPECT_EQ(c3["rules_version"], "v60");
  const json& cycle = c3["rules"][0]["cycles"][0];
  EXPECT_EQ(stage(cycle, "breach")["due_at"], iso(kT0 + minutes{60}));
  EXPECT_EQ(stage(cycle, "breach")["breached"], false);
  EXPECT_EQ(stage(cycle, "warning")["due_at"], iso(kT0 + minutes{48}));
  EXPECT_EQ(stage(cycle, "warning")["breached"], false);
}

TEST_F(CaseApiTest, ServesFromSeveralThreadsWhileThePipelineCommitsAndRulesChange) {
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, served{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const auto one = api_->get_case(get("/api/v1/cases/c3"));
        const auto page = api_->list_alerts(get("/api/v1/alerts", "limit=3"));
        if (one.status != 200 || page.status != 200) ++failed;
        ++served;
      }
    });
  }
  // In a lambda so that a failed ASSERT still stops and joins the readers below.
  [&] {
    Writer writer(db_, rules_);
    for (int i = 0; i < 40; ++i) {
      // Interleave: at least one more read has been served since the previous commit.
      while (served.load() < i && failed.load() == 0) std::this_thread::yield();
      const Instant at = kT0 + minutes{45 + i};
      const std::string id = "n" + std::to_string(i);
      ASSERT_TRUE(writer.pipeline.on_record_live(ev(id, "dispatched", id, at)).ok());
      ASSERT_TRUE(writer.pipeline.advance(at).ok());
      ASSERT_TRUE(writer.pipeline.maybe_commit("pos", true).ok());
      in_force_->set(pausable_first_response(minutes{i % 2 == 0 ? 30 : 45}));
    }
  }();
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(served.load(), 39);
  // The cases written meanwhile are there: n0 (dispatched 00:45) is past its warning (01:09) and breach (01:15).
  EXPECT_EQ(case_json("n0")["alerts"].size(), 2u);
  EXPECT_EQ(case_json("n0")["as_of"], iso(kT0 + minutes{84}));
}

TEST_F(CaseApiTest, OpenCycleElapsedRunsToThePartitionsClock) {
  // c3 dispatched 00:00, open, clock 00:45: its clock has run 45 minutes (it said "0s" before).
  const json open = case_json("c3")["rules"][0]["cycles"][0];
  EXPECT_EQ(open["elapsed"], "45m");
  EXPECT_EQ(open["elapsed_ms"], 45 * 60 * 1000);
  EXPECT_TRUE(open["pauses"].empty());
  // A paused cycle's clock stands still: c4 ran 00:10-00:12 and 00:17-00:20.
  const json paused = case_json("c4")["rules"][0]["cycles"][0];
  EXPECT_EQ(paused["elapsed_ms"], 5 * 60 * 1000);
  ASSERT_EQ(paused["pauses"].size(), 2u);
  EXPECT_EQ(paused["pauses"][0], (json{{"from", iso(kT0 + minutes{12})}, {"to", iso(kT0 + minutes{17})}}));
  EXPECT_EQ(paused["pauses"][1], (json{{"from", iso(kT0 + minutes{20})}, {"to", nullptr}}));
  // A closed cycle: up to its close.
  EXPECT_EQ(case_json("c1")["rules"][0]["cycles"][0]["elapsed_ms"], 39 * 60 * 1000);
}

TEST_F(CaseApiTest, AsOfShowsTheCaseAsItStoodThen) {
  // c1 at 00:30: not yet acknowledged (00:40), warning (00:25) breached, breach (00:31) pending.
  const json then = case_json_as_of("c1", "as_of=2026-03-02T00:30:00Z");
  EXPECT_EQ(then["as_of"], iso(kT0 + minutes{30}));
  EXPECT_EQ(then["clock"], iso(kT0 + minutes{45}));
  EXPECT_EQ(then["events"].size(), 2u);
  const json& cycle = then["rules"][0]["cycles"][0];
  EXPECT_EQ(cycle["closed_at"], nullptr);
  EXPECT_EQ(cycle["elapsed_ms"], 29 * 60 * 1000);
  EXPECT_EQ(stage(cycle, "warning")["outcome"], "breached");
  EXPECT_EQ(stage(cycle, "warning")["overdue_ms"], 5 * 60 * 1000);
  EXPECT_EQ(stage(cycle, "breach")["outcome"], "pending");
  EXPECT_FALSE(stage(cycle, "breach").contains("overdue_ms"));
  // Exactly at the due time the stage is breached, 0 overdue; 1 ms before it is pending.
  const json at_due = case_json_as_of("c1", "as_of=2026-03-02T00:31:00Z")["rules"][0]["cycles"][0];
  EXPECT_EQ(stage(at_due, "breach")["outcome"], "breached");
  EXPECT_EQ(stage(at_due, "breach")["overdue_ms"], 0);
  const json before = case_json_as_of("c1", "as_of=2026-03-02T00:30:59.999Z")["rules"][0]["cycles"][0];
  EXPECT_EQ(stage(before, "breach")["outcome"], "pending");
  // After the close, overdue stops at the close: breach 00:31, acknowledged 00:40.
  const json now = case_json("c1")["rules"][0]["cycles"][0];
  EXPECT_EQ(stage(now, "breach")["overdue_ms"], 9 * 60 * 1000);
  EXPECT_EQ(stage(now, "escalated")["outcome"], "met");
  // At the clock itself: fine; 1 ms past it: 400. A bad time: 400 naming as_of.
  EXPECT_EQ(case_json_as_of("c1", "as_of=2026-03-02T00:45:00Z")["as_of"], iso(kT0 + minutes{45}));
  EXPECT_NE(case_json_as_of("c1", "as_of=2026-03-02T00:45:00.001Z", 400)["error"].get<std::string>().find("as_of"),
            std::string::npos);
  EXPECT_NE(case_json_as_of("c1", "as_of=yesterday", 400)["error"].get<std::string>().find("as_of"),
            std::string::npos);
  EXPECT_NE(case_json_as_of("c1", "when=now", 400)["error"].get<std::string>().find("when"), std::string::npos);
}

TEST_F(CaseApiTest, DueStagesNameTheDepartmentAndThePeopleOnDutyAtTheirDueTime) {
  const json cycle = case_json("c3")["rules"][0]["cycles"][0];
  // Warning due 00:24, before the 08:30 Shanghai (00:30 UTC) handover: Li Lei.
  EXPECT_EQ(stage(cycle, "warning")["department"], "roads");
  EXPECT_EQ(stage(cycle, "warning")["on_duty"],
            (json::array({json{{"role", "department.duty_officer"}, {"person", "Li Lei"}}})));
  // Breach due exactly at the handover: the next turn, Zhang Ming; and the head.
  EXPECT_EQ(stage(cycle, "breach")["on_duty"],
            (json::array({json{{"role", "department.duty_officer"}, {"person", "Zhang Ming"}},
                          json{{"role", "department.head"}, {"person", "Wang Wei"}}})));
  EXPECT_EQ(stage(cycle, "escalated")["on_duty"],
            (json::array({json{{"role", "city.hotline_office"}, {"person", "Huang Lihua"}}})));
  // water has a head but no duty officer: null, not a guess.
  const json water = case_json("c2")["rules"][0]["cycles"][0];
  EXPECT_FALSE(stage(water, "breach").contains("on_duty"));  // met: no due time, nobody to name
  const json c2_then = case_json_as_of("c2", "as_of=2026-03-02T00:15:00Z")["rules"][0]["cycles"][0];
  EXPECT_EQ(stage(c2_then, "breach")["on_duty"][0]["person"], nullptr);
  EXPECT_EQ(stage(c2_then, "breach")["on_duty"][1]["person"], "Chen Jing");
  EXPECT_EQ(case_json("c3")["rules"][0]["title"], "First response within 30 minutes of dispatch");
}

TEST_F(CaseApiTest, FiltersAlertsByRuleStageSeverityPersonAndDueTime) {
  EXPECT_EQ(alert_ids("state=firing"),
            (std::vector<std::string>{"c3/first-response/1/breach", "c3/first-response/1/warning"}));
  EXPECT_EQ(alert_ids("stage=breach&state=resolved"), (std::vector<std::string>{"c1/first-response/1/breach"}));
  EXPECT_EQ(alert_ids("severity=minor").size(), 3u);  // c1, c2 and c3's warnings
  EXPECT_EQ(alert_ids("rule=first-response").size(), 6u);
  EXPECT_TRUE(alert_ids("rule=other").empty());
  // People: only fired alerts name them; the one on duty at each due time.
  EXPECT_EQ(alert_ids("person=Li+Lei"), (std::vector<std::string>{"c3/first-response/1/warning"}));
  EXPECT_EQ(alert_ids("person=Zhang%20Ming"), (std::vector<std::string>{"c3/first-response/1/breach"}));
  EXPECT_EQ(alert_ids("person=Wang Wei"), (std::vector<std::string>{"c3/first-response/1/breach"}));
  // Due time in [from, to): c3's breach is due exactly at 00:30, c1's at 00:31.
  EXPECT_EQ(alert_ids("from=2026-03-02T00:30:00Z&to=2026-03-02T00:31:00Z"),
            (std::vector<std::string>{"c3/first-response/1/breach"}));
  EXPECT_EQ(alert_ids("from=2026-03-02T00:30:00.001Z&to=2026-03-02T00:31:00.001Z"),
            (std::vector<std::string>{"c1/first-response/1/breach"}));
  // No department is the word unassigned (none here), in filters and answers.
  EXPECT_TRUE(alert_ids("department=unassigned").empty());
  EXPECT_EQ(alert_ids("department=water&stage=warning"), (std::vector<std::string>{"c2/first-response/1/warning"}));
  // Bad values: 400 naming the parameter.
  for (const char* query : {"from=today", "to=2026-03-02", "department=", "person=", "format=xml",
                            "from=2026-03-02T01:00:00Z&to=2026-03-02T01:00:00Z"}) {
    const json error = alerts_json(query, 400);
    EXPECT_TRUE(error.contains("error")) << query;
  }
}

TEST_F(CaseApiTest, UnassignedAlertsAreListedAndFilteredAsUnassigned) {
  const auto with_emergencies = testing::rule_set({testing::first_response_rule(true), testing::emergency_rule()});
  {
    // An emergency never dispatched: its 24-hour handling breach has no department.
    Writer writer(db_, with_emergencies, 1);
    ASSERT_TRUE(writer.pipeline
                    .on_record_live(ev("u1-c", "created", "u1", kT0 - std::chrono::hours{25},
                                       R"({"category":"fire","priority":"emergency","channel":"phone"})"))
                    .ok());
    ASSERT_TRUE(writer.pipeline.advance(kT0 + minutes{45}).ok());
    ASSERT_TRUE(writer.pipeline.maybe_commit("pos", true).ok());
  }
  in_force_->set(with_emergencies);
  const json page = alerts_json("department=unassigned");
  ASSERT_EQ(page["alerts"].size(), 1u);
  for (const auto& a : page["alerts"]) {
    EXPECT_EQ(a["department"], "unassigned");
    EXPECT_EQ(a["event"]["data"]["department"], "unassigned");
  }
  EXPECT_EQ(page["alerts"][0]["alert_id"], "u1/emergency-handling/1/breach");
  const json u1 = case_json("u1");
  EXPECT_EQ(stage(u1["rules"][0]["cycles"][0], "breach")["department"], "unassigned");
  EXPECT_EQ(u1["partition"], 1);
}

TEST_F(CaseApiTest, CountRuleCyclesHaveNoPausesOrClock) {
  const auto with_counts = testing::rule_set({testing::first_response_rule(true)}, {testing::repeated_return_rule()});
  {
    Writer writer(db_, with_counts, 2);
    auto feed = [&](RawRecord r) { ASSERT_TRUE(writer.pipeline.on_record_live(r).ok()); };
    feed(ev("r1-d", "dispatched", "r1", kT0));
    feed(ev("r1-r1", "returned", "r1", kT0 + minutes{5}));
    feed(ev("r1-r2", "returned", "r1", kT0 + minutes{10}));
    ASSERT_TRUE(writer.pipeline.advance(kT0 + minutes{45}).ok());
    ASSERT_TRUE(writer.pipeline.maybe_commit("pos", true).ok());
  }
  in_force_->set(with_counts);
  const json r1 = case_json("r1");
  const json* count = nullptr;
  for (const auto& rule : r1["rules"]) {
    if (rule["rule"] == "repeated-return") count = &rule;
  }
  ASSERT_NE(count, nullptr) << r1.dump();
  for (const auto& cycle : (*count)["cycles"]) {
    EXPECT_TRUE(cycle["pauses"].empty()) << cycle.dump();
    EXPECT_EQ(cycle["elapsed_ms"], 0) << cycle.dump();
  }
}

TEST_F(CaseApiTest, CsvHoldsEveryMatchWithTheDocumentedColumns) {
  const std::string csv = alerts_csv("state=firing&format=csv");
  EXPECT_EQ(csv,
            "alert_id,state,case_id,rule,cycle,stage,severity,department,due_at,fired_at,closed_at,people\n"
            "c3/first-response/1/breach,firing,c3,first-response,1,breach,major,roads,2026-03-02T00:30:00.000Z,"
            "2026-03-02T00:35:00.000Z,,department.duty_officer=Zhang Ming; department.head=Wang Wei\n"
            "c3/first-response/1/warning,firing,c3,first-response,1,warning,minor,roads,2026-03-02T00:24:00.000Z,"
            "2026-03-02T00:35:00.000Z,,department.duty_officer=Li Lei\n");
  // Every page: six alerts, one header.
  const std::string all = alerts_csv("format=csv");
  EXPECT_EQ(std::count(all.begin(), all.end(), '\n'), 7);
  EXPECT_NE(all.find("c2/first-response/1/breach,retracted,c2,"), std::string::npos);
  EXPECT_NE(all.find(",2026-03-02T00:40:00.000Z,\n"), std::string::npos);  // c1's closed_at, no people
  // CSV answers every match: paging parameters are a 400.
  EXPECT_EQ(api_->list_alerts(get("/api/v1/alerts", "format=csv&limit=1")).status, 400);
  EXPECT_EQ(api_->list_alerts(get("/api/v1/alerts", "format=json&limit=1")).status, 200);
}

TEST_F(CaseApiTest, InfoHandsThePageTheZoneRulesDepartmentsAndClocks) {
  auto response = api_->info(get("/api/v1/info"));
  ASSERT_EQ(response.status, 200) << response.body;
  const json info = json::parse(response.body);
  EXPECT_EQ(info["time_zone"], "Asia/Shanghai");
  EXPECT_EQ(info["rules_version"], "v30");
  ASSERT_EQ(info["rules"].size(), 1u);
  EXPECT_EQ(info["rules"][0]["rule"], "first-response");
  EXPECT_EQ(info["rules"][0]["stages"].size(), 3u);
  EXPECT_EQ(info["departments"],
            (json::array({json{{"id", "roads"}, {"name", "Roads Bureau"}}, json{{"id", "water"}, {"name", ""}},
                          json{{"id", "unassigned"}, {"name", ""}}})));
  EXPECT_EQ(info["partitions"], (json::array({json{{"partition", 0}, {"as_of", iso(kT0 + minutes{45})}}})));
  EXPECT_EQ(api_->info(get("/api/v1/info", "x=1")).status, 400);
}

TEST_F(CaseApiTest, LedgerIsTheAccountabilityReportOverEveryPartition) {
  {
    // A second partition (the Kafka monitor's layout): p1 dispatched to roads 00:00, never acknowledged.
    Writer writer(db_, rules_, 1);
    ASSERT_TRUE(writer.pipeline.on_record_live(ev("p1-d", "dispatched", "p1", kT0)).ok());
    ASSERT_TRUE(writer.pipeline.advance(kT0 + minutes{45}).ok());
    ASSERT_TRUE(writer.pipeline.maybe_commit("pos", true).ok());
  }
  auto response = api_->ledger(get("/api/v1/ledger", "from=2026-03-02T00:00:00Z&to=2026-03-02T01:00:00Z"));
  ASSERT_EQ(response.status, 200) << response.body;
  const json ledger = json::parse(response.body);
  // Breach stages (early warnings left out): c1's breach (roads), c3's and p1's (roads, open).
  EXPECT_EQ(ledger["total"]["breaches"], 3);
  EXPECT_EQ(ledger["total"]["cases"], 3);
  EXPECT_EQ(ledger["total"]["still_open"], 2);
  ASSERT_EQ(ledger["departments"].size(), 1u);
  EXPECT_EQ(ledger["departments"][0]["department"], "roads");
  // c1's breach 00:31 (Zhang Ming), c3's 00:30 (Zhang Ming), p1's 00:30 (Zhang Ming).
  ASSERT_EQ(ledger["people"].size(), 1u);
  EXPECT_EQ(ledger["people"][0]["person"], "Zhang Ming");
  EXPECT_EQ(ledger["person_times"], 3);

  // The CSV is exactly what `slawatch report accountability` renders from the same stores.
  auto csv = api_->ledger(get("/api/v1/ledger", "from=2026-03-02T00:00:00Z&to=2026-03-02T01:00:00Z&format=csv"));
  ASSERT_EQ(csv.status, 200);
  auto p0 = reader_->store_of(0), p1 = reader_->store_of(1);
  StateStore* const stores[] = {p0.get(), p1.get()};
  auto report = state_accountability(rules_, roster_in_force_->get(), stores, kT0, kT0 + minutes{60});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(csv.body, render_csv(*report));

  for (const char* query : {"from=2026-03-02T00:00:00Z", "to=2026-03-02T00:00:00Z",
                            "from=2026-03-02T01:00:00Z&to=2026-03-02T01:00:00Z", "from=x&to=y",
                            "from=2026-03-02T00:00:00Z&to=2026-03-02T01:00:00Z&format=md", "period=week"}) {
    EXPECT_EQ(api_->ledger(get("/api/v1/ledger", query)).status, 400) << query;
  }
}

TEST_F(CaseApiTest, ReadTokenGuardsEveryRoute) {
  CaseApi guarded(*reader_, *in_force_, *roster_in_force_, CaseApiOptions{"read-token-0123456789", "UTC"});
  HttpRoutes routes;
  guarded.add_routes(routes);
  for (const char* path : {"/api/v1/info", "/api/v1/cases/c1", "/api/v1/alerts", "/api/v1/ledger"}) {
    const HttpHandler* handler = routes.find(path);
    ASSERT_NE(handler, nullptr) << path;
    HttpRequest request = get(path);
    EXPECT_EQ((*handler)(request).status, 401) << path;
    request.authorization = "Bearer wrong-token-0123456789";
    EXPECT_EQ((*handler)(request).status, 403) << path;
    request.authorization = "Bearer read-token-0123456789";
    EXPECT_NE((*handler)(request).status, 401) << path;
    EXPECT_NE((*handler)(request).status, 403) << path;
  }
}

TEST_F(CaseApiTest, RoutesAreRegistered) {
  HttpRoutes routes;
  api_->add_routes(routes);
  const HttpHandler* cases = routes.find("/api/v1/cases/c1");
  ASSERT_NE(cases, nullptr);
  EXPECT_EQ((*cases)(get("/api/v1/cases/c1")).status, 200);
  const HttpHandler* alerts = routes.find("/api/v1/alerts");
  ASSERT_NE(alerts, nullptr);
  EXPECT_EQ((*alerts)(get("/api/v1/alerts", "limit=1")).status, 200);
}

}  // namespace
}  // namespace slawatch
