#include "sim/simulator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "model/time.h"

namespace slawatch {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using nlohmann::json;

std::vector<SimRecord> run(const SimulatorOptions& options) {
  HotlineSimulator sim(options);
  std::vector<SimRecord> out;
  SimRecord r;
  while (sim.next(r)) out.push_back(r);
  return out;
}

SimulatorOptions small(int64_t cases, uint64_t seed = 7) {
  SimulatorOptions o;
  o.seed = seed;
  o.cases = cases;
  return o;
}

std::string short_type(const json& e) { return e.at("type").get<std::string>().substr(13); }

Instant parse_time(const json& e) { return *parse_rfc3339(e.at("time").get<std::string>()); }

// Empty when the record satisfies contract section 1, otherwise why not.
std::string contract_violation(const std::string& line) {
  static const std::set<std::string> kTypes = {
      "created", "dispatched", "acknowledged", "returned", "suspended", "resumed",
      "updated", "resolved",   "closed",       "reopened", "feedback"};
  static const std::regex kCaseId("[A-Za-z0-9._:-]{1,64}");
  const json e = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (e.is_discarded() || !e.is_object()) return "not a JSON object";
  for (const char* key : {"specversion", "id", "source", "type", "subject", "time"})
    if (!e.contains(key) || !e[key].is_string()) return std::string("missing ") + key;
  if (!e.contains("data") || !e["data"].is_object()) return "missing data";
  if (e["specversion"] != "1.0") return "specversion";
  const std::string type = e["type"];
  if (type.rfind("hotline.case.", 0) != 0 || !kTypes.contains(type.substr(13))) return "type " + type;
  if (!std::regex_match(e["subject"].get<std::string>(), kCaseId)) return "subject";
  if (!parse_rfc3339(e["time"].get<std::string>()).ok()) return "time";
  const json& d = e["data"];
  const std::string t = type.substr(13);
  if ((t == "dispatched" || t == "acknowledged" || t == "returned") &&
      !(d.contains("department") && d["department"].is_string()))
    return "department";
  if (t == "feedback" && !(d.contains("satisfied") && d["satisfied"].is_boolean())) return "satisfied";
  return "";
}

TEST(HotlineSimulator, SameSeedGivesIdenticalStream) {
  SimulatorOptions o = small(2000, 99);
  o.late_fraction = o.reorder_fraction = o.duplicate_fraction = o.malformed_fraction = 0.05;
  const auto a = run(o);
  const auto b = run(o);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].line, b[i].line) << "record " << i;
    ASSERT_EQ(a[i].arrival_time, b[i].arrival_time) << "record " << i;
  }
}

TEST(HotlineSimulator, DifferentSeedGivesDifferentStream) {
  const auto a = run(small(500, 1));
  const auto b = run(small(500, 2));
  size_t same = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) same += a[i].line == b[i].line;
  EXPECT_LT(same, std::min(a.size(), b.size()) / 10);
}

TEST(HotlineSimulator, NoCasesMeansNoRecords) {
  HotlineSimulator sim(small(0));
  SimRecord r;
  EXPECT_FALSE(sim.next(r));
  EXPECT_EQ(sim.stats().good_records, 0);
}

TEST(HotlineSimulator, RejectsOptionsOutOfRange) {
  SimulatorOptions o = small(10);
  o.departments = 1;
  EXPECT_THROW(HotlineSimulator{o}, std::invalid_argument);
  o = small(10);
  o.duplicate_fraction = 1.5;
  EXPECT_THROW(HotlineSimulator{o}, std::invalid_argument);
  o = small(10);
  o.span = Duration{0};
  EXPECT_THROW(HotlineSimulator{o}, std::invalid_argument);
  o = small(-1);
  EXPECT_THROW(HotlineSimulator{o}, std::invalid_argument);
}

TEST(HotlineSimulator, WithoutDisorderArrivalIsEventTimeAndNonDecreasing) {
  const auto records = run(small(3000));
  ASSERT_FALSE(records.empty());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].arrival_time, records[i].event_time);
    EXPECT_EQ(records[i].kind, RecordKind::good);
    if (i > 0) {
      ASSERT_LE(records[i - 1].arrival_time, records[i].arrival_time) << "record " << i;
    }
  }
}

