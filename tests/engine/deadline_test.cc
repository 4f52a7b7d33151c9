// Deadline rules through the engine (contract sections 2-4): every edge of a
// cycle's start, stop, pause and stages, with exact alert ids, kinds and times.
#include <gtest/gtest.h>

#include <set>

#include "engine_fixture.h"

namespace slawatch::testing {
namespace {

const std::string kWarning1 = "c1/first-response/1/warning";
const std::string kBreach1 = "c1/first-response/1/breach";
const std::string kEscalated1 = "c1/first-response/1/escalated";
constexpr Instant kWarningDue = kT0 + minutes{24};
constexpr Instant kBreachDue = kT0 + minutes{30};
constexpr Instant kEscalatedDue = kT0 + minutes{60};
constexpr Instant kMuchLater = kT0 + hours{24 * 30};

std::vector<std::string> roles(const Alert& a) {
  std::vector<std::string> out;
  for (const auto& n : a.notify) out.push_back(n.role);
  return out;
}

// ---- first response: the stage edges ---------------------------------------

TEST(FirstResponse, AckExactlyAtDueMeetsTheBreachAndResolvesTheWarning) {
  EngineHarness h(rule_set({first_response_rule()}));
  EXPECT_EQ(describe(h.replay(dispatched("d1", "c1", kT0))), Described{});

  const auto warning = h.advance(kWarningDue);
  ASSERT_EQ(describe(warning), (Described{fired(kWarning1, kWarningDue)}));
  const Alert& w = warning[0];
  EXPECT_EQ(w.case_id, CaseId{"c1"});
  EXPECT_EQ(w.rule, RuleId{"first-response"});
  EXPECT_EQ(w.cycle, 1);
  EXPECT_EQ(w.stage, "warning");
  EXPECT_EQ(w.severity, "minor");
  EXPECT_EQ(w.department, "dept-a");
  EXPECT_EQ(w.started_at, kT0);
  EXPECT_EQ(w.fired_at, kWarningDue);
  EXPECT_EQ(w.emitted_at, kWarningDue);
  EXPECT_EQ(w.rule_version, "test-rules-v1");
  EXPECT_EQ(roles(w), (std::vector<std::string>{"department.duty_officer"}));

  const auto ack = h.replay(acknowledged("a1", "c1", kBreachDue));
  ASSERT_EQ(describe(ack), (Described{resolved(kWarning1, kWarningDue)}));
  EXPECT_EQ(ack[0].closed_at, kBreachDue);
  EXPECT_EQ(*ack[0].closed_at - ack[0].due_at, minutes{6});  // overdue_seconds 360
  EXPECT_EQ(ack[0].department, "dept-a");

  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(FirstResponse, AckOneMillisecondAfterDueFiresThenResolvesTheBreach) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));

  // The ack arrives while the clock still reads 00:24: the breach is not yet
  // due on the clock, but the log already says it will be breached.
  const Instant ack_time = kBreachDue + milliseconds{1};
  EXPECT_EQ(describe(h.apply(acknowledged("a1", "c1", ack_time))),
            (Described{resolved(kWarning1, kWarningDue)}));

  const auto breach = h.advance(ack_time);
  ASSERT_EQ(describe(breach),
            (Described{fired(kBreach1, kBreachDue), resolved(kBreach1, kBreachDue)}));
  EXPECT_EQ(breach[0].severity, "major");
  EXPECT_EQ(breach[0].fired_at, ack_time);
  EXPECT_EQ(roles(breach[0]),
            (std::vector<std::string>{"department.duty_officer", "department.head"}));
  EXPECT_EQ(breach[1].closed_at, ack_time);
  EXPECT_EQ(*breach[1].closed_at - breach[1].due_at, milliseconds{1});  // overdue 0.001 s

  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});  // escalated was met
}

