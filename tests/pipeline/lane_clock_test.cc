// Catching up on event time (contract section 4, amended 2026-12-06): while a
// partition is behind, its clock is its event-time watermark, so a backlog
// fires what replay fires and is not paged for stages settled further on.
#include <gtest/gtest.h>

#include "live_harness.h"
#include "pipeline/lane_clock.h"
#include "records.h"

namespace slawatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using testing::kT0;

TEST(LaneClockPolicy, CaughtUpTheWallClockRules) {
  const LaneClockPolicy policy{minutes{1}};
  EXPECT_EQ(policy.now(kT0 + hours{5}, true, kT0), kT0 + hours{5});
}

TEST(LaneClockPolicy, BehindTheClockIsJustBeforeTheWatermarkMinusTheAllowedLateness) {
  // A record still to come may share the watermark's millisecond.
  const LaneClockPolicy policy{minutes{1}};
  EXPECT_EQ(policy.now(kT0 + hours{5}, false, kT0 + hours{1}), kT0 + hours{1} - minutes{1} - milliseconds{1});
}

TEST(LaneClockPolicy, BehindTheClockIsNeverLaterThanTheWallClock) {
  // Events dated in the future (a skewed producer) never run the clock ahead.
  const LaneClockPolicy policy{};
  EXPECT_EQ(policy.now(kT0, false, kT0 + hours{1}), kT0);
}

TEST(LaneClockPolicy, BehindWithNothingReadTheClockStaysPut) {
  EXPECT_EQ(LaneClockPolicy{}.now(kT0 + hours{5}, false, std::nullopt), kMinInstant);
}

// A backlog of three hours of first responses, read in batches of two
// records that split every dispatch from its acknowledgement: on the lane
// clock nothing is fired that a later record of the backlog retracts; on the
// wall clock (before the amendment) every case would page someone first.
struct Backlog {
  std::vector<RawRecord> records;
  Backlog() {
    for (int i = 0; i < 6; ++i) {
      const std::string c = "c" + std::to_string(i);
      const Instant dispatched_at = kT0 + minutes{30} * i;
      records.push_back(dispatched("d" + std::to_string(i), c, dispatched_at));
      // Every case is answered 10 minutes in, a batch or more later.
      records.push_back(acknowledged("a" + std::to_string(i), c, dispatched_at + minutes{10}));
    }
    // In event-time order, as a topic would hold them.
    std::stable_sort(records.begin(), records.end(), [](const RawRecord& a, const RawRecord& b) {
      return a.bytes.substr(a.bytes.find("\"time\"")) < b.bytes.substr(b.bytes.find("\"time\""));
    });
  }
};

uint64_t retractions_catching_up(bool on_event_time) {
  MemoryStateStore store;
  LiveHarness h(testing::first_response_within(minutes{5}, "v5"), store);
  const Instant wall = kT0 + hours{24};
  const LaneClockPolicy policy{};
  Backlog backlog;
  for (size_t i = 0; i < backlog.records.size(); ++i) {
    EXPECT_TRUE(h.pipeline.on_record_live(backlog.records[i]).ok());
    if (i % 2 == 0) {  // a batch read ([d0], [a0 d1], [a1 d2]...): advance, then commit
      const bool caught_up = false;  // the last batch is read below, after the loop
      const Instant now = on_event_time ? policy.now(wall, caught_up, h.pipeline.latest_event_time()) : wall;
      EXPECT_TRUE(h.pipeline.advance(now).ok());
      EXPECT_TRUE(h.pipeline.commit_if_due("p" + std::to_string(i), true).ok());
    }
  }
  // The last acknowledgement, then caught up: the wall clock rules.
  EXPECT_TRUE(h.pipeline.advance(on_event_time ? policy.now(wall, true, h.pipeline.latest_event_time()) : wall).ok());
  EXPECT_TRUE(h.pipeline.commit_if_due("end", true).ok());
  return h.pipeline.counters().alerts_retracted;
}

TEST(CatchingUp, OnEventTimeABacklogRetractsNothing) {
  // Targets of 5 minutes (escalation at 10), answered at 10: the warning and
  // the breach are real (fired, then resolved), the escalation was met.
  EXPECT_EQ(retractions_catching_up(true), 0u);
  // The control: on the wall clock each dispatch fires all three stages in
  // its own batch and the acknowledgement in the next retracts the escalation.
  EXPECT_EQ(retractions_catching_up(false), 6u);
}

TEST(CatchingUp, BehindNothingFiresUntilTheWatermarkPassesTheDueTime) {
  MemoryStateStore store;
  LiveHarness h(testing::first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{24}).ok());  // wall clock: fires the whole cycle
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a1", "c1", kT0 + minutes{10})).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{24}).ok());
  EXPECT_EQ(h.pipeline.counters().alerts_retracted, 3u);

  MemoryStateStore store2;
  LiveHarness g(testing::first_response_within(minutes{30}, "v30"), store2);
  const LaneClockPolicy policy{};
  ASSERT_TRUE(g.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(g.pipeline.advance(policy.now(kT0 + hours{24}, false, g.pipeline.latest_event_time())).ok());
  ASSERT_TRUE(g.pipeline.on_record_live(acknowledged("a1", "c1", kT0 + minutes{10})).ok());
  ASSERT_TRUE(g.pipeline.advance(policy.now(kT0 + hours{24}, true, g.pipeline.latest_event_time())).ok());
  EXPECT_EQ(g.pipeline.counters().alerts_fired, 0u);
  EXPECT_EQ(g.pipeline.counters().alerts_retracted, 0u);
}

}  // namespace
}  // namespace slawatch