TEST(HotlineSimulator, EveryRecordMeetsTheContractWithoutDisorder) {
  const auto records = run(small(3000));
  std::set<std::string> ids;
  for (const auto& r : records) {
    ASSERT_EQ(contract_violation(r.line), "") << r.line;
    const json e = json::parse(r.line);
    EXPECT_TRUE(ids.insert(e["id"].get<std::string>()).second) << "duplicate id in " << r.line;
    EXPECT_EQ(parse_time(e), r.event_time) << r.line;
    EXPECT_EQ(e["subject"], r.case_id);
    EXPECT_EQ(e["time"].get<std::string>().substr(23), "+08:00");
    const std::string source = e["source"];
    if (e["data"].contains("department") && short_type(e) != "dispatched") {
      EXPECT_EQ(source, "/haikou/12345/dept/" + e["data"]["department"].get<std::string>());
    } else {
      EXPECT_EQ(source.rfind("/haikou/12345/", 0), 0u) << source;
    }
    if (short_type(e) == "created") {
      const json& d = e["data"];
      EXPECT_TRUE(d["priority"] == "normal" || d["priority"] == "urgent" || d["priority"] == "emergency");
      EXPECT_TRUE(d["channel"].is_string());
      EXPECT_TRUE(d["category"].is_string());
    }
    if (short_type(e) == "feedback") {
      const int score = e["data"]["score"];
      EXPECT_GE(score, 1);
      EXPECT_LE(score, 5);
    }
  }
}

TEST(HotlineSimulator, FirstCaseIdAndTimeAreLocalToHaikou) {
  SimulatorOptions o = small(1);
  o.start = *parse_rfc3339("2026-03-02T09:00:00.000+08:00");
  o.span = minutes{1};
  const auto records = run(o);
  ASSERT_FALSE(records.empty());
  const json e = json::parse(records[0].line);
  EXPECT_EQ(short_type(e), "created");
  EXPECT_EQ(e["subject"], "HK-20260302-000001");
  EXPECT_EQ(e["time"].get<std::string>().substr(0, 17), "2026-03-02T09:00:");
}

TEST(HotlineSimulator, CreationTimesStayWithinSpanAndCaseIdsFollowTheLocalDate) {
  SimulatorOptions o = small(3000);
  o.span = hours{48};
  int64_t created = 0;
  std::set<std::string> dates;
  for (const auto& r : run(o)) {
    const json e = json::parse(r.line);
    if (short_type(e) != "created") continue;
    ++created;
    EXPECT_GE(r.event_time, o.start);
    EXPECT_LT(r.event_time, o.start + o.span);
    // The case id carries the local (+08:00) creation date.
    const std::string t = e["time"];
    EXPECT_EQ(r.case_id.substr(3, 8), t.substr(0, 4) + t.substr(5, 2) + t.substr(8, 2));
    dates.insert(r.case_id.substr(3, 8));
  }
  EXPECT_EQ(created, 3000);
  EXPECT_EQ(dates, (std::set<std::string>{"20260302", "20260303"}));
}

