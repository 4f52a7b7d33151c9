// The worker pool (fork-join: every worker runs once per run, side by side,
// and run() returns only when all are done) and the lane-to-worker map.
#include "runtime/lane_workers.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "runtime/monitor_loop.h"

namespace slawatch {
namespace {

TEST(WorkerPool, EveryWorkerRunsExactlyOncePerRun) {
  WorkerPool pool(3);
  ASSERT_EQ(pool.size(), 3u);
  std::vector<std::atomic<int>> runs(3);
  for (int round = 1; round <= 200; ++round) {
    pool.run([&](size_t worker) { ++runs[worker]; });
    // run() returned: every worker's part of this round is done, none of the next has started.
    for (auto& count : runs) ASSERT_EQ(count.load(), round);
  }
}

TEST(WorkerPool, WorkersRunSideBySide) {
  // Each worker waits until both are inside: with one thread after another
  // this could never happen (the wait is bounded so a failure does not hang).
  WorkerPool pool(2);
  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0;
  std::vector<bool> met(2, false);
  pool.run([&](size_t worker) {
    std::unique_lock lock(mutex);
    ++inside;
    changed.notify_all();
    met[worker] = changed.wait_for(lock, std::chrono::seconds(20), [&] { return inside == 2; });
  });
  EXPECT_EQ(met, (std::vector<bool>{true, true}));
}

TEST(WorkerPool, OneWorkerRunsOnTheCallersThread) {
  WorkerPool pool(1);
  const auto caller = std::this_thread::get_id();
  std::thread::id ran_on;
  pool.run([&](size_t worker) {
    EXPECT_EQ(worker, 0u);
    ran_on = std::this_thread::get_id();
  });
  EXPECT_EQ(ran_on, caller);
}

TEST(WorkerPool, RefusesNoWorkers) { EXPECT_THROW(WorkerPool(0), std::invalid_argument); }

TEST(LaneWorkers, ANewLaneGoesToTheWorkerWithFewest) {
  LaneWorkers lanes(2);
  EXPECT_EQ(lanes.assign(0), 0u);
  EXPECT_EQ(lanes.assign(1), 1u);
  EXPECT_EQ(lanes.assign(2), 0u);
  EXPECT_EQ(lanes.assign(3), 1u);
  // Partition 0 leaves: worker 0 has fewer, so the next one goes there, and nobody else moves.
  lanes.release(0);
  EXPECT_EQ(lanes.assign(5), 0u);
  EXPECT_EQ(lanes.owner(1), 1u);
  EXPECT_EQ(lanes.owner(2), 0u);
  EXPECT_EQ(lanes.owner(3), 1u);
  EXPECT_EQ(lanes.owner(5), 0u);
  lanes.release(7);  // never assigned: nothing happens
  EXPECT_EQ(lanes.assign(6), 0u);  // 2:2 after the no-op release, ties go to the lowest
}

TEST(MonitorPolicy, WorkersShareTheFiringBudgetsRoundedUp) {
  MonitorPolicy policy;
  policy.max_timers_per_tick = 1000;
  policy.max_timers_per_second = 20001;
  const MonitorPolicy one = policy.shared_by(1);
  EXPECT_EQ(one.max_timers_per_tick, 1000u);
  EXPECT_EQ(one.max_timers_per_second, 20001u);
  const MonitorPolicy share = policy.shared_by(3);
  EXPECT_EQ(share.max_timers_per_tick, 334u);
  EXPECT_EQ(share.max_timers_per_second, 6667u);
  EXPECT_EQ(share.commit_with_output, policy.commit_with_output);  // cadences are per lane, not shared
  policy.max_timers_per_tick = 1;
  EXPECT_EQ(policy.shared_by(4).max_timers_per_tick, 1u);  // never zero
}

}  // namespace
}  // namespace slawatch
