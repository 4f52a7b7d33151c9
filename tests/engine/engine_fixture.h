#pragma once
// Test support for the engine: rule sets built in code, terse case events, and
// a harness that drives an Engine over a MemoryStateStore with a manual clock
// (explicit advance() calls), collecting every alert it emits.
#include <gtest/gtest.h>

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "calendar/calendar.h"
#include "engine/engine.h"
#include "model/alert.h"
#include "model/event.h"
#include "model/time.h"
#include "rules/rules.h"
#include "state/store.h"

namespace slawatch::testing {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

// 2026-03-02T00:00:00Z, a Monday.
inline constexpr Instant kT0 = std::chrono::sys_days{std::chrono::year{2026} / 3 / 2};

inline Instant at_time(std::string_view rfc3339) {
  auto parsed = parse_rfc3339(rfc3339);
  EXPECT_TRUE(parsed.ok()) << rfc3339;
  return parsed.ok() ? *parsed : kT0;
}

// ---- rules ---------------------------------------------------------------

inline EventTypeSet types(std::initializer_list<EventType> list) {
  EventTypeSet set;
  for (EventType t : list) set.insert(t);
  return set;
}

inline Stage percent_stage(std::string name, Duration target, int percent, std::string severity,
                           std::vector<std::string> notify = {"department.duty_officer"}) {
  Stage s;
  s.name = std::move(name);
  s.percent = percent;
  s.offset = target * percent / 100;
  s.severity = std::move(severity);
  s.notify = std::move(notify);
  return s;
}

// The example first-response rule: 30m from each dispatch, warning 80%,
// breach 100%, escalated 200%. `pausable` adds suspended/resumed.
inline DeadlineRule first_response_rule(bool pausable = false) {
  DeadlineRule r;
  r.id = RuleId{"first-response"};
  r.title = "First response within 30 minutes of dispatch";
  r.start = types({EventType::dispatched});
  r.stop = types({EventType::acknowledged, EventType::returned, EventType::resolved,
                  EventType::closed});
  if (pausable) {
    r.pause = types({EventType::suspended});
    r.resume = types({EventType::resumed});
  }
  r.target = minutes{30};
  r.calendar = make_always_calendar();
  r.stages = {percent_stage("warning", r.target, 80, "minor"),
              percent_stage("breach", r.target, 100, "major",
                            {"department.duty_officer", "department.head"}),
              percent_stage("escalated", r.target, 200, "critical", {"city.hotline_office"})};
  return r;
}

// Emergencies resolved within 24h of creation.
inline DeadlineRule emergency_rule() {
  DeadlineRule r;
  r.id = RuleId{"emergency-handling"};
  r.title = "Emergencies handled within 24 hours";
  r.when.allowed["priority"] = {"emergency"};
  r.start = types({EventType::created});
  r.stop = types({EventType::resolved, EventType::closed});
  r.target = hours{24};
  r.calendar = make_always_calendar();
  r.stages = {percent_stage("breach", r.target, 100, "critical", {"city.hotline_office"})};
  return r;
}

inline CountRule repeated_return_rule() {
  CountRule r;
  r.id = RuleId{"repeated-return"};
  r.title = "Case returned by departments twice within 72 hours";
  r.events = types({EventType::returned});
  r.threshold = 2;
  r.window = hours{72};
  r.severity = "major";
  r.notify = {"city.hotline_office"};
  return r;
}

// Asia/Shanghai, Mon-Fri 08:00-12:00 and 14:30-17:30.
inline std::shared_ptr<const Calendar> shanghai_office_calendar(
    std::vector<std::chrono::year_month_day> holidays = {},
    std::vector<std::chrono::year_month_day> extra_workdays = {}) {
  WorkingCalendarSpec spec;
  spec.name = "office";
  spec.time_zone = "Asia/Shanghai";
  spec.working_hours = {{8 * 60, 12 * 60}, {14 * 60 + 30, 17 * 60 + 30}};
  spec.working_weekdays = {1, 2, 3, 4, 5};
  spec.holidays = std::move(holidays);
  spec.extra_workdays = std::move(extra_workdays);
  auto calendar = make_working_calendar(std::move(spec));
  EXPECT_TRUE(calendar.ok()) << (calendar.ok() ? "" : calendar.error().message);
  return calendar.ok() ? *calendar : make_always_calendar();
}

inline std::shared_ptr<const RuleSet> rule_set(std::vector<DeadlineRule> deadlines,
                                               std::vector<CountRule> counts = {}) {
  auto set = std::make_shared<RuleSet>();
  set->deadlines = std::move(deadlines);
  set->counts = std::move(counts);
  set->version = "test-rules-v1";
  return set;
}

// The example first-response rule with another target (stages keep their
// percentages), as a set with the given version: two "editions" of one rule.
inline std::shared_ptr<const RuleSet> first_response_within(Duration target, std::string version) {
  auto rule = first_response_rule();
  rule.target = target;
  for (auto& stage : rule.stages) stage.offset = target * stage.percent / 100;
  auto set = rule_set({rule});
  std::const_pointer_cast<RuleSet>(set)->version = std::move(version);
  return set;
}

// ---- events --------------------------------------------------------------

inline CaseEvent event(std::string id, std::string case_id, EventType type, Instant time,
                       std::string department = {}) {
  CaseEvent e;
  e.id = EventId{std::move(id)};
  e.case_id = CaseId{std::move(case_id)};
  e.type = type;
  e.time = time;
  e.department = std::move(department);
  return e;
}

inline CaseEvent created(std::string id, std::string case_id, Instant time,
                         std::string priority = "normal") {
  CaseEvent e = event(std::move(id), std::move(case_id), EventType::created, time);
  e.category = "noise";
  e.priority = std::move(priority);
  e.channel = "phone";
  return e;
}

inline CaseEvent dispatched(std::string id, std::string case_id, Instant time,
                            std::string department = "dept-a") {
  return event(std::move(id), std::move(case_id), EventType::dispatched, time,
               std::move(department));
}

inline CaseEvent acknowledged(std::string id, std::string case_id, Instant time,
                              std::string department = "dept-a") {
  return event(std::move(id), std::move(case_id), EventType::acknowledged, time,
               std::move(department));
}

inline CaseEvent priority_updated(std::string id, std::string case_id, Instant time,
                                  std::string priority) {
  CaseEvent e = event(std::move(id), std::move(case_id), EventType::updated, time);
  e.priority = std::move(priority);
  return e;
}

// ---- alerts --------------------------------------------------------------

// "fired c1/first-response/1/warning due=2026-03-02T00:24:00.000Z": what most
// assertions compare; other fields are checked where a test is about them.
inline std::string describe(AlertKind kind, std::string_view alert_id, Instant due_at) {
  return std::string(to_string(kind)) + " " + std::string(alert_id) + " due=" +
         format_rfc3339_utc(due_at);
}
inline std::string describe(const Alert& a) { return describe(a.kind, a.alert_id, a.due_at); }
inline std::vector<std::string> describe(const std::vector<Alert>& alerts) {
  std::vector<std::string> out;
  for (const auto& a : alerts) out.push_back(describe(a));
  return out;
}
inline std::string fired(std::string_view id, Instant due) {
  return describe(AlertKind::fired, id, due);
}
inline std::string resolved(std::string_view id, Instant due) {
  return describe(AlertKind::resolved, id, due);
}
inline std::string retracted(std::string_view id, Instant due) {
  return describe(AlertKind::retracted, id, due);
}
using Described = std::vector<std::string>;

// ---- harness -------------------------------------------------------------

// One engine over one in-memory store. apply()/advance() return the alerts of
// that call; all() keeps every alert so far. restart() commits and replaces
// the engine by a fresh one opened on the same store, as after a crash.
class EngineHarness {
 public:
  explicit EngineHarness(std::shared_ptr<const RuleSet> rules, EngineOptions options = {})
      : rules_(std::move(rules)), options_(options) {
    engine_ = std::make_unique<Engine>(rules_, store_, options_);
  }

