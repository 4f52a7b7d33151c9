// The contract amendments of 2026-12-06 (sections 2 and 4): a pause ends at a
// stop event of the rule, and replay fires a stage only once its clock has
// passed the due time (or at end of input).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "engine_fixture.h"

namespace slawatch::testing {
namespace {

// Handling within 24 h of creation or reopening, pausable: the rule a
// suspend-resolve-reopen sequence could once escape.
DeadlineRule handling_rule() {
  DeadlineRule r;
  r.id = RuleId{"handling"};
  r.title = "Handled within 24 hours of creation or reopening";
  r.start = types({EventType::created, EventType::reopened});
  r.stop = types({EventType::resolved, EventType::closed});
  r.pause = types({EventType::suspended});
  r.resume = types({EventType::resumed});
  r.target = hours{24};
  r.calendar = make_always_calendar();
  r.stages = {percent_stage("breach", r.target, 100, "major")};
  return r;
}

CaseEvent on_c1(std::string id, EventType type, Instant time) { return event(std::move(id), "c1", type, time); }

// Every arrival order of `events` (applied, then the clock moved far ahead)
// leaves the same standing alerts as `expected`.
void expect_standing_in_every_order(std::vector<CaseEvent> events, Instant final_clock,
                                    const std::set<std::string>& expected) {
  std::sort(events.begin(), events.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  do {
    EngineHarness h(rule_set({handling_rule()}));
    for (const auto& e : events) h.apply(e);
    h.advance(final_clock);
    std::set<std::string> standing;
    for (const auto& a : h.all()) {
      if (a.kind == AlertKind::fired) standing.insert(describe(a));
      if (a.kind == AlertKind::retracted) standing.erase(fired(a.alert_id, a.due_at));
    }
    EXPECT_EQ(standing, expected);
  } while (std::next_permutation(events.begin(), events.end(),
                                 [](const auto& a, const auto& b) { return a.id < b.id; }));
}

// ---- amendment 1: the pause ends at a stop event -----------------------------

TEST(PauseEndsAtStop, SuspendThenResolveThenReopenRunsTheClockFromTheReopening) {
  EngineHarness h(rule_set({handling_rule()}));
  h.replay(on_c1("e1", EventType::created, kT0));
  h.replay(on_c1("e2", EventType::suspended, kT0 + hours{1}));
  h.replay(on_c1("e3", EventType::resolved, kT0 + hours{2}));  // never resumed
  h.replay(on_c1("e4", EventType::reopened, kT0 + hours{3}));
  const Instant due = kT0 + hours{27};
  EXPECT_EQ(describe(h.advance(due - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(due)), (Described{fired("c1/handling/2/breach", due)}));
}

TEST(PauseEndsAtStop, SuspendBeforeTheStartOpensTheCyclePausedUntilTheResume) {
  EngineHarness h(rule_set({handling_rule()}));
  h.replay(on_c1("e1", EventType::suspended, kT0 - hours{1}));
  h.replay(on_c1("e2", EventType::created, kT0));
  EXPECT_EQ(describe(h.advance(kT0 + hours{48})), Described{});  // paused: no due time
  h.replay(on_c1("e3", EventType::resumed, kT0 + hours{48}));
  const Instant due = kT0 + hours{72};
  EXPECT_EQ(describe(h.advance(due - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(due)), (Described{fired("c1/handling/1/breach", due)}));
}

TEST(PauseEndsAtStop, SuspendAfterTheCloseKeepsTheReopenedCasePaused) {
  // Suspended after it was resolved, the case is waiting on the citizen again:
  // a reopening then opens its cycle paused, until the resume.
  EngineHarness h(rule_set({handling_rule()}));
  h.replay(on_c1("e1", EventType::created, kT0));
  h.replay(on_c1("e2", EventType::resolved, kT0 + hours{1}));
  h.replay(on_c1("e3", EventType::suspended, kT0 + hours{2}));
  h.replay(on_c1("e4", EventType::reopened, kT0 + hours{3}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{40})), Described{});
  h.replay(on_c1("e5", EventType::resumed, kT0 + hours{40}));
  const Instant due = kT0 + hours{64};
  EXPECT_EQ(describe(h.advance(due - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(due)), (Described{fired("c1/handling/2/breach", due)}));
}

TEST(PauseEndsAtStop, SuspendAndResolveInTheSameMillisecondEndThePause) {
  // Within an instant pauses apply before stops, so the stop ends that pause.
  EngineHarness h(rule_set({handling_rule()}));
  h.replay(on_c1("e1", EventType::created, kT0));
  h.apply(on_c1("z-resolve", EventType::resolved, kT0 + hours{1}));
  h.apply(on_c1("a-suspend", EventType::suspended, kT0 + hours{1}));
  h.replay(on_c1("e4", EventType::reopened, kT0 + hours{2}));
  const Instant due = kT0 + hours{26};
  EXPECT_EQ(describe(h.advance(due - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(due)), (Described{fired("c1/handling/2/breach", due)}));
}

TEST(PauseEndsAtStop, StopOfAnotherRuleDoesNotEndThePause) {
  // `acknowledged` stops first-response, not handling: the case still waits.
  EngineHarness h(rule_set({handling_rule()}));
  h.replay(on_c1("e1", EventType::created, kT0));
  h.replay(on_c1("e2", EventType::suspended, kT0 + hours{1}));
  h.replay(on_c1("e3", EventType::acknowledged, kT0 + hours{2}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{100})), Described{});
}

TEST(PauseEndsAtStop, EveryArrivalOrderGivesTheSameStandingAlerts) {
  expect_standing_in_every_order(
      {on_c1("e1", EventType::created, kT0), on_c1("e2", EventType::suspended, kT0 + hours{1}),
       on_c1("e3", EventType::resolved, kT0 + hours{2}), on_c1("e4", EventType::reopened, kT0 + hours{3})},
      kT0 + hours{100}, {fired("c1/handling/2/breach", kT0 + hours{27})});
}

TEST(PauseEndsAtStop, ALateResolveBetweenSuspendAndReopenFiresTheReopenedCycle) {
  // Live: suspended, reopened (paused, nothing due); then the resolve in
  // between arrives late and the reopened cycle's clock has run since 03:00.
  EngineHarness h(rule_set({handling_rule()}));
  h.apply(on_c1("e1", EventType::created, kT0));
  h.apply(on_c1("e2", EventType::suspended, kT0 + hours{1}));
  h.apply(on_c1("e4", EventType::reopened, kT0 + hours{3}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{30})), Described{});
  EXPECT_EQ(describe(h.apply(on_c1("e3", EventType::resolved, kT0 + hours{2}))),
            (Described{fired("c1/handling/2/breach", kT0 + hours{27})}));
}

// ---- amendment 2: replay fires once the clock has passed the due time --------

EngineOptions replay_options() {
  EngineOptions options;
  options.fire_at_due_time = false;
  return options;
}

TEST(ReplayClock, AStageDueExactlyAtTheClockWaitsForTheClockToPassIt) {
  EngineHarness h(rule_set({first_response_rule()}), replay_options());
  h.replay(dispatched("d1", "c1", kT0));
  const Instant warning_due = kT0 + minutes{24};
  EXPECT_EQ(describe(h.advance(warning_due)), Described{});
  EXPECT_EQ(describe(h.advance(warning_due + milliseconds{1})),
            (Described{fired("c1/first-response/1/warning", warning_due)}));
}

TEST(ReplayClock, AnotherCasesEventAtTheDueMillisecondNeverCausesARetraction) {
  // In event-time order: c2's event moves the clock to c1's warning due time;
  // c1's acknowledgement of the same millisecond follows and meets the stage.
  EngineHarness h(rule_set({first_response_rule()}), replay_options());
  const Instant warning_due = kT0 + minutes{24};
  h.replay(dispatched("d1", "c1", kT0));
  h.replay(dispatched("d2", "c2", warning_due));
  h.replay(acknowledged("a1", "c1", warning_due));
  h.replay(acknowledged("a2", "c2", warning_due + minutes{1}));
  for (const auto& a : h.all()) {
    EXPECT_NE(a.kind, AlertKind::retracted) << describe(a);
    EXPECT_NE(a.alert_id, "c1/first-response/1/warning") << describe(a);
  }
}

TEST(ReplayClock, TheLiveClockStillFiresExactlyAtTheDueTime) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  const Instant warning_due = kT0 + minutes{24};
  EXPECT_EQ(describe(h.advance(warning_due - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(warning_due)), (Described{fired("c1/first-response/1/warning", warning_due)}));
}

TEST(ReplayClock, EndOfInputSettlesStagesDueExactlyAtTheFinalClock) {
  EngineHarness h(rule_set({first_response_rule()}), replay_options());
  h.replay(dispatched("d1", "c1", kT0));
  const Instant warning_due = kT0 + minutes{24};
  EXPECT_EQ(describe(h.advance(warning_due)), Described{});
  EXPECT_EQ(describe(h.settle(warning_due)), (Described{fired("c1/first-response/1/warning", warning_due)}));
}

TEST(ReplayClock, ALateDispatchWhoseStageIsDueExactlyAtTheClockWaitsToo) {
  EngineHarness h(rule_set({first_response_rule()}), replay_options());
  const Instant warning_due = kT0 + minutes{24};
  h.replay(dispatched("d9", "c9", warning_due));  // the clock is at c1's warning due time
  EXPECT_EQ(describe(h.apply(dispatched("d1", "c1", kT0))), Described{});
  EXPECT_EQ(describe(h.apply(acknowledged("a1", "c1", warning_due))), Described{});
  EXPECT_EQ(describe(h.settle(warning_due)), Described{});
}

TEST(ReplayClock, AFiredStageDueAtTheClockStaysFiredAfterARestart) {
  // Settled at end of input, then resumed: the stage is still breached.
  EngineHarness h(rule_set({first_response_rule()}), replay_options());
  h.replay(dispatched("d1", "c1", kT0));
  const Instant warning_due = kT0 + minutes{24};
  h.settle(warning_due);
  h.restart();
  EXPECT_EQ(describe(h.replay(priority_updated("u1", "c1", warning_due, "urgent"))), Described{});
  for (const auto& a : h.all()) EXPECT_NE(a.kind, AlertKind::retracted) << describe(a);
}

}  // namespace
}  // namespace slawatch::testing