// Walks each case's events in stream order (event order, without disorder)
// and checks that the lifecycle makes sense.
TEST(HotlineSimulator, CaseLifecyclesAreConsistent) {
  struct CaseView {
    std::vector<std::string> types;
    std::string department;
    bool awaiting_response = false;
    bool acknowledged = false;
    bool suspended = false;
    bool resolved = false;
    bool closed = false;
    bool last_feedback_satisfied = true;
    Instant last;
  };
  std::map<std::string, CaseView> cases;
  for (const auto& r : run(small(4000))) {
    const json e = json::parse(r.line);
    const std::string type = short_type(e);
    const json& d = e["data"];
    CaseView& c = cases[r.case_id];
    if (c.types.empty()) {
      ASSERT_EQ(type, "created") << r.line;
    } else {
      ASSERT_LT(c.last, r.event_time) << "events of a case must move forward: " << r.line;
    }
    c.last = r.event_time;
    c.types.push_back(type);
    if (type == "dispatched") {
      ASSERT_FALSE(c.awaiting_response) << r.line;
      c.department = d["department"];
      c.awaiting_response = true;
    } else if (type == "acknowledged" || type == "returned") {
      ASSERT_TRUE(c.awaiting_response) << r.line;
      ASSERT_EQ(d["department"], c.department) << r.line;
      c.awaiting_response = false;
      c.acknowledged = type == "acknowledged";
    } else if (type == "suspended") {
      ASSERT_TRUE(c.acknowledged && !c.suspended) << r.line;
      c.suspended = true;
    } else if (type == "resumed") {
      ASSERT_TRUE(c.suspended) << r.line;
      c.suspended = false;
    } else if (type == "resolved") {
      ASSERT_TRUE(c.acknowledged && !c.suspended) << r.line;
      c.resolved = true;
    } else if (type == "closed") {
      ASSERT_TRUE(c.resolved) << r.line;
      c.closed = true;
    } else if (type == "feedback") {
      ASSERT_TRUE(c.closed) << r.line;
      c.last_feedback_satisfied = d["satisfied"];
    } else if (type == "reopened") {
      ASSERT_EQ(c.types[c.types.size() - 2], "feedback") << r.line;
      ASSERT_FALSE(c.last_feedback_satisfied) << "only an unsatisfied citizen reopens: " << r.line;
      c.acknowledged = c.resolved = c.closed = false;
    } else if (type == "updated") {
      ASSERT_EQ(c.types.size(), 2u) << "re-triage happens before the first dispatch: " << r.line;
      ASSERT_TRUE(d.contains("priority"));
    }
  }
  EXPECT_EQ(cases.size(), 4000u);
  std::map<std::string, int> seen;
  for (const auto& [id, c] : cases)
    for (const auto& t : std::set<std::string>(c.types.begin(), c.types.end())) ++seen[t];
  for (const char* t : {"created", "updated", "dispatched", "acknowledged", "returned", "suspended",
                        "resumed", "resolved", "closed", "feedback", "reopened"})
    EXPECT_GT(seen[t], 0) << "no case has a " << t << " event";
}

struct ResponseStats {
  int64_t acknowledged = 0;
  int64_t late = 0;             // more than 30 minutes after the dispatch
  int64_t beyond_an_hour = 0;
  int64_t dispatched = 0;
  int64_t returned = 0;
  int64_t ping_pong = 0;        // cases dispatched A -> B -> A
  int64_t redispatch_with_from = 0;
  std::set<std::string> departments;
  std::map<std::string, std::pair<int64_t, int64_t>> per_department;  // acknowledged, late
};

ResponseStats response_stats(const SimulatorOptions& o) {
  ResponseStats s;
  std::map<std::string, std::pair<Instant, std::vector<std::string>>> dispatches;
  std::map<std::string, std::string> last_returned_by;
  HotlineSimulator sim(o);
  SimRecord r;
  while (sim.next(r)) {
    const json e = json::parse(r.line);
    const std::string type = short_type(e);
    const json& d = e["data"];
    auto& [dispatched_at, sequence] = dispatches[r.case_id];
    if (type == "dispatched") {
      ++s.dispatched;
      dispatched_at = r.event_time;
      sequence.push_back(d["department"]);
      s.departments.insert(d["department"].get<std::string>());
      const auto n = sequence.size();
      if (n >= 3 && sequence[n - 1] == sequence[n - 3] && sequence[n - 1] != sequence[n - 2]) ++s.ping_pong;
      if (d.contains("from_department") && d["from_department"] == last_returned_by[r.case_id])
        ++s.redispatch_with_from;
    } else if (type == "acknowledged") {
      ++s.acknowledged;
      auto& [acks, late] = s.per_department[d["department"]];
      ++acks;
      if (r.event_time - dispatched_at > minutes{30}) ++s.late, ++late;
      if (r.event_time - dispatched_at > minutes{60}) ++s.beyond_an_hour;
    } else if (type == "returned") {
      ++s.returned;
      last_returned_by[r.case_id] = d["department"];
    }
  }
  return s;
}

// The default options over 20k cases, computed once for the tests below.
const ResponseStats& default_run_stats() {
  static const ResponseStats stats = response_stats(small(20000, 12345));
  return stats;
}

TEST(HotlineSimulator, LateFirstResponsesMatchTheRequestedFraction) {
  const auto& s = default_run_stats();
  const double late = static_cast<double>(s.late) / static_cast<double>(s.acknowledged);
  EXPECT_GE(late, 0.10);
  EXPECT_LE(late, 0.20);
  const double beyond_an_hour = static_cast<double>(s.beyond_an_hour) / static_cast<double>(s.acknowledged);
  EXPECT_GT(beyond_an_hour, 0.005);
  EXPECT_LT(beyond_an_hour, 0.06);
}