TEST(FirstResponse, BreachFiredOnTheClockIsResolvedByAnAckOneMillisecondLater) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kBreachDue)),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue)}));
  EXPECT_EQ(describe(h.replay(acknowledged("a1", "c1", kBreachDue + milliseconds{1}))),
            (Described{resolved(kWarning1, kWarningDue), resolved(kBreach1, kBreachDue)}));
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(FirstResponse, NoAckEscalatesAtSixtyMinutes) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kEscalatedDue - milliseconds{1})),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue)}));
  const auto escalated = h.advance(kEscalatedDue);
  ASSERT_EQ(describe(escalated), (Described{fired(kEscalated1, kEscalatedDue)}));
  EXPECT_EQ(escalated[0].severity, "critical");
  EXPECT_EQ(roles(escalated[0]), (std::vector<std::string>{"city.hotline_office"}));
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(FirstResponse, ClockExactlyAtDueFiresAndOneMillisecondBeforeDoesNot) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kWarningDue - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));
  EXPECT_EQ(describe(h.advance(kBreachDue - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kBreachDue)), (Described{fired(kBreach1, kBreachDue)}));
}

TEST(FirstResponse, ClockNeverMovesBackwards) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));
  EXPECT_EQ(describe(h.advance(kT0)), Described{});
  EXPECT_EQ(h.engine().clock(), kWarningDue);
}

// ---- grace ------------------------------------------------------------------

TEST(Grace, StageFiresOnlyOnceTheGraceHasPassed) {
  EngineOptions options;
  options.grace = seconds{30};
  EngineHarness h(rule_set({first_response_rule()}), options);
  h.apply(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kWarningDue + milliseconds{29'999})), Described{});
  const auto warning = h.advance(kWarningDue + seconds{30});
  ASSERT_EQ(describe(warning), (Described{fired(kWarning1, kWarningDue)}));
  EXPECT_EQ(warning[0].fired_at, kWarningDue + seconds{30});
}

TEST(Grace, StopBeforeDueArrivingWithinTheGraceNeverFires) {
  EngineOptions options;
  options.grace = seconds{30};
  EngineHarness h(rule_set({first_response_rule()}), options);
  h.apply(dispatched("d1", "c1", kT0));
  h.apply(dispatched("d2", "c2", kT0));
  h.apply(dispatched("d3", "c3", kT0));  // control: never acknowledged

  EXPECT_EQ(describe(h.advance(kWarningDue + seconds{10})), Described{});
  EXPECT_EQ(describe(h.apply(acknowledged("a1", "c1", kWarningDue - seconds{1}))), Described{});
  // Closed exactly at the due time meets the stage, even arriving 29.999 s late.
  EXPECT_EQ(describe(h.advance(kWarningDue + milliseconds{29'999})), Described{});
  EXPECT_EQ(describe(h.apply(acknowledged("a2", "c2", kWarningDue))), Described{});

  EXPECT_EQ(describe(h.advance(kMuchLater)),
            (Described{fired("c3/first-response/1/warning", kWarningDue),
                       fired("c3/first-response/1/breach", kBreachDue),
                       fired("c3/first-response/1/escalated", kEscalatedDue)}));
}

// ---- pause / resume -----------------------------------------------------------

TEST(Pause, PauseSpanningTheDueTimeShiftsItByThePauseLength) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  h.replay(event("p1", "c1", EventType::suspended, kT0 + minutes{20}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{49})), Described{});  // paused over 00:24 and 00:30
  h.replay(event("r1", "c1", EventType::resumed, kT0 + minutes{50}));
  // 20 min ran before the pause, 30 min paused: everything moves by 30 min.
  EXPECT_EQ(describe(h.advance(kT0 + minutes{54} - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kT0 + minutes{54})),
            (Described{fired(kWarning1, kT0 + minutes{54})}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{90})),
            (Described{fired(kBreach1, kT0 + minutes{60}),
                       fired(kEscalated1, kT0 + minutes{90})}));
}

TEST(Pause, PauseAndResumeAtTheSameInstantLoseNoTime) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  // Arrival order resume-then-pause; log order (time, id) is pause p1, resume r1.
  h.apply(event("r1", "c1", EventType::resumed, kT0 + minutes{10}));
  h.apply(event("p1", "c1", EventType::suspended, kT0 + minutes{10}));
  EXPECT_EQ(describe(h.advance(kWarningDue - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));
}

TEST(Pause, CaseSuspendedBeforeDispatchOpensThePausedCycleWithNoDueTime) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(event("p1", "c1", EventType::suspended, kT0 + minutes{5}));
  h.replay(dispatched("d1", "c1", kT0 + minutes{10}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{2})), Described{});
  h.commit();
  EXPECT_EQ(h.store().timer_count(), 0u);  // nothing is due while paused

  h.replay(event("r1", "c1", EventType::resumed, kT0 + hours{2}));
  EXPECT_EQ(describe(h.advance(kT0 + hours{2} + minutes{24} - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kT0 + hours{2} + minutes{24})),
            (Described{fired(kWarning1, kT0 + hours{2} + minutes{24})}));
}

TEST(Pause, CasePausedAtEndOfInputNeverFires) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  h.replay(event("p1", "c1", EventType::suspended, kT0 + minutes{10}));
  h.replay(dispatched("d2", "c2", kT0));  // control
  EXPECT_EQ(describe(h.advance(kMuchLater)),
            (Described{fired("c2/first-response/1/warning", kWarningDue),
                       fired("c2/first-response/1/breach", kBreachDue),
                       fired("c2/first-response/1/escalated", kEscalatedDue)}));
  h.commit();
  EXPECT_EQ(h.store().timer_count(), 0u);
}

