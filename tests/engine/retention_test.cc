// Retention of closed cases (EngineOptions::retain_closed): a case with no
// open cycle and no stage timer is deleted once the clock is more than the
// retention past its last event, exactly then and not a millisecond before;
// open cases and the alerts of cases within retention are untouched, and a
// late event for a purged case starts a fresh record.
#include <gtest/gtest.h>

#include "engine_fixture.h"

namespace slawatch {
namespace {

using namespace slawatch::testing;

constexpr Duration kRetain = std::chrono::days{10};

EngineOptions retaining(Duration grace = Duration{0}) {
  EngineOptions options;
  options.grace = grace;
  options.retain_closed = kRetain;
  return options;
}

bool stored(EngineHarness& h, const std::string& id) {
  h.commit();
  auto record = h.store().load_case(CaseId{id});
  EXPECT_TRUE(record.ok());
  return record.ok() && record->has_value();
}

// C-1: dispatched at T0, acknowledged 40 min later (breach fired, then resolved).
void breached_and_closed(EngineHarness& h) {
  h.replay(dispatched("e1", "C-1", kT0));
  h.advance(kT0 + minutes{35});
  h.replay(acknowledged("e2", "C-1", kT0 + minutes{40}));
}

TEST(Retention, ClosedCaseIsKeptUpToItsRetentionAndPurgedOneMillisecondPast) {
  EngineHarness h(rule_set({first_response_rule()}), retaining());
  breached_and_closed(h);
  const Instant last = kT0 + minutes{40};
  h.advance(last + kRetain - milliseconds{1});
  EXPECT_TRUE(stored(h, "C-1")) << "1 ms inside the retention";
  h.advance(last + kRetain);
  EXPECT_TRUE(stored(h, "C-1")) << "exactly at the retention: not older than it yet";
  EXPECT_EQ(h.engine().counters().purged, 0u);
  const auto alerts = h.advance(last + kRetain + milliseconds{1});
  EXPECT_TRUE(alerts.empty()) << "a purge announces nothing";
  EXPECT_FALSE(stored(h, "C-1"));
  EXPECT_EQ(h.engine().counters().purged, 1u);
  EXPECT_EQ(h.store().timer_count(), 0u) << "the retention timer went with the case";
}

TEST(Retention, GraceDelaysNothingButTheClock) {
  // Live clock: the retention is measured on the clock itself, grace or not.
  EngineHarness h(rule_set({first_response_rule()}), retaining(seconds{30}));
  h.apply(dispatched("e1", "C-1", kT0));
  h.apply(acknowledged("e2", "C-1", kT0 + minutes{5}));
  h.advance(kT0 + minutes{5} + kRetain);
  EXPECT_TRUE(stored(h, "C-1"));
  h.advance(kT0 + minutes{5} + kRetain + milliseconds{1});
  EXPECT_FALSE(stored(h, "C-1"));
}

TEST(Retention, OpenCycleOrPendingStageKeepsTheCase) {
  EngineHarness h(rule_set({first_response_rule(), emergency_rule()}), retaining());
  h.replay(dispatched("e1", "OPEN", kT0));               // never acknowledged: open forever
  h.replay(created("e2", "EMERG", kT0, "emergency"));    // open, its breach pending at +24h
  h.replay(acknowledged("e3", "EMERG", kT0 + hours{1})); // not a stop of the emergency rule
  h.advance(kT0 + std::chrono::days{1000});
  EXPECT_TRUE(stored(h, "OPEN"));
  EXPECT_TRUE(stored(h, "EMERG"));
  EXPECT_EQ(h.engine().counters().purged, 0u);
}

TEST(Retention, AlertsOfCasesWithinRetentionAreTheSameAsWithout) {
  auto rules = rule_set({first_response_rule()});
  EngineHarness keep(rules);
  EngineHarness purge(rules, retaining());
  for (auto* h : {&keep, &purge}) {
    breached_and_closed(*h);                                        // purged at day 10
    h->replay(dispatched("f1", "C-2", kT0 + std::chrono::days{9}));  // within retention throughout
    h->replay(dispatched("g1", "C-3", kT0 + std::chrono::days{12}));
    h->replay(acknowledged("f2", "C-2", kT0 + std::chrono::days{13}));
    h->advance(kT0 + std::chrono::days{15});
  }
  EXPECT_EQ(purge.engine().counters().purged, 1u);
  EXPECT_EQ(describe(purge.all()), describe(keep.all()));
  EXPECT_TRUE(stored(purge, "C-2"));
  EXPECT_TRUE(stored(purge, "C-3"));
}

TEST(Retention, LateEventForAPurgedCaseStartsAFreshRecord) {
  EngineHarness h(rule_set({first_response_rule()}), retaining());
  breached_and_closed(h);
  const Instant after = kT0 + minutes{40} + kRetain + hours{1};
  h.advance(after);
  ASSERT_FALSE(stored(h, "C-1"));
  // A re-dispatch after the purge: cycle 1 of a new record, not cycle 2.
  h.replay(dispatched("e3", "C-1", after));
  const auto alerts = h.advance(after + minutes{30} + milliseconds{1});
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts.back().alert_id, "C-1/first-response/1/breach");
  h.commit();
  auto record = h.store().load_case(CaseId{"C-1"});
  ASSERT_TRUE(record.ok() && record->has_value());
  auto decoded = decode_case_record(**record, CaseId{"C-1"});
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->events.size(), 1u);
}

TEST(Retention, LateEventPastTheRetentionIsPurgedAtTheNextAdvance) {
  EngineHarness h(rule_set({first_response_rule()}), retaining());
  h.advance(kT0 + std::chrono::days{100});
  h.apply(dispatched("e1", "OLD", kT0));
  h.apply(acknowledged("e2", "OLD", kT0 + minutes{5}));
  EXPECT_EQ(h.engine().counters().purged, 0u) << "apply never deletes";
  h.advance(kT0 + std::chrono::days{100});
  EXPECT_FALSE(stored(h, "OLD"));
  EXPECT_EQ(h.engine().counters().purged, 1u);
}

TEST(Retention, PurgeSurvivesARestartBeforeItIsDue) {
  EngineHarness h(rule_set({first_response_rule()}), retaining());
  breached_and_closed(h);
  h.restart();
  h.advance(kT0 + minutes{40} + kRetain + milliseconds{1});
  EXPECT_FALSE(stored(h, "C-1")) << "the retention timer is committed like a stage timer";
}

}  // namespace
}  // namespace slawatch