  std::vector<Alert> apply(const CaseEvent& e) {
    std::vector<Alert> out;
    auto outcome = engine_->apply(e, out);
    EXPECT_TRUE(outcome.ok()) << (outcome.ok() ? "" : outcome.error().message);
    last_outcome_ = outcome.ok() ? *outcome : ApplyOutcome::case_full;
    record(out);
    return out;
  }

  // Apply, then move the clock to the event's time (the replay clock).
  std::vector<Alert> replay(const CaseEvent& e) {
    auto out = apply(e);
    auto more = advance(e.time);
    out.insert(out.end(), more.begin(), more.end());
    return out;
  }

  std::vector<Alert> advance(Instant now) {
    std::vector<Alert> out;
    auto more = engine_->advance(now, out);
    EXPECT_TRUE(more.ok()) << (more.ok() ? "" : more.error().message);
    EXPECT_FALSE(more.ok() && *more) << "advance without a timer limit left due timers";
    record(out);
    return out;
  }

  // advance() at the end of replay input: a stage due exactly at `now` fires too.
  std::vector<Alert> settle(Instant now) {
    std::vector<Alert> out;
    auto more = engine_->settle(now, out);
    EXPECT_TRUE(more.ok()) << (more.ok() ? "" : more.error().message);
    record(out);
    return out;
  }

  void commit() {
    StateBatch batch;
    engine_->flush_into(batch);
    batch.checkpoint = Checkpoint{engine_->clock(), "", 1};
    auto s = store_.commit(batch);
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  void restart() {
    commit();
    engine_ = std::make_unique<Engine>(rules_, store_, options_);
    auto s = engine_->open();
    ASSERT_TRUE(s.ok()) << s.error().message;
  }

  Engine& engine() { return *engine_; }
  MemoryStateStore& store() { return store_; }
  ApplyOutcome last_outcome() const { return last_outcome_; }
  const std::vector<Alert>& all() const { return all_; }

 private:
  void record(const std::vector<Alert>& out) { all_.insert(all_.end(), out.begin(), out.end()); }

  std::shared_ptr<const RuleSet> rules_;
  EngineOptions options_;
  MemoryStateStore store_;
  std::unique_ptr<Engine> engine_;
  ApplyOutcome last_outcome_ = ApplyOutcome::applied;
  std::vector<Alert> all_;
};

}  // namespace slawatch::testing
