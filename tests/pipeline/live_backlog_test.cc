// The live clock and a backlog: after downtime (or when a monitor starts on a
// stored history) a batch holds dispatches whose stages are long overdue and,
// a few records later, the acknowledgements that settle them. The alerts of a
// batch are held until the next advance (or commit), and a stage fired and
// retracted within it leaves nothing: a case acknowledged in time is never
// seen to fire, and one acknowledged late fires and resolves, as replay says.
#include <gtest/gtest.h>

#include "live_harness.h"
#include "records.h"

namespace slawatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using testing::Described;
using testing::fired;
using testing::first_response_within;
using testing::kT0;
using testing::resolved;

TEST(LiveBacklog, ABatchEmitsOnlyWhatItsAcknowledgementsLeaveStanding) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());  // the wall clock, hours after the backlog
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "met", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d2", "late", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d3", "open", kT0)).ok());
  EXPECT_EQ(h.take(), Described{});  // nothing fires while the batch is read
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a1", "met", kT0 + minutes{30} - milliseconds{1})).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a2", "late", kT0 + minutes{40})).ok());
  EXPECT_EQ(h.take(), Described{});
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  // In the order the records produced them. "met" answered 1 ms before its breach: its warning (00:24)
  // fired and resolved, its breach and escalation never show; "late" breached and resolved; "open" waits.
  EXPECT_EQ(h.take(), (Described{fired("met/first-response/1/warning", kT0 + minutes{24}),
                                 fired("late/first-response/1/warning", kT0 + minutes{24}),
                                 fired("late/first-response/1/breach", kT0 + minutes{30}),
                                 fired("open/first-response/1/warning", kT0 + minutes{24}),
                                 fired("open/first-response/1/breach", kT0 + minutes{30}),
                                 fired("open/first-response/1/escalated", kT0 + minutes{60}),
                                 resolved("met/first-response/1/warning", kT0 + minutes{24}),
                                 resolved("late/first-response/1/warning", kT0 + minutes{24}),
                                 resolved("late/first-response/1/breach", kT0 + minutes{30})}));
  EXPECT_EQ(h.pipeline.counters().alerts_retracted, 0u);
}

TEST(LiveBacklog, AnAcknowledgementBeforeTheWarningLeavesNothingToSee) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a1", "c1", kT0 + minutes{10})).ok());
  ASSERT_TRUE(h.pipeline.commit_if_due("p1", true).ok());  // a commit releases the batch too
  EXPECT_EQ(h.take(), Described{});
  EXPECT_EQ(h.pipeline.counters().alerts_fired, 0u);
  EXPECT_EQ(h.pipeline.pending_timers().value(), 0u);  // nothing left pending either

  // A retraction arriving in a later batch still leaves: the fired alert already did.
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d2", "c2", kT0)).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  EXPECT_EQ(h.take().size(), 3u);  // warning, breach, escalated
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a2", "c2", kT0 + minutes{10})).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  EXPECT_EQ(h.take().size(), 3u);  // the three retractions
}

}  // namespace
}  // namespace slawatch
