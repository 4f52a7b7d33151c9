// Count rules and business-calendar deadlines through the engine.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace slawatch::testing {
namespace {

constexpr Instant kMuchLater = kT0 + hours{24 * 60};

CaseEvent returned(std::string id, std::string case_id, Instant time) {
  return event(std::move(id), std::move(case_id), EventType::returned, time, "dept-a");
}

std::string threshold_id(std::string_view case_id) {
  return std::string(case_id) + "/repeated-return/1/threshold";
}

// ---- count rule --------------------------------------------------------------

TEST(CountRule, TwoReturnsExactlySeventyTwoHoursApartFire) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  EXPECT_EQ(describe(h.replay(returned("r1", "c1", kT0))), Described{});
  const auto alerts = h.replay(returned("r2", "c1", kT0 + hours{72}));
  ASSERT_EQ(describe(alerts), (Described{fired(threshold_id("c1"), kT0 + hours{72})}));
  const Alert& a = alerts[0];
  EXPECT_EQ(a.stage, "threshold");
  EXPECT_EQ(a.cycle, 1);
  EXPECT_EQ(a.severity, "major");
  EXPECT_EQ(a.started_at, kT0);  // the first event inside the window
  EXPECT_EQ(a.fired_at, kT0 + hours{72});
  ASSERT_EQ(a.notify.size(), 1u);
  EXPECT_EQ(a.notify[0].role, "city.hotline_office");
}

TEST(CountRule, SeventyTwoHoursAndOneMillisecondApartDoNotFire) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  h.replay(returned("r1", "c1", kT0));
  EXPECT_EQ(describe(h.replay(returned("r2", "c1", kT0 + hours{72} + milliseconds{1}))),
            Described{});
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(CountRule, FiresOncePerCaseWhateverFollows) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  h.replay(returned("r1", "c1", kT0));
  EXPECT_EQ(describe(h.replay(returned("r2", "c1", kT0 + hours{1}))),
            (Described{fired(threshold_id("c1"), kT0 + hours{1})}));
  EXPECT_EQ(describe(h.replay(returned("r3", "c1", kT0 + hours{2}))), Described{});
  EXPECT_EQ(describe(h.replay(returned("r4", "c1", kT0 + hours{200}))), Described{});
  EXPECT_EQ(describe(h.replay(returned("r5", "c1", kT0 + hours{201}))), Described{});
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(CountRule, SecondWindowFiresWhenTheFirstPairIsTooFarApart) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  h.replay(returned("r1", "c1", kT0));
  EXPECT_EQ(describe(h.replay(returned("r2", "c1", kT0 + hours{80}))), Described{});
  EXPECT_EQ(describe(h.replay(returned("r3", "c1", kT0 + hours{100}))),
            (Described{fired(threshold_id("c1"), kT0 + hours{100})}));
}

TEST(CountRule, OutOfOrderReturnsFireAtTheEventThatCompletesTheWindow) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  // c1: the later return arrives first; the earlier one completes the pair on apply.
  h.replay(returned("r2", "c1", kT0 + hours{72}));
  const auto c1 = h.apply(returned("r1", "c1", kT0));
  ASSERT_EQ(describe(c1), (Described{fired(threshold_id("c1"), kT0 + hours{72})}));
  EXPECT_EQ(c1[0].started_at, kT0);
  EXPECT_EQ(c1[0].fired_at, kT0 + hours{72});

  // c2: 0h and 100h are too far apart; a late 50h return pairs with 0h.
  h.apply(returned("s1", "c2", kT0));
  h.replay(returned("s3", "c2", kT0 + hours{100}));
  EXPECT_EQ(describe(h.apply(returned("s2", "c2", kT0 + hours{50}))),
            (Described{fired(threshold_id("c2"), kT0 + hours{50})}));

  // c3: the pair lies ahead of the clock: it fires when the clock gets there.
  h.apply(returned("t2", "c3", kT0 + hours{130}));
  h.apply(returned("t1", "c3", kT0 + hours{120}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{130} - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kT0 + hours{130})),
            (Described{fired(threshold_id("c3"), kT0 + hours{130})}));
}