TEST(Pause, PauseExactlyAtTheDueTimeStillBreaches) {
  // The cycle was open at its due time: pausing then does not meet the stage.
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  h.apply(event("p1", "c1", EventType::suspended, kWarningDue));
  EXPECT_EQ(describe(h.advance(kMuchLater)), (Described{fired(kWarning1, kWarningDue)}));
}

// ---- re-dispatch ----------------------------------------------------------------

TEST(Redispatch, SecondDispatchClosesCycleOneAndOpensCycleTwo) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0, "dept-a"));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{25})), (Described{fired(kWarning1, kWarningDue)}));

  const Instant second = kT0 + minutes{27};
  const auto closing = h.replay(dispatched("d2", "c1", second, "dept-b"));
  ASSERT_EQ(describe(closing), (Described{resolved(kWarning1, kWarningDue)}));
  EXPECT_EQ(closing[0].closed_at, second);
  EXPECT_EQ(closing[0].event_id, EventId{"d2"});
  EXPECT_EQ(closing[0].department, "dept-a");

  // Cycle 1's breach (00:30) came after the close (00:27): met, never fired.
  const auto cycle2 = h.advance(kMuchLater);
  ASSERT_EQ(describe(cycle2),
            (Described{fired("c1/first-response/2/warning", second + minutes{24}),
                       fired("c1/first-response/2/breach", second + minutes{30}),
                       fired("c1/first-response/2/escalated", second + minutes{60})}));
  for (const auto& a : cycle2) {
    EXPECT_EQ(a.department, "dept-b");
    EXPECT_EQ(a.started_at, second);
  }
}

TEST(Redispatch, RedispatchExactlyAtAStageDueTimeMeetsIt) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0, "dept-a"));
  h.replay(dispatched("d2", "c1", kWarningDue, "dept-b"));
  EXPECT_EQ(describe(h.advance(kWarningDue + minutes{24})),
            (Described{fired("c1/first-response/2/warning", kWarningDue + minutes{24})}));
}

