// Rule reload: a new set is put in force and every stored case is repaired
// under it. Stages the new set no longer breaches are retracted, newly overdue
// ones fire, moved due times move the timers, and closed cycles keep the
// outcome they had. A start under another rule version repairs too.
#include <gtest/gtest.h>

#include "../engine/engine_fixture.h"
#include "pipeline/pipeline.h"
#include "live_harness.h"
#include "records.h"

namespace slawatch {
namespace {

using testing::first_response_within;
using testing::kT0;
using std::chrono::minutes;

const std::string kWarn1 = "c1/first-response/1/warning";
const std::string kBreach1 = "c1/first-response/1/breach";
const std::string kBreach2 = "c2/first-response/1/breach";
const std::string kWarn2 = "c2/first-response/1/warning";
const std::string kBreach3 = "c3/first-response/1/breach";
const std::string kWarn3 = "c3/first-response/1/warning";

TEST(RuleReload, LongerTargetRetractsMovesAndKeepsClosedOutcomes) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());               // open, no ack
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d2", "c2", kT0)).ok());               // acked late
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d3", "c3", kT0 + minutes{10})).ok());  // open, due 00:40
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{35}).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a2", "c2", kT0 + minutes{35})).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{40}).ok());  // c3's breach exactly at its due time
  h.take();

  auto report = h.pipeline.reload_rules(first_response_within(minutes{45}, "v45"), "pos");
  ASSERT_TRUE(report.ok()) << report.error().message;
  // c1: warning moves 00:24 -> 00:36 (still overdue: retracted, fired again), breach 00:30 -> 00:45 (not
  // yet: retracted). c2 closed at 00:35 after a breach at 00:30: it keeps its outcome. c3: warning
  // 00:34 -> 00:46 and breach 00:40 -> 00:55, neither due yet.
  EXPECT_EQ(h.take(), (testing::Described{
                          testing::retracted(kWarn1, kT0 + minutes{24}),
                          testing::retracted(kBreach1, kT0 + minutes{30}),
                          testing::fired(kWarn1, kT0 + minutes{36}),
                          testing::retracted(kWarn3, kT0 + minutes{34}),
                          testing::retracted(kBreach3, kT0 + minutes{40}),
                      }));
  EXPECT_EQ(report->cases, 3u);
  EXPECT_EQ(report->changed, 2u);
  EXPECT_EQ(report->retracted, 4u);
  EXPECT_EQ(report->fired, 1u);
  EXPECT_EQ(report->from_version, "v30");
  EXPECT_EQ(report->to_version, "v45");
  EXPECT_EQ(h.pipeline.stored_rules_version(), "v45");

  // The timers moved: nothing one millisecond before the new due time, the breach exactly at it.
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{45} - std::chrono::milliseconds{1}).ok());
  EXPECT_EQ(h.take(), testing::Described{});
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{45}).ok());
  EXPECT_EQ(h.take(), (testing::Described{testing::fired(kBreach1, kT0 + minutes{45})}));
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{55}).ok());
  EXPECT_EQ(h.take(), (testing::Described{testing::fired(kWarn3, kT0 + minutes{46}),
                                          testing::fired(kBreach3, kT0 + minutes{55})}));
}

// An engine writing back (replay without --state) holds cases the store has
// not been given yet; the reload hands them over first and repairs them all.
TEST(RuleReload, RepairsCasesAnEngineWritingBackHasNotStoredYet) {
  MemoryStateStore store;
  EngineOptions options;
  options.write_back_cases = true;
  LiveHarness h(first_response_within(minutes{45}, "v45"), store, options);
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d2", "c2", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d3", "c3", kT0)).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{34}).ok());
  ASSERT_TRUE(h.pipeline.commit_if_due("pos", true).ok());
  for (const char* id : {"c1", "c2", "c3"}) {
    auto stored = store.load_case(CaseId{id});
    ASSERT_TRUE(stored.ok());
    EXPECT_FALSE(stored->has_value()) << id << " should wait in the engine's cache";
  }
  h.take();
  auto report = h.pipeline.reload_rules(first_response_within(minutes{30}, "v30"), "pos");
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->cases, 3u);
  EXPECT_EQ(report->fired, 6u);  // warning 00:24 and breach 00:30 of each case
  for (const char* id : {"c1", "c2", "c3"}) {
    auto stored = store.load_case(CaseId{id});
    ASSERT_TRUE(stored.ok());
    EXPECT_TRUE(stored->has_value()) << id;
  }
}

TEST(RuleReload, ShorterTargetFiresWhatIsNowOverdueAtOnce) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{45}, "v45"), store);
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d2", "c2", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a2", "c2", kT0 + minutes{33})).ok());  // met under 45
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{34}).ok());
  h.take();
  auto report = h.pipeline.reload_rules(first_response_within(minutes{30}, "v30"), "pos");
  ASSERT_TRUE(report.ok());
  // c1 is now overdue (warning 00:24, breach 00:30); c2 closed met and stays met.
  EXPECT_EQ(h.take(), (testing::Described{testing::fired(kWarn1, kT0 + minutes{24}),
                                          testing::fired(kBreach1, kT0 + minutes{30})}));
  // The escalation (200% = 00:60) keeps its timer.
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{60}).ok());
  EXPECT_EQ(h.take(), (testing::Described{testing::fired("c1/first-response/1/escalated", kT0 + minutes{60})}));
}

TEST(RuleReload, SameRulesChangeNothing) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + minutes{31}).ok());
  h.take();
  auto report = h.pipeline.reload_rules(first_response_within(minutes{30}, "v30"), "pos");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->changed, 0u);
  EXPECT_EQ(h.take(), testing::Described{});
}

TEST(RuleReload, TheStoredVersionTellsARestartThatTheRulesChanged) {
  MemoryStateStore store;
  {
    LiveHarness first(first_response_within(minutes{30}, "v30"), store);
    ASSERT_TRUE(first.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
    ASSERT_TRUE(first.pipeline.advance(kT0 + minutes{31}).ok());
    ASSERT_TRUE(first.pipeline.commit_if_due("7", true).ok());
  }
  LiveHarness second(first_response_within(minutes{45}, "v45"), store);
  EXPECT_EQ(second.pipeline.stored_rules_version(), "v30");
  // What the monitor does at start-up when the versions differ: repair under the rules in force.
  auto report = second.pipeline.reload_rules(second.engine.rules_ptr(), "7");
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->from_version, "v30");
  EXPECT_EQ(second.take(), (testing::Described{testing::retracted(kWarn1, kT0 + minutes{24}),
                                               testing::retracted(kBreach1, kT0 + minutes{30})}));
  EXPECT_EQ(store.load_checkpoint()->rules_version, "v45");
}

}  // namespace
}  // namespace slawatch
