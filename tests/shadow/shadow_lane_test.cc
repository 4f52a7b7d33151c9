// Shadow rules: a candidate set beside the active one. Its state is seeded
// from the active lane's and repaired under the candidate as a promotion
// would; then both lanes read the same records, each firing under its own
// rules, and commit at the same positions. A shadow that missed a commit is
// seeded again and retracts only what it emitted itself.
#include <gtest/gtest.h>

#include "../engine/engine_fixture.h"
#include "../pipeline/live_harness.h"
#include "../pipeline/records.h"
#include "../state/temp_database.h"
#include "shadow/shadow_lane.h"

namespace slawatch {
namespace {

using testing::first_response_within;
using testing::fired;
using testing::kT0;
using testing::resolved;
using testing::retracted;
using Described = testing::Described;
using std::chrono::milliseconds;
using std::chrono::minutes;


struct Shadow {
  Shadow(std::shared_ptr<const RuleSet> candidate, StateStore& store)
      : lane(std::move(candidate), store, sink, EngineOptions{}, LiveHarness::options()) {
    lane.pipeline().set_alert_observer([this](const Alert& a) { alerts.push_back(testing::describe(a)); });
  }
  Described take() { return std::exchange(alerts, {}); }
  NullSink sink;
  ShadowLane lane;
  Described alerts;
};

// What the live monitor does for each record, tick and commit.
void feed(LiveHarness& active, Shadow& shadow, const RawRecord& r) {
  ASSERT_TRUE(active.pipeline.on_record_live(r).ok());
  ASSERT_TRUE(shadow.lane.pipeline().on_record_live(r).ok());
}
void tick(LiveHarness& active, Shadow& shadow, Instant now) {
  ASSERT_TRUE(active.pipeline.advance(now).ok());
  ASSERT_TRUE(shadow.lane.pipeline().advance(now).ok());
}
void commit(LiveHarness& active, Shadow& shadow, const std::string& position) {
  ASSERT_TRUE(active.pipeline.commit_if_due(position, true).ok());
  ASSERT_TRUE(shadow.lane.commit(position).ok());
}

// A first run beside `active`: a 45-minute shadow, case c1 dispatched at 00:00, both lanes ticked to
// `until` and committed at "p1", the output delivered; then the shadow stops (its state stays).
// Returns the shadow's alerts.
Described first_run(LiveHarness& active, StateStore& shadow_store, Instant until) {
  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  EXPECT_TRUE(shadow.lane.open(active.store).ok());
  feed(active, shadow, dispatched("d1", "c1", kT0));
  tick(active, shadow, until);
  commit(active, shadow, "p1");
  EXPECT_TRUE(shadow.lane.pipeline().deliver_pending().ok());
  commit(active, shadow, "p1");  // records that the delivered output left the outbox
  return shadow.take();
}

const std::string kWarn1 = "c1/first-response/1/warning";
const std::string kBreach1 = "c1/first-response/1/breach";
const std::string kEscalated1 = "c1/first-response/1/escalated";
const std::string kWarn3 = "c3/first-response/1/warning";
const std::string kBreach3 = "c3/first-response/1/breach";

TEST(ShadowLane, SeedingEmitsWhatPromotingTheCandidateWouldChange) {
  MemoryStateStore active_store, shadow_store;
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  ASSERT_TRUE(active.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());               // open, no ack
  ASSERT_TRUE(active.pipeline.on_record_live(dispatched("d2", "c2", kT0)).ok());               // acked late
  ASSERT_TRUE(active.pipeline.on_record_live(dispatched("d3", "c3", kT0 + minutes{10})).ok());  // due 00:40
  ASSERT_TRUE(active.pipeline.advance(kT0 + minutes{35}).ok());
  ASSERT_TRUE(active.pipeline.on_record_live(acknowledged("a2", "c2", kT0 + minutes{35})).ok());
  ASSERT_TRUE(active.pipeline.advance(kT0 + minutes{40}).ok());
  ASSERT_TRUE(active.pipeline.commit_if_due("p1", true).ok());
  active.take();

  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_TRUE(started->seeded);
  EXPECT_EQ(started->cases_copied, 3u);
  EXPECT_EQ(started->position, "p1");
  ASSERT_TRUE(started->repair.has_value());
  EXPECT_EQ(started->repair->from_version, "v30");
  EXPECT_EQ(started->repair->to_version, "v45");
  // Exactly what a reload to 45 minutes would emit (RuleReload.LongerTarget...): c1's warning moves to
  // 00:36 (overdue: fired again), its breach to 00:45; c2 closed after its breach and keeps it; c3's
  // stages move past the clock.
  EXPECT_EQ(shadow.take(), (Described{retracted(kWarn1, kT0 + minutes{24}), retracted(kBreach1, kT0 + minutes{30}),
                                      fired(kWarn1, kT0 + minutes{36}), retracted(kWarn3, kT0 + minutes{34}),
                                      retracted(kBreach3, kT0 + minutes{40})}));
  EXPECT_EQ(shadow.lane.pipeline().stored_rules_version(), "v45");

  // From here each lane fires under its own rules, on its own timers.
  tick(active, shadow, kT0 + minutes{45} - milliseconds{1});
  EXPECT_EQ(shadow.take(), Described{});
  tick(active, shadow, kT0 + minutes{45});
  EXPECT_EQ(shadow.take(), (Described{fired(kBreach1, kT0 + minutes{45})}));
  EXPECT_EQ(active.take(), Described{});
  tick(active, shadow, kT0 + minutes{60});
  EXPECT_EQ(active.take(), (Described{fired(kEscalated1, kT0 + minutes{60})}));
  EXPECT_EQ(shadow.take(), (Described{fired(kWarn3, kT0 + minutes{46}), fired(kBreach3, kT0 + minutes{55})}));
}

TEST(ShadowLane, FreshLanesReadTheSameRecordsEachUnderItsOwnRules) {
  MemoryStateStore active_store, shadow_store;
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok());
  EXPECT_FALSE(started->seeded);
  EXPECT_FALSE(started->repair.has_value());