TEST(Redispatch, PingPongAToBToAOpensThreeCycles) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0, "dept-a"));
  h.replay(dispatched("d2", "c1", kT0 + minutes{10}, "dept-b"));
  h.replay(dispatched("d3", "c1", kT0 + minutes{20}, "dept-a"));
  const auto alerts = h.advance(kT0 + minutes{50});
  ASSERT_EQ(describe(alerts),
            (Described{fired("c1/first-response/3/warning", kT0 + minutes{44}),
                       fired("c1/first-response/3/breach", kT0 + minutes{50})}));
  EXPECT_EQ(alerts[0].department, "dept-a");
}

// ---- stop vs start ordering --------------------------------------------------------

TEST(StopAndStart, StopEarlierInEventTimeThanTheStartDoesNotCloseTheCycle) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(acknowledged("a1", "c1", kT0));
  h.replay(dispatched("d1", "c1", kT0 + minutes{5}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{29})),
            (Described{fired(kWarning1, kT0 + minutes{29})}));
}

TEST(StopAndStart, StopAtTheSameInstantAsTheStartClosesItWhateverTheIdOrder) {
  EngineHarness h(rule_set({first_response_rule()}));
  // c1: the stop's id sorts first; c2: the start's id sorts first. Each also
  // arrives in both orders relative to the other case.
  h.apply(acknowledged("a-ack", "c1", kT0));
  h.apply(dispatched("z-dispatch", "c1", kT0));
  h.apply(dispatched("a-dispatch", "c2", kT0));
  h.apply(acknowledged("z-ack", "c2", kT0));
  h.apply(dispatched("m-dispatch", "c3", kT0));  // control
  EXPECT_EQ(describe(h.advance(kMuchLater)),
            (Described{fired("c3/first-response/1/warning", kWarningDue),
                       fired("c3/first-response/1/breach", kBreachDue),
                       fired("c3/first-response/1/escalated", kEscalatedDue)}));
}

// ---- duplicates and unknown cases ----------------------------------------------------

TEST(Duplicates, SameIdIsCountedAndNeverAppliedTwice) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.apply(dispatched("d1", "c1", kT0));
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::applied);
  EXPECT_EQ(describe(h.apply(dispatched("d1", "c1", kT0))), Described{});
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::duplicate);
  EXPECT_EQ(h.engine().counters().applied, 1u);
  EXPECT_EQ(h.engine().counters().duplicates, 1u);

  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));
  // A duplicate after a commit (the case comes back from the store) too.
  h.commit();
  EXPECT_EQ(describe(h.apply(dispatched("d1", "c1", kT0))), Described{});
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::duplicate);
  EXPECT_EQ(h.engine().counters().duplicates, 2u);
}

// Fired and not retracted at the end, whatever happened on the way.
std::vector<std::string> standing(const std::vector<Alert>& alerts) {
  std::set<std::string> up;
  for (const Alert& a : alerts) {
    const std::string key = a.alert_id + "@" + format_rfc3339_utc(a.due_at);
    if (a.kind == AlertKind::fired) up.insert(key);
    if (a.kind == AlertKind::retracted) up.erase(key);
  }
  return {up.begin(), up.end()};
}

TEST(ConflictingDuplicates, TheKeptRecordDependsOnlyOnTheContents) {
  const CaseEvent a = dispatched("d1", "c1", kT0);
  const CaseEvent b = dispatched("d1", "c1", kT0 + minutes{10}, "dept-b");
  EXPECT_NE(CaseRecord::keeps_stored(a, b), CaseRecord::keeps_stored(b, a));
  EXPECT_TRUE(same_content(a, dispatched("d1", "c1", kT0)));
  EXPECT_FALSE(same_content(a, b));
}