TEST(CountRule, LateEarlierReturnMovingTheThresholdInstantCorrectsTheStandingAlert) {
  EngineHarness h(rule_set({}, {repeated_return_rule()}));
  h.replay(returned("r2", "c1", kT0 + hours{10}));
  EXPECT_EQ(describe(h.replay(returned("r3", "c1", kT0 + hours{20}))),
            (Described{fired(threshold_id("c1"), kT0 + hours{20})}));
  // Now the pair is 05h + 10h: the threshold was reached at 10h.
  h.apply(returned("r1", "c1", kT0 + hours{5}));
  const Alert* standing = nullptr;
  for (const auto& a : h.all()) {
    if (a.kind == AlertKind::fired) standing = &a;
    if (a.kind == AlertKind::retracted) standing = nullptr;
  }
  ASSERT_NE(standing, nullptr);
  EXPECT_EQ(standing->due_at, kT0 + hours{10});
  EXPECT_EQ(standing->started_at, kT0 + hours{5});
}

// ---- business calendar -----------------------------------------------------------

// Resolve within 2 working hours of creation.
DeadlineRule office_rule(std::shared_ptr<const Calendar> calendar) {
  DeadlineRule r;
  r.id = RuleId{"office"};
  r.title = "Resolved within 2 working hours";
  r.start = types({EventType::created});
  r.stop = types({EventType::resolved});
  r.target = hours{2};
  r.calendar = std::move(calendar);
  r.stages = {percent_stage("breach", r.target, 100, "major")};
  return r;
}

using std::chrono::day;
using std::chrono::March;
using std::chrono::year;

// Created at `start`; the breach must fire exactly at `due`, not 1 ms before.
void expect_breach_due(std::shared_ptr<const Calendar> calendar, Instant start, Instant due) {
  EngineHarness h(rule_set({office_rule(std::move(calendar))}));
  h.replay(created("e1", "c1", start));
  EXPECT_EQ(describe(h.advance(due - milliseconds{1})), Described{});
  const auto alerts = h.advance(due);
  ASSERT_EQ(describe(alerts), (Described{fired("c1/office/1/breach", due)}));
  EXPECT_EQ(alerts[0].started_at, start);
}

TEST(CalendarRule, FridayAfternoonRollsOverTheWeekendToMondayNine) {
  // Fri 16:30-17:30 counts 1h, Mon 08:00-09:00 the other.
  expect_breach_due(shanghai_office_calendar(), at_time("2026-03-06T16:30:00+08:00"),
                    at_time("2026-03-09T09:00:00+08:00"));
}

TEST(CalendarRule, AHolidayMondayIsSkipped) {
  expect_breach_due(shanghai_office_calendar({year{2026} / March / day{9}}),
                    at_time("2026-03-06T16:30:00+08:00"), at_time("2026-03-10T09:00:00+08:00"));
}

TEST(CalendarRule, AMakeUpSaturdayCounts) {
  expect_breach_due(shanghai_office_calendar({}, {year{2026} / March / day{7}}),
                    at_time("2026-03-06T16:30:00+08:00"), at_time("2026-03-07T09:00:00+08:00"));
}

TEST(CalendarRule, DueExactlyAtTheStartOfLunchIsNoonNotHalfPastTwo) {
  expect_breach_due(shanghai_office_calendar(), at_time("2026-03-02T10:00:00+08:00"),
                    at_time("2026-03-02T12:00:00+08:00"));
}

TEST(CalendarRule, StartedDuringLunchCountsFromHalfPastTwo) {
  expect_breach_due(shanghai_office_calendar(), at_time("2026-03-02T12:30:00+08:00"),
                    at_time("2026-03-02T16:30:00+08:00"));
}

TEST(CalendarRule, ResolvedAtNoonMeetsAndResolvedDuringLunchIsOverdue) {
  EngineHarness h(rule_set({office_rule(shanghai_office_calendar())}));
  const Instant start = at_time("2026-03-02T10:00:00+08:00");
  const Instant noon = at_time("2026-03-02T12:00:00+08:00");
  h.replay(created("e1", "met", start));
  h.replay(created("e2", "late", start));
  h.apply(event("x1", "met", EventType::resolved, noon));
  const Instant lunch = at_time("2026-03-02T13:00:00+08:00");
  h.apply(event("x2", "late", EventType::resolved, lunch));
  const auto alerts = h.advance(kMuchLater);
  ASSERT_EQ(describe(alerts), (Described{fired("late/office/1/breach", noon),
                                         resolved("late/office/1/breach", noon)}));
  EXPECT_EQ(*alerts[1].closed_at - alerts[1].due_at, hours{1});  // wall time, not working time
}

}  // namespace
}  // namespace slawatch::testing
