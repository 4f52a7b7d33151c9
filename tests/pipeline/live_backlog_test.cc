// The live clock and a backlog: after downtime (or when a monitor starts on a
// stored history) a batch holds dispatches whose stages are long overdue and,
// a few records later, the acknowledgements that settle them. Stages fire only
// at the next advance, after the whole batch is applied, so a case acknowledged
// in time never fires (no fire-then-retract), and one acknowledged late fires
// and resolves, as replay says.
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

TEST(LiveBacklog, StagesFireAtTheNextAdvanceAfterTheBatchSettledThem) {
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
  // In due order across cases. "met" answered 1 ms before its breach: its warning (00:24) fired and
  // resolved, never its breach; "late" breached and resolved; "open" is still waiting.
  EXPECT_EQ(h.take(), (Described{fired("late/first-response/1/warning", kT0 + minutes{24}),
                                 resolved("late/first-response/1/warning", kT0 + minutes{24}),
                                 fired("met/first-response/1/warning", kT0 + minutes{24}),
                                 resolved("met/first-response/1/warning", kT0 + minutes{24}),
                                 fired("open/first-response/1/warning", kT0 + minutes{24}),
                                 fired("late/first-response/1/breach", kT0 + minutes{30}),
                                 resolved("late/first-response/1/breach", kT0 + minutes{30}),
                                 fired("open/first-response/1/breach", kT0 + minutes{30}),
                                 fired("open/first-response/1/escalated", kT0 + minutes{60})}));
  EXPECT_EQ(h.pipeline.counters().alerts_retracted, 0u);
}

TEST(LiveBacklog, AnAcknowledgementBeforeTheWarningLeavesNothingToFire) {
  MemoryStateStore store;
  LiveHarness h(first_response_within(minutes{30}, "v30"), store);
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(dispatched("d1", "c1", kT0)).ok());
  ASSERT_TRUE(h.pipeline.on_record_live(acknowledged("a1", "c1", kT0 + minutes{10})).ok());
  ASSERT_TRUE(h.pipeline.advance(kT0 + hours{5}).ok());
  EXPECT_EQ(h.take(), Described{});
  EXPECT_EQ(h.pipeline.counters().alerts_fired, 0u);
}

}  // namespace
}  // namespace slawatch