// An acknowledgement in time and a late one under one event id: whichever
// arrives first, the case ends with the kept one's alerts, and the other is
// either refused (it arrived second) or displaced (it arrived first).
TEST(ConflictingDuplicates, EveryArrivalOrderEndsWithTheSameStandingAlerts) {
  const CaseEvent in_time = acknowledged("a1", "c1", kT0 + minutes{10});
  const CaseEvent late = acknowledged("a1", "c1", kT0 + minutes{100});
  const bool late_is_kept = CaseRecord::keeps_stored(late, in_time);
  std::vector<std::vector<std::string>> results;
  for (const bool late_first : {false, true}) {
    EngineHarness h(rule_set({first_response_rule()}));
    h.replay(dispatched("d1", "c1", kT0));
    h.replay(late_first ? late : in_time);
    EXPECT_EQ(h.last_outcome(), ApplyOutcome::applied);
    const CaseEvent& second = late_first ? in_time : late;
    std::vector<Alert> out;
    CaseEvent displaced;
    auto outcome = h.engine().apply(second, out, &displaced);
    ASSERT_TRUE(outcome.ok());
    EXPECT_EQ(h.engine().counters().conflicting_duplicates, 1u);
    const bool first_is_kept = late_first == late_is_kept;
    EXPECT_EQ(*outcome, first_is_kept ? ApplyOutcome::conflicting_duplicate : ApplyOutcome::replaced);
    if (!first_is_kept) {
      EXPECT_EQ(displaced.time, (late_first ? late : in_time).time);
    }
    std::vector<Alert> all = h.all();
    all.insert(all.end(), out.begin(), out.end());
    h.restart();  // the kept record survives the store
    auto rest = h.advance(kMuchLater);
    all.insert(all.end(), rest.begin(), rest.end());
    results.push_back(standing(all));
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0].empty(), !late_is_kept);  // only the late acknowledgement leaves breaches standing
}

TEST(Duplicates, DuplicateAckDoesNotResolveTwice) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  h.advance(kWarningDue);
  EXPECT_EQ(describe(h.replay(acknowledged("a1", "c1", kT0 + minutes{25}))),
            (Described{resolved(kWarning1, kWarningDue)}));
  EXPECT_EQ(describe(h.replay(acknowledged("a1", "c1", kT0 + minutes{25}))), Described{});
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::duplicate);
}

TEST(UnknownCases, EventsForACaseNeverCreatedOrDispatchedRaiseNothing) {
  EngineHarness h(rule_set({first_response_rule(true)}, {repeated_return_rule()}));
  for (auto type : {EventType::acknowledged, EventType::resumed, EventType::resolved,
                    EventType::closed, EventType::feedback, EventType::reopened}) {
    h.apply(event("ghost-" + std::string(to_string(type)), "ghost", type, kT0, "dept-a"));
    EXPECT_EQ(h.last_outcome(), ApplyOutcome::applied);
  }
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
  EXPECT_EQ(h.all().size(), 0u);
}

TEST(CaseFull, EventsBeyondTheCaseLimitAreRefused) {
  EngineOptions options;
  options.max_events_per_case = 2;
  EngineHarness h(rule_set({first_response_rule()}), options);
  h.apply(created("e1", "c1", kT0));
  h.apply(dispatched("d1", "c1", kT0));
  h.apply(acknowledged("a1", "c1", kT0 + minutes{1}));
  EXPECT_EQ(h.last_outcome(), ApplyOutcome::case_full);
  EXPECT_EQ(h.engine().counters().case_full, 1u);
  // The refused ack did not close the cycle.
  EXPECT_EQ(describe(h.advance(kWarningDue)), (Described{fired(kWarning1, kWarningDue)}));
}

// ---- late events ------------------------------------------------------------------------

TEST(LateEvents, LateAckBeforeTheDueTimeRetractsFiredStages) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{35})),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue)}));

  const auto late = h.apply(acknowledged("late-ack", "c1", kT0 + minutes{20}));
  ASSERT_EQ(describe(late),
            (Described{retracted(kWarning1, kWarningDue), retracted(kBreach1, kBreachDue)}));
  for (const auto& a : late) {
    EXPECT_EQ(a.event_id, EventId{"late-ack"});
    EXPECT_EQ(a.closed_at, kT0 + minutes{20});
    EXPECT_EQ(a.reason, "the cycle closed at or before the stage's due time");
    EXPECT_EQ(a.emitted_at, kT0 + minutes{35});
    EXPECT_EQ(a.department, "dept-a");
  }
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});  // escalated is cancelled too
}