  feed(active, shadow, dispatched("d1", "c1", kT0));
  tick(active, shadow, kT0 + minutes{30});  // the active breach exactly at its due time
  EXPECT_EQ(active.take(), (Described{fired(kWarn1, kT0 + minutes{24}), fired(kBreach1, kT0 + minutes{30})}));
  EXPECT_EQ(shadow.take(), Described{});
  tick(active, shadow, kT0 + minutes{36});
  EXPECT_EQ(shadow.take(), (Described{fired(kWarn1, kT0 + minutes{36})}));
  // A duplicate is dropped by both lanes; the acknowledgement closes the cycle in both.
  feed(active, shadow, dispatched("d1", "c1", kT0));
  feed(active, shadow, acknowledged("a1", "c1", kT0 + minutes{40}));
  tick(active, shadow, kT0 + minutes{40});  // a batch's own alerts leave at the next tick
  EXPECT_EQ(active.take(), (Described{resolved(kWarn1, kT0 + minutes{24}), resolved(kBreach1, kT0 + minutes{30})}));
  EXPECT_EQ(shadow.take(), (Described{resolved(kWarn1, kT0 + minutes{36})}));
  EXPECT_EQ(active.pipeline.counters().duplicates, 1u);
  EXPECT_EQ(shadow.lane.pipeline().counters().duplicates, 1u);
}

TEST(ShadowLane, ARestartInStepNeitherSeedsNorRepeatsAnything) {
  MemoryStateStore active_store, shadow_store;
  {
    LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
    first_run(active, shadow_store, kT0 + minutes{40});
  }
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok());
  EXPECT_FALSE(started->seeded);
  EXPECT_FALSE(started->repair.has_value());
  EXPECT_EQ(started->position, "p1");
  EXPECT_EQ(shadow.take(), Described{});
  EXPECT_EQ(shadow.lane.pipeline().pending_deliveries(), 0u);
  // The shadow's timer survived the restart: its breach fires at 00:45, not before.
  tick(active, shadow, kT0 + minutes{45} - milliseconds{1});
  EXPECT_EQ(shadow.take(), Described{});
  tick(active, shadow, kT0 + minutes{45});
  EXPECT_EQ(shadow.take(), (Described{fired(kBreach1, kT0 + minutes{45})}));
}

