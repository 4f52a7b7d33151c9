// Restarts on committed state and the bounded in-memory timer head: neither
// may change a single alert of a run.
#include <gtest/gtest.h>

#include "engine/timer_queue.h"
#include "engine_fixture.h"
#include "stream_fixture.h"

namespace slawatch::testing {
namespace {

TimerKey key(int64_t due_minutes, std::string case_id) {
  return TimerKey{kT0 + minutes{due_minutes}, CaseId{std::move(case_id)}};
}

void commit_timers(MemoryStateStore& store, std::vector<TimerKey> puts,
                   std::vector<TimerKey> deletes = {}) {
  StateBatch batch;
  batch.timer_puts = std::move(puts);
  batch.timer_deletes = std::move(deletes);
  ASSERT_TRUE(store.commit(batch).ok());
}

void flush_and_commit(TimerQueue& queue, MemoryStateStore& store) {
  StateBatch batch;
  queue.flush_into(batch);
  ASSERT_TRUE(store.commit(batch).ok());
}

// Pops every timer due at or before `limit`, in order.
std::vector<TimerKey> drain(TimerQueue& queue, Instant limit) {
  std::vector<TimerKey> out;
  for (;;) {
    auto popped = queue.pop_due(limit);
    EXPECT_TRUE(popped.ok());
    if (!popped.ok() || !popped->has_value()) return out;
    out.push_back(**popped);
  }
}

// ---- TimerQueue ------------------------------------------------------------------

// Written back, the stored timers are read once and the queue alone holds
// them from then on: in due order, with no net change left for a batch.
TEST(TimerQueue, WrittenBackTheQueueAloneHoldsTheTimersAfterReadingTheStoredOnes) {
  MemoryStateStore store;
  commit_timers(store, {key(30, "stored"), key(40, "stored-cancelled")});
  TimerQueue queue(store, 2, TimerQueue::Persistence::write_back);
  queue.schedule(key(50, "before-first-pop"));
  StateBatch batch;
  queue.flush_into(batch);  // before the first pop, changes still go to the store
  ASSERT_TRUE(store.commit(batch).ok());
  EXPECT_EQ(drain(queue, kT0), std::vector<TimerKey>{});  // reads the store: nothing due yet
  queue.cancel(key(40, "stored-cancelled"));
  for (int i = 0; i < 10; ++i) queue.schedule(key(10 + i, "c" + std::to_string(i)));  // more than the limit of 2
  queue.cancel(key(12, "c2"));
  EXPECT_EQ(queue.pending_changes(), 0u);
  queue.flush_into(batch);
  EXPECT_TRUE(batch.timer_puts.empty());
  EXPECT_TRUE(batch.timer_deletes.empty());
  ASSERT_TRUE(store.commit(batch).ok());

  std::vector<TimerKey> expected;
  for (int i = 0; i < 10; ++i) {
    if (i != 2) expected.push_back(key(10 + i, "c" + std::to_string(i)));
  }
  expected.push_back(key(30, "stored"));
  expected.push_back(key(50, "before-first-pop"));
  EXPECT_EQ(drain(queue, kT0 + minutes{60}), expected);
  EXPECT_EQ(queue.head_size(), 0u);
}

// Resident, a case's slot takes its timer out without a search, and the node
// (with its copy of the case id) is reused for the new due time. Before the
// queue is resident, and for a slot the queue did not fill, rescheduling goes
// by key as cancel and schedule do; a popped timer's slot is cleared by its
// owner and the next reschedule of that case schedules afresh.
TEST(TimerQueue, ResidentReschedulesThroughTheCaseSlotAndByKeyWithoutOne) {
  MemoryStateStore store;
  commit_timers(store, {key(30, "stored")});
  TimerQueue queue(store, 2, TimerQueue::Persistence::write_back);
  TimerQueue::Slot before_resident;
  queue.reschedule(CaseId{"early"}, std::nullopt, kT0 + minutes{20}, before_resident);  // not resident yet
  EXPECT_EQ(queue.pending_changes(), 1u);
  EXPECT_EQ(drain(queue, kT0), std::vector<TimerKey>{});  // reads the store: resident from here on

  std::vector<TimerQueue::Slot> slots(4);
  for (int i = 0; i < 4; ++i) {
    queue.reschedule(CaseId{"c" + std::to_string(i)}, std::nullopt, kT0 + minutes{10 + i}, slots[i]);
  }
  queue.reschedule(CaseId{"c1"}, kT0 + minutes{11}, kT0 + minutes{45}, slots[1]);  // later, through the slot
  queue.reschedule(CaseId{"c3"}, kT0 + minutes{13}, kT0 + minutes{5}, slots[3]);   // earlier
  queue.reschedule(CaseId{"c2"}, kT0 + minutes{12}, std::nullopt, slots[2]);      // cancelled
  TimerQueue::Slot unknown;  // the case left the owner's cache: found by key
  queue.reschedule(CaseId{"stored"}, kT0 + minutes{30}, kT0 + minutes{31}, unknown);
  queue.reschedule(CaseId{"early"}, kT0 + minutes{20}, kT0 + minutes{21}, before_resident);
  queue.reschedule(CaseId{"stored"}, kT0 + minutes{31}, kT0 + minutes{32}, unknown);  // filled by the last one
  EXPECT_EQ(queue.pending_changes(), 0u);
  EXPECT_EQ(queue.head_size(), 5u);

  EXPECT_EQ(drain(queue, kT0 + minutes{10}), (std::vector<TimerKey>{key(5, "c3"), key(10, "c0")}));
  slots[3].clear();
  slots[0].clear();
  queue.reschedule(CaseId{"c3"}, std::nullopt, kT0 + minutes{40}, slots[3]);  // its next stage
  queue.reschedule(CaseId{"c1"}, kT0 + minutes{45}, kT0 + minutes{44}, slots[1]);
  EXPECT_EQ(drain(queue, kT0 + minutes{60}),
            (std::vector<TimerKey>{key(21, "early"), key(32, "stored"), key(40, "c3"), key(44, "c1")}));
  EXPECT_EQ(queue.head_size(), 0u);
}

TEST(TimerQueue, ScheduleCancelAndRescheduleWithinOneBatchNetOut) {
  MemoryStateStore store;
  TimerQueue queue(store, 2);
  queue.schedule(key(10, "a"));
  queue.cancel(key(10, "a"));   // never reaches the store
  queue.schedule(key(20, "a"));
  queue.schedule(key(5, "b"));
  queue.cancel(key(5, "b"));
  queue.schedule(key(7, "b"));
  EXPECT_EQ(queue.pending_changes(), 2u);

  StateBatch batch;
  queue.flush_into(batch);
  EXPECT_EQ(batch.timer_puts, (std::vector<TimerKey>{key(7, "b"), key(20, "a")}));
  EXPECT_TRUE(batch.timer_deletes.empty());
  ASSERT_TRUE(store.commit(batch).ok());
  EXPECT_EQ(store.timer_count(), 2u);

  EXPECT_EQ(drain(queue, kT0 + minutes{6}), std::vector<TimerKey>{});
  EXPECT_EQ(drain(queue, kT0 + minutes{60}), (std::vector<TimerKey>{key(7, "b"), key(20, "a")}));
  flush_and_commit(queue, store);
  EXPECT_EQ(store.timer_count(), 0u);
}

// The overlay is hashed; the batch still gets its keys in (due, case) order.
TEST(TimerQueue, FlushHandsTheBatchItsKeysInKeyOrder) {
  MemoryStateStore store;
  commit_timers(store, {key(3, "gone-1"), key(1, "gone-2"), key(3, "gone-0")});
  TimerQueue queue(store, 8);
  for (const auto& [due, id] : std::vector<std::pair<int, std::string>>{
           {9, "c"}, {2, "z"}, {9, "a"}, {5, "m"}, {2, "b"}, {40, "k"}, {9, "b"}}) {
    queue.schedule(key(due, id));
  }
  queue.cancel(key(3, "gone-1"));
  queue.cancel(key(1, "gone-2"));
  queue.cancel(key(3, "gone-0"));

  StateBatch batch;
  queue.flush_into(batch);
  EXPECT_EQ(batch.timer_puts, (std::vector<TimerKey>{key(2, "b"), key(2, "z"), key(5, "m"), key(9, "a"), key(9, "b"),
                                                     key(9, "c"), key(40, "k")}));
  EXPECT_EQ(batch.timer_deletes, (std::vector<TimerKey>{key(1, "gone-2"), key(3, "gone-0"), key(3, "gone-1")}));
}

TEST(TimerQueue, CancellingACommittedTimerAndSchedulingItAgainKeepsIt) {
  MemoryStateStore store;
  commit_timers(store, {key(10, "a")});
  TimerQueue queue(store, 2);
  queue.cancel(key(10, "a"));
  queue.schedule(key(10, "a"));
  EXPECT_EQ(queue.pending_changes(), 0u);
  EXPECT_EQ(drain(queue, kT0 + minutes{10}), (std::vector<TimerKey>{key(10, "a")}));
  StateBatch batch;
  queue.flush_into(batch);
  EXPECT_EQ(batch.timer_deletes, (std::vector<TimerKey>{key(10, "a")}));
  EXPECT_TRUE(batch.timer_puts.empty());
}

TEST(TimerQueue, TinyHeadRefillsFromTheStoreAndTheOverlayInOrder) {
  MemoryStateStore store;
  commit_timers(store, {key(1, "a"), key(3, "c"), key(5, "e"), key(7, "g"), key(9, "i")});
  TimerQueue queue(store, 2);
  queue.schedule(key(2, "b"));   // uncommitted, between committed ones
  queue.schedule(key(8, "h"));
  queue.cancel(key(5, "e"));     // committed, cancelled in this batch
  queue.cancel(key(9, "i"));
  queue.schedule(key(10, "i"));  // ... and rescheduled later
  EXPECT_EQ(drain(queue, kT0 + minutes{3}),
            (std::vector<TimerKey>{key(1, "a"), key(2, "b"), key(3, "c")}));
  EXPECT_LE(queue.head_size(), 4u);
  // Scheduled behind the horizon while partly drained, across a commit.
  queue.schedule(key(4, "d"));
  flush_and_commit(queue, store);
  queue.schedule(key(6, "f"));
  EXPECT_EQ(drain(queue, kT0 + minutes{60}),
            (std::vector<TimerKey>{key(4, "d"), key(6, "f"), key(7, "g"), key(8, "h"),
                                   key(10, "i")}));
  flush_and_commit(queue, store);
  EXPECT_EQ(store.timer_count(), 0u);
}

// A shrink cannot cut a tie at its boundary; the head then keeps the tie (it
// is not walked again on every schedule) and still pops everything in order.
TEST(TimerQueue, AHeadHeldUpByATieStillTakesEarlierTimersAndPopsInOrder) {
  MemoryStateStore store;
  std::vector<TimerKey> committed = {key(1, "first")};
  std::vector<TimerKey> expected = {key(1, "first")};
  for (int n = 0; n < 50; ++n) committed.push_back(key(5, "tie-" + std::to_string(100 + n)));
  commit_timers(store, committed);
  TimerQueue queue(store, 2);
  EXPECT_EQ(drain(queue, kT0), std::vector<TimerKey>{});  // loads the head: 1 and the whole tie at 5
  EXPECT_EQ(queue.head_size(), 51u);
  queue.schedule(key(4, "later-b"));  // behind the horizon (5): into the head
  queue.schedule(key(3, "later-a"));
  queue.schedule(key(6, "past"));     // past it: left to the next refill
  EXPECT_EQ(queue.head_size(), 53u);
  expected.push_back(key(3, "later-a"));
  expected.push_back(key(4, "later-b"));
  for (int n = 0; n < 50; ++n) expected.push_back(key(5, "tie-" + std::to_string(100 + n)));
  expected.push_back(key(6, "past"));
  EXPECT_EQ(drain(queue, kT0 + minutes{60}), expected);
}

TEST(TimerQueue, ManyTimersSharingOneDueTimeAreAllKept) {
  MemoryStateStore store;
  std::vector<TimerKey> same;
  for (int i = 0; i < 7; ++i) same.push_back(key(5, "c" + std::to_string(i)));
  commit_timers(store, same);
  TimerQueue queue(store, 2);
  queue.schedule(key(4, "early"));
  for (int i = 0; i < 7; ++i) queue.schedule(key(6, "n" + std::to_string(i)));  // forces shrinks
  const auto popped = drain(queue, kT0 + minutes{60});
  ASSERT_EQ(popped.size(), 15u);
  EXPECT_TRUE(std::is_sorted(popped.begin(), popped.end()));
  EXPECT_EQ(popped.front(), key(4, "early"));
}

// A refill whose whole scan was cancelled in the current batch must keep
// looking: the timers behind it are still due.
TEST(TimerQueue, RefillPastAFullyCancelledScanStillFindsLaterDueTimers) {
  MemoryStateStore store;
  commit_timers(store, {key(1, "a"), key(2, "b"), key(3, "c")});
  TimerQueue queue(store, 2);
  queue.cancel(key(1, "a"));
  queue.cancel(key(2, "b"));
  EXPECT_EQ(drain(queue, kT0 + minutes{3}), (std::vector<TimerKey>{key(3, "c")}));
}

// ---- engine with a tiny timer head -------------------------------------------------

TEST(EngineTimers, AfterRestartClosingTheFirstCasesDoesNotHideALaterDueCase) {
  EngineOptions options;
  options.timer_head_limit = 2;
  EngineHarness h(rule_set({first_response_rule()}), options);
  h.apply(dispatched("d1", "c1", kT0));
  h.apply(dispatched("d2", "c2", kT0 + minutes{1}));
  h.apply(dispatched("d3", "c3", kT0 + minutes{2}));
  h.restart();
  h.apply(acknowledged("a1", "c1", kT0 + minutes{5}));
  h.apply(acknowledged("a2", "c2", kT0 + minutes{5}));
  EXPECT_EQ(describe(h.advance(kT0 + minutes{26})),
            (Described{fired("c3/first-response/1/warning", kT0 + minutes{26})}));
}

SimulatorOptions disordered_traffic(uint64_t seed, int64_t cases) {
  SimulatorOptions o;
  o.seed = seed;
  o.cases = cases;
  o.span = hours{12};
  o.late_first_response = 0.4;
  o.late_fraction = 0.2;
  o.reorder_fraction = 0.1;
  o.duplicate_fraction = 0.05;
  o.max_lateness = hours{2};
  return o;
}

class StreamRuns : public ::testing::Test {
 protected:
  void SetUp() override {
    rules_ = default_rules();
    ASSERT_NE(rules_, nullptr);
    events_ = simulated_events(disordered_traffic(20260302, 400));
    ASSERT_GT(events_.size(), 2000u);
    final_clock_ = kDefaultSimulationStart + hours{24 * 40};
    baseline_ = replay_stream(rules_, events_, plan());
    // The stream must exercise what these tests are about.
    size_t kinds[3] = {0, 0, 0};
    for (const auto& a : baseline_.alerts) ++kinds[static_cast<int>(a.kind)];
    ASSERT_GT(kinds[0], 100u) << "fired";
    ASSERT_GT(kinds[1], 20u) << "resolved";
    ASSERT_GT(kinds[2], 0u) << "retracted";
    ASSERT_GT(baseline_.duplicates, 0u);
  }