TEST(LateEvents, LateAckExactlyAtTheDueTimeRetractsThatStageAndResolvesEarlierOnes) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0));
  h.advance(kT0 + minutes{35});
  const auto late = h.apply(acknowledged("late-ack", "c1", kBreachDue));
  ASSERT_EQ(describe(late),
            (Described{retracted(kBreach1, kBreachDue), resolved(kWarning1, kWarningDue)}));
  EXPECT_EQ(late[0].event_id, EventId{"late-ack"});
  EXPECT_EQ(late[1].closed_at, kBreachDue);
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(LateEvents, LatePauseMovingTheDueTimeRetractsThenFiresAtTheNewDueTime) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  // Arrives (clock still 00:00) before its pause: no effect yet.
  EXPECT_EQ(describe(h.apply(event("r1", "c1", EventType::resumed, kT0 + minutes{26}))),
            Described{});
  EXPECT_EQ(describe(h.advance(kT0 + minutes{29})), (Described{fired(kWarning1, kWarningDue)}));

  // Paused 00:20-00:26: the warning moves from 00:24 to 00:30, after the clock.
  const Instant moved = kT0 + minutes{30};
  const auto late = h.apply(event("late-pause", "c1", EventType::suspended, kT0 + minutes{20}));
  ASSERT_EQ(describe(late), (Described{retracted(kWarning1, kWarningDue)}));
  EXPECT_EQ(late[0].event_id, EventId{"late-pause"});
  EXPECT_EQ(late[0].reason, "the due time moved to " + format_rfc3339_utc(moved));

  EXPECT_EQ(describe(h.advance(moved - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(moved)), (Described{fired(kWarning1, moved)}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{36})),
            (Described{fired(kBreach1, kT0 + minutes{36})}));
}

TEST(LateEvents, LatePauseWithoutResumeRetractsAsPaused) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  h.advance(kT0 + minutes{31});
  const auto late = h.apply(event("late-pause", "c1", EventType::suspended, kT0 + minutes{20}));
  ASSERT_EQ(describe(late),
            (Described{retracted(kWarning1, kWarningDue), retracted(kBreach1, kBreachDue)}));
  EXPECT_EQ(late[0].reason, "the cycle was paused before the stage fell due");
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(LateEvents, LateDispatchWhoseStagesAreDueFiresOnApply) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.advance(kT0 + hours{2});
  const auto late = h.apply(dispatched("d1", "c1", kT0));
  ASSERT_EQ(describe(late),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue),
                       fired(kEscalated1, kEscalatedDue)}));
  for (const auto& a : late) EXPECT_EQ(a.fired_at, kT0 + hours{2});

  // And a later ack (at 00:45) settles all three: escalated was never breached.
  const auto ack = h.apply(acknowledged("a1", "c1", kT0 + minutes{45}));
  ASSERT_EQ(describe(ack),
            (Described{retracted(kEscalated1, kEscalatedDue), resolved(kWarning1, kWarningDue),
                       resolved(kBreach1, kBreachDue)}));
  EXPECT_EQ(describe(h.advance(kMuchLater)), Described{});
}

TEST(LateEvents, LateEarlierDispatchRenumbersTheCycles) {
  // Cycle numbers count the case's start events in event-time order, so an
  // earlier dispatch arriving late turns cycle 1 into cycle 2.
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d2", "c1", kT0 + minutes{10}, "dept-b"));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{35})),
            (Described{fired(kWarning1, kT0 + minutes{34})}));
  const auto late = h.apply(dispatched("d1", "c1", kT0, "dept-a"));
  ASSERT_EQ(describe(late), (Described{retracted(kWarning1, kT0 + minutes{34}),
                                       fired("c1/first-response/2/warning", kT0 + minutes{34})}));
  EXPECT_EQ(late[1].department, "dept-b");
}