TEST(ShadowLane, AShadowThatMissedACommitIsSeededAgainAndRetractsOnlyItsOwnAlerts) {
  MemoryStateStore active_store, shadow_store;
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  EXPECT_EQ(first_run(active, shadow_store, kT0 + minutes{46}),
            (Described{fired(kWarn1, kT0 + minutes{36}), fired(kBreach1, kT0 + minutes{45})}));
  // A late acknowledgement (event time 00:20) reaches the active lane, which commits; the shadow
  // crashed before it saw the record.
  active.take();
  ASSERT_TRUE(active.pipeline.on_record_live(acknowledged("a1", "c1", kT0 + minutes{20})).ok());
  ASSERT_TRUE(active.pipeline.advance(kT0 + minutes{46}).ok());
  EXPECT_EQ(active.take(), (Described{retracted(kWarn1, kT0 + minutes{24}), retracted(kBreach1, kT0 + minutes{30})}));
  ASSERT_TRUE(active.pipeline.commit_if_due("p2", true).ok());

  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok());
  EXPECT_TRUE(started->seeded);
  EXPECT_EQ(started->cases_copied, 1u);
  EXPECT_EQ(started->position, "p2");
  // Its own alerts (due 00:36 and 00:45) are retracted; the active lane's (00:24, 00:30) never were its.
  EXPECT_EQ(shadow.take(), (Described{retracted(kWarn1, kT0 + minutes{36}), retracted(kBreach1, kT0 + minutes{45})}));
}

TEST(ShadowLane, AnEditedCandidateIsRepairedWithoutSeeding) {
  MemoryStateStore active_store, shadow_store;
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  first_run(active, shadow_store, kT0 + minutes{40});
  Shadow shadow(first_response_within(minutes{20}, "v20"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok());
  EXPECT_FALSE(started->seeded);
  ASSERT_TRUE(started->repair.has_value());
  EXPECT_EQ(started->repair->from_version, "v45");
  EXPECT_EQ(started->repair->to_version, "v20");
  // Under 20 minutes the warning is due at 00:16, the breach at 00:20, the escalation at 00:40.
  EXPECT_EQ(shadow.take(), (Described{retracted(kWarn1, kT0 + minutes{36}), fired(kWarn1, kT0 + minutes{16}),
                                      fired(kBreach1, kT0 + minutes{20}), fired(kEscalated1, kT0 + minutes{40})}));
}

TEST(ShadowLane, SeedingARocksDbStateKeepsItsTimerCountExact) {
  testing::TempDatabase active_db("slawatch-shadow-active");
  testing::TempDatabase shadow_db("slawatch-shadow-shadow");
  RocksDbStateStore active_store(active_db.database, 3);
  RocksDbStateStore shadow_store(shadow_db.database, 3);
  LiveHarness active(first_response_within(minutes{30}, "v30"), active_store);
  for (int i = 0; i < 7; ++i) {
    const std::string id = std::to_string(i);
    ASSERT_TRUE(active.pipeline.on_record_live(dispatched("d" + id, "c" + id, kT0 + minutes{i})).ok());
  }
  ASSERT_TRUE(active.pipeline.on_record_live(acknowledged("a0", "c0", kT0 + minutes{1})).ok());
  ASSERT_TRUE(active.pipeline.commit_if_due("p1", true).ok());
  ASSERT_EQ(active.pipeline.pending_timers().value(), 6u);

  Shadow shadow(first_response_within(minutes{45}, "v45"), shadow_store);
  auto started = shadow.lane.open(active_store);
  ASSERT_TRUE(started.ok()) << started.error().message;
  EXPECT_EQ(started->cases_copied, 7u);
  EXPECT_EQ(shadow.lane.pipeline().pending_timers().value(), 6u);
  // Seeding again over the same cases writes nothing and moves no timer.
  EXPECT_EQ(seed_cases(active_store, shadow_store, 2).value(), 0u);
  EXPECT_EQ(shadow.lane.pipeline().pending_timers().value(), 6u);
  // c6, dispatched at 00:06, warns at 00:42 under the candidate, and not one millisecond before.
  ASSERT_TRUE(shadow.lane.pipeline().advance(kT0 + minutes{42} - milliseconds{1}).ok());
  EXPECT_EQ(shadow.take(), (Described{fired("c1/first-response/1/warning", kT0 + minutes{37}),
                                      fired("c2/first-response/1/warning", kT0 + minutes{38}),
                                      fired("c3/first-response/1/warning", kT0 + minutes{39}),
                                      fired("c4/first-response/1/warning", kT0 + minutes{40}),
                                      fired("c5/first-response/1/warning", kT0 + minutes{41})}));
}

}  // namespace
}  // namespace slawatch