  ReplayPlan plan() const {
    ReplayPlan p;
    p.final_clock = final_clock_;
    return p;
  }

  std::shared_ptr<const RuleSet> rules_;
  std::vector<CaseEvent> events_;
  Instant final_clock_;
  ReplayResult baseline_;
};

TEST_F(StreamRuns, RestartHalfwayGivesTheSameAlertsAsAnUninterruptedRun) {
  ReplayPlan p = plan();
  const size_t half = events_.size() / 2;
  p.restart_before = [half](size_t i) { return i == half; };
  const auto restarted = replay_stream(rules_, events_, p);
  EXPECT_EQ(restarted.restarts, 1u);
  expect_same_alerts(restarted.alerts, baseline_.alerts, "restart halfway");
  EXPECT_EQ(restarted.duplicates, baseline_.duplicates);
}

TEST_F(StreamRuns, FrequentCommitsAndRestartsGiveTheSameAlerts) {
  ReplayPlan p = plan();
  p.commit_before = [](size_t i) { return i % 13 == 0; };
  p.restart_before = [](size_t i) { return i % 97 == 50; };
  const auto restarted = replay_stream(rules_, events_, p);
  EXPECT_GT(restarted.restarts, 10u);
  expect_same_alerts(restarted.alerts, baseline_.alerts, "frequent restarts");
}

TEST_F(StreamRuns, TinyTimerHeadGivesExactlyTheSameAlertsAsALargeOne) {
  for (size_t limit : {1u, 2u, 3u}) {
    for (int commit_every : {0, 1, 7, 50}) {
      ReplayPlan p = plan();
      p.options.timer_head_limit = limit;
      if (commit_every > 0) {
        p.commit_before = [commit_every](size_t i) { return i % commit_every == 0; };
      }
      const auto run = replay_stream(rules_, events_, p);
      expect_same_alerts(run.alerts, baseline_.alerts,
                         "head_limit " + std::to_string(limit) + ", commit every " +
                             std::to_string(commit_every));
    }
  }
}

TEST_F(StreamRuns, TinyTimerHeadSurvivesRestartsToo) {
  ReplayPlan p = plan();
  p.options.timer_head_limit = 2;
  p.commit_before = [](size_t i) { return i % 5 == 0; };
  p.restart_before = [](size_t i) { return i % 61 == 30; };
  const auto run = replay_stream(rules_, events_, p);
  EXPECT_GT(run.restarts, 10u);
  expect_same_alerts(run.alerts, baseline_.alerts, "head_limit 2 with restarts");
}

}  // namespace
}  // namespace slawatch::testing