// When a late event changes the due time of a stage that stays breached (or
// renumbers the cycles so that the id now names another start), the standing
// fired alert of that id must describe the stage as the log now has it: its
// due_at and department. Either retract-and-fire-again or a correction would
// do; what may not happen is an alert standing with a due time no stage has.
const Alert* standing_fired(const std::vector<Alert>& alerts, std::string_view alert_id) {
  const Alert* standing = nullptr;
  for (const auto& a : alerts) {
    if (a.alert_id != alert_id) continue;
    if (a.kind == AlertKind::fired) standing = &a;
    if (a.kind == AlertKind::retracted) standing = nullptr;
  }
  return standing;
}

TEST(LateEvents, LateEarlierDispatchOfAStillBreachedCycleCorrectsTheStandingAlert) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d2", "c1", kT0 + minutes{50}, "dept-b"));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{81})),
            (Described{fired(kWarning1, kT0 + minutes{74}), fired(kBreach1, kT0 + minutes{80})}));
  // Cycle 1 is now the 00:00 dispatch to dept-a (breached at 00:24 and 00:30,
  // closed at 00:50); the 00:50 dispatch becomes cycle 2.
  h.apply(dispatched("d1", "c1", kT0, "dept-a"));
  const Alert* warning = standing_fired(h.all(), kWarning1);
  ASSERT_NE(warning, nullptr);
  EXPECT_EQ(warning->due_at, kWarningDue);
  EXPECT_EQ(warning->department, "dept-a");
  EXPECT_EQ(warning->started_at, kT0);
  const Alert* breach = standing_fired(h.all(), kBreach1);
  ASSERT_NE(breach, nullptr);
  EXPECT_EQ(breach->due_at, kBreachDue);
  EXPECT_EQ(breach->department, "dept-a");
}

TEST(LateEvents, LatePauseMovingADueTimeThatStaysBreachedCorrectsTheStandingAlert) {
  EngineHarness h(rule_set({first_response_rule(/*pausable=*/true)}));
  h.replay(dispatched("d1", "c1", kT0));
  h.apply(event("r1", "c1", EventType::resumed, kT0 + minutes{26}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{40})),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue)}));
  // Paused 00:20-00:26: warning due 00:30, breach 00:36, both still <= 00:40.
  h.apply(event("p1", "c1", EventType::suspended, kT0 + minutes{20}));
  const Alert* warning = standing_fired(h.all(), kWarning1);
  ASSERT_NE(warning, nullptr);
  EXPECT_EQ(warning->due_at, kT0 + minutes{30});
  const Alert* breach = standing_fired(h.all(), kBreach1);
  ASSERT_NE(breach, nullptr);
  EXPECT_EQ(breach->due_at, kT0 + minutes{36});
}

// ---- when filter ---------------------------------------------------------------------------

TEST(WhenFilter, OnlyCasesMatchingAtTheStartInstantOpenACycle) {
  EngineHarness h(rule_set({emergency_rule()}));
  h.apply(created("e-em", "em", kT0, "emergency"));
  h.apply(created("e-no", "no", kT0, "normal"));
  // Raised to emergency at the creation instant (arriving first): counts.
  h.apply(priority_updated("u-same", "same", kT0, "emergency"));
  h.apply(created("c-same", "same", kT0, "normal"));
  // Raised 1 ms after creation: not picked up.
  h.apply(created("c-later", "later", kT0, "normal"));
  h.apply(priority_updated("u-later", "later", kT0 + milliseconds{1}, "emergency"));
  // Lowered from emergency at the creation instant: no cycle.
  h.apply(created("c-lowered", "lowered", kT0, "emergency"));
  h.apply(priority_updated("u-lowered", "lowered", kT0, "normal"));

  EXPECT_EQ(describe(h.advance(kT0 + hours{24} - milliseconds{1})), Described{});
  EXPECT_EQ(describe(h.advance(kMuchLater)),
            (Described{fired("em/emergency-handling/1/breach", kT0 + hours{24}),
                       fired("same/emergency-handling/1/breach", kT0 + hours{24})}));
}