TEST(HotlineSimulator, SomeDepartmentsAreSystematicallySlower) {
  const auto& s = default_run_stats();
  double slowest = 0, fastest = 1;
  for (const auto& [dept, counts] : s.per_department) {
    if (counts.first < 300) continue;  // only units with enough traffic to judge
    const double late = static_cast<double>(counts.second) / static_cast<double>(counts.first);
    slowest = std::max(slowest, late);
    fastest = std::min(fastest, late);
  }
  EXPECT_GT(slowest, 2.5 * fastest);
}

TEST(HotlineSimulator, ZeroLateFractionMeansEveryResponseWithinThirtyMinutes) {
  SimulatorOptions o = small(3000);
  o.late_first_response = 0;
  const auto s = response_stats(o);
  EXPECT_GT(s.acknowledged, 3000);
  EXPECT_EQ(s.late, 0);
}

TEST(HotlineSimulator, AllNinetyOneDepartmentsAppearWithValidIds) {
  const auto ids = HotlineSimulator::department_ids(91);
  ASSERT_EQ(ids.size(), 91u);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), 91u);
  const std::regex kDepartmentId("[a-z0-9-]+");
  for (const auto& id : ids) EXPECT_TRUE(std::regex_match(id, kDepartmentId)) << id;
  EXPECT_EQ(ids[0], "water");

  const auto& s = default_run_stats();
  EXPECT_EQ(s.departments, std::set<std::string>(ids.begin(), ids.end()));
}

TEST(HotlineSimulator, DepartmentCountIsConfigurable) {
  SimulatorOptions o = small(2000);
  o.departments = 5;
  EXPECT_EQ(response_stats(o).departments.size(), 5u);
  const auto many = HotlineSimulator::department_ids(120);
  EXPECT_EQ(many[91], "unit-092");
  EXPECT_EQ(std::set<std::string>(many.begin(), many.end()).size(), 120u);
}

TEST(HotlineSimulator, DepartmentsReturnCasesIncludingPingPong) {
  const auto& s = default_run_stats();
  const double returned = static_cast<double>(s.returned) / static_cast<double>(s.dispatched);
  EXPECT_GT(returned, 0.05);
  EXPECT_LT(returned, 0.12);
  EXPECT_GT(s.ping_pong, 20);
  // Every return is followed by a re-dispatch that names the returning unit.
  EXPECT_EQ(s.redispatch_with_from, s.returned);
}

TEST(HotlineSimulator, LeaveOpenStopsAfterTheFirstAcknowledgement) {
  SimulatorOptions o = small(3000);
  o.leave_open = true;
  std::map<std::string, std::string> last_type;
  for (const auto& r : run(o)) {
    const std::string type = short_type(json::parse(r.line));
    EXPECT_TRUE(type == "created" || type == "updated" || type == "dispatched" ||
                type == "returned" || type == "acknowledged")
        << r.line;
    last_type[r.case_id] = type;
  }
  EXPECT_EQ(last_type.size(), 3000u);
  for (const auto& [id, type] : last_type) EXPECT_EQ(type, "acknowledged") << id;
}

TEST(HotlineSimulator, DisorderAddsDuplicatesAndMalformedButKeepsTheGoodStreamComplete) {
  SimulatorOptions o = small(5000);
  const auto clean = run(o);
  o.duplicate_fraction = 0.05;
  o.malformed_fraction = 0.03;
  HotlineSimulator sim(o);
  std::vector<SimRecord> messy;
  SimRecord r;
  while (sim.next(r)) messy.push_back(r);

  std::multiset<std::string> good;
  std::set<std::string> seen_good;
  int64_t duplicates = 0, malformed = 0;
  for (const auto& rec : messy) {
    switch (rec.kind) {
      case RecordKind::good:
        good.insert(rec.line);
        seen_good.insert(rec.line);
        break;
      case RecordKind::duplicate:
        ++duplicates;
        EXPECT_TRUE(seen_good.contains(rec.line)) << "a duplicate repeats a record already sent";
        break;
      case RecordKind::malformed:
        ++malformed;
        EXPECT_NE(contract_violation(rec.line), "") << rec.line;
        break;
    }
  }
  std::multiset<std::string> expected;
  for (const auto& rec : clean) expected.insert(rec.line);
  EXPECT_EQ(good, expected);

  const auto n = static_cast<double>(clean.size());
  EXPECT_NEAR(static_cast<double>(duplicates) / n, 0.05, 0.01);
  EXPECT_NEAR(static_cast<double>(malformed) / n, 0.03, 0.01);
  EXPECT_EQ(sim.stats().duplicate_records, duplicates);
  EXPECT_EQ(sim.stats().malformed_records, malformed);
  EXPECT_EQ(sim.stats().good_records, static_cast<int64_t>(clean.size()));
}