// ---- ordering and department -----------------------------------------------------------------

TEST(Ordering, AlertsAcrossCasesComeOutInDueOrderAfterOneBigAdvance) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.apply(dispatched("d1", "c1", kT0));
  h.apply(dispatched("d2", "c2", kT0 + minutes{5}));
  h.apply(dispatched("d3", "c3", kT0 + minutes{3}));
  h.apply(dispatched("d4", "c4", kT0 + minutes{10}));
  h.apply(acknowledged("a4", "c4", kT0 + minutes{36}));
  const Instant now = kT0 + hours{2};
  const auto alerts = h.advance(now);
  EXPECT_EQ(describe(alerts),
            (Described{fired("c1/first-response/1/warning", kT0 + minutes{24}),
                       fired("c3/first-response/1/warning", kT0 + minutes{27}),
                       fired("c2/first-response/1/warning", kT0 + minutes{29}),
                       fired("c1/first-response/1/breach", kT0 + minutes{30}),
                       fired("c3/first-response/1/breach", kT0 + minutes{33}),
                       fired("c4/first-response/1/warning", kT0 + minutes{34}),
                       resolved("c4/first-response/1/warning", kT0 + minutes{34}),
                       fired("c2/first-response/1/breach", kT0 + minutes{35}),
                       fired("c1/first-response/1/escalated", kT0 + minutes{60}),
                       fired("c3/first-response/1/escalated", kT0 + minutes{63}),
                       fired("c2/first-response/1/escalated", kT0 + minutes{65})}));
  for (const auto& a : alerts) EXPECT_EQ(a.emitted_at, now);
}

TEST(Department, IsTheCaseDepartmentAtTheDueTime) {
  EngineHarness h(rule_set({first_response_rule()}));
  // c1: re-dispatched to B at 00:35 before the clock reaches cycle 1's stages.
  h.apply(dispatched("d1", "c1", kT0, "dept-a"));
  h.apply(dispatched("d2", "c1", kT0 + minutes{35}, "dept-b"));
  const auto cycle1 = h.advance(kT0 + minutes{40});
  ASSERT_EQ(describe(cycle1),
            (Described{fired(kWarning1, kWarningDue), resolved(kWarning1, kWarningDue),
                       fired(kBreach1, kBreachDue), resolved(kBreach1, kBreachDue)}));
  for (const auto& a : cycle1) EXPECT_EQ(a.department, "dept-a") << describe(a);

  // Cycle 2 of c1 belongs to B.
  const auto later = h.advance(kT0 + minutes{35} + minutes{24});
  ASSERT_EQ(describe(later), (Described{fired("c1/first-response/2/warning", kT0 + minutes{59})}));
  EXPECT_EQ(later[0].department, "dept-b");
}

TEST(Department, ARedispatchAfterTheDueTimeDoesNotChangeIt) {
  EngineHarness h(rule_set({first_response_rule()}));
  h.replay(dispatched("d1", "c1", kT0, "dept-a"));
  const auto fired_alerts = h.advance(kT0 + minutes{31});
  ASSERT_EQ(describe(fired_alerts),
            (Described{fired(kWarning1, kWarningDue), fired(kBreach1, kBreachDue)}));
  const auto closed = h.replay(dispatched("d2", "c1", kT0 + minutes{40}, "dept-b"));
  ASSERT_EQ(describe(closed),
            (Described{resolved(kWarning1, kWarningDue), resolved(kBreach1, kBreachDue)}));
  for (const auto& a : fired_alerts) EXPECT_EQ(a.department, "dept-a");
  for (const auto& a : closed) EXPECT_EQ(a.department, "dept-a");
}

}  // namespace
}  // namespace slawatch::testing