TEST(HotlineSimulator, MalformedRecordsCoverEveryKindOfDefect) {
  SimulatorOptions o = small(3000);
  o.malformed_fraction = 0.1;
  std::set<std::string> reasons;
  for (const auto& r : run(o)) {
    if (r.kind != RecordKind::malformed) continue;
    std::string reason = contract_violation(r.line);
    if (reason.rfind("missing", 0) == 0) reason = "missing";
    if (reason.rfind("type", 0) == 0) reason = "type";
    reasons.insert(reason);
  }
  EXPECT_EQ(reasons, (std::set<std::string>{"not a JSON object", "missing", "time", "type", "subject"}));
}

TEST(HotlineSimulator, LateRecordsArriveWithinMaxLatenessInArrivalOrder) {
  SimulatorOptions o = small(5000);
  o.late_fraction = 0.1;
  o.max_lateness = minutes{90};
  HotlineSimulator sim(o);
  SimRecord r;
  Instant previous_arrival = kMinInstant;
  int64_t records = 0, late = 0, out_of_event_order = 0;
  Instant previous_event = kMinInstant;
  while (sim.next(r)) {
    ASSERT_LE(previous_arrival, r.arrival_time);
    ASSERT_GE(r.arrival_time, r.event_time);
    ASSERT_LE(r.arrival_time - r.event_time, minutes{90});
    previous_arrival = r.arrival_time;
    if (r.event_time < previous_event) ++out_of_event_order;
    previous_event = r.event_time;
    ++records;
    if (r.arrival_time > r.event_time) ++late;
  }
  EXPECT_NEAR(static_cast<double>(late) / static_cast<double>(records), 0.1, 0.015);
  EXPECT_EQ(sim.stats().late_records, late);
  EXPECT_GT(out_of_event_order, 0);
}

TEST(HotlineSimulator, ReorderSwapsNeighboursWithoutBreakingArrivalOrder) {
  SimulatorOptions o = small(3000);
  o.reorder_fraction = 0.05;
  const auto clean = run(small(3000));
  const auto shuffled = run(o);
  ASSERT_EQ(shuffled.size(), clean.size());
  int64_t inversions = 0;
  for (size_t i = 1; i < shuffled.size(); ++i) {
    ASSERT_LE(shuffled[i - 1].arrival_time, shuffled[i].arrival_time);
    inversions += shuffled[i].event_time < shuffled[i - 1].event_time;
  }
  EXPECT_GT(inversions, 0);
  std::multiset<std::string> a, b;
  for (const auto& r : clean) a.insert(r.line);
  for (const auto& r : shuffled) b.insert(r.line);
  EXPECT_EQ(a, b);
}

TEST(HotlineSimulator, LargeRunStreamsInBoundedMemory) {
  // 200k cases at Haikou's rate of about 11k a day.
  SimulatorOptions o = small(200000);
  o.span = hours{24 * 18};
  HotlineSimulator sim(o);
  SimRecord r;
  int64_t records = 0;
  while (sim.next(r)) ++records;
  EXPECT_EQ(sim.stats().cases_created, 200000);
  EXPECT_GT(records, 1'000'000);
  // Only open cases are held: a small fraction of all cases and records.
  EXPECT_LT(sim.stats().max_pending_records, 200000 / 2);
  EXPECT_LT(sim.stats().max_pending_records, records / 10);
  EXPECT_EQ(sim.stats().max_pending_records, sim.stats().max_active_cases);
}

}  // namespace
}  // namespace slawatch
