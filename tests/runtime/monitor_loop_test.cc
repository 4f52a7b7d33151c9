// The monitor loop's policies on manual clocks: commit cadence (never when
// nothing changed), the firing budget, each lane's catch-up clock, delivery
// backoff and the stuck warning. No sleeps: the test moves the clocks.
#include "runtime/monitor_loop.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include "../engine/engine_fixture.h"
#include "../pipeline/records.h"

namespace slawatch {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::kT0;

// A sink that refuses while `refusing`, and counts what it took.
class SwitchableSink final : public RecordSink {
 public:
  Status write(const OutboundRecord&) override {
    ++attempts;
    if (refusing) return make_error("broker unreachable");
    ++written;
    return ok_status();
  }
  Status flush() override { return refusing ? make_error("broker unreachable") : ok_status(); }
  bool refusing = false;
  size_t attempts = 0;
  size_t written = 0;
};

// Takes records until `refuse_after` of them, then refuses; after each write
// asks `unrecorded` how many of those taken a next owner would send again.
class CountingSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    if (taken.size() >= refuse_after) return make_error("broker unreachable");
    taken.push_back(record.seq);
    if (unrecorded) most_unrecorded = std::max(most_unrecorded, unrecorded(taken));
    return ok_status();
  }
  Status flush() override { return taken.size() >= refuse_after ? make_error("broker unreachable") : ok_status(); }
  size_t refuse_after = SIZE_MAX;
  std::vector<uint64_t> taken;
  std::function<size_t(const std::vector<uint64_t>&)> unrecorded;
  size_t most_unrecorded = 0;
};

// How many of `taken` the store's outbox still holds: a next owner sends them again.
size_t taken_but_unrecorded(StateStore& store, const std::vector<uint64_t>& taken) {
  auto outbox = store.load_outbox();
  EXPECT_TRUE(outbox.ok());
  size_t n = 0;
  if (outbox.ok()) {
    for (const OutboxEntry& entry : *outbox) n += std::count(taken.begin(), taken.end(), entry.seq);
  }
  return n;
}

template <class Sink = SwitchableSink>
struct Harness {
  explicit Harness(MonitorPolicy policy = {}, PipelineOptions options = {})
      : engine(testing::first_response_within(minutes{30}, "v30"), store, EngineOptions{}),
        pipeline(engine, store, alerts, dead, options),
        lane(pipeline, nullptr, nullptr, ""),
        loop(policy, wall, steady, [this](const std::string& w) { warnings.push_back(w); }, nullptr) {
    EXPECT_TRUE(engine.open().ok());
    EXPECT_TRUE(pipeline.recover().ok());
    lane.set_caught_up(true);
  }
  StepReport step() {
    LiveLane* lanes[] = {&lane};
    auto report = loop.step(lanes);
    EXPECT_TRUE(report.ok()) << (report.ok() ? "" : report.error().message);
    return report.ok() ? *report : StepReport{};
  }
  uint64_t commits() const { return pipeline.counters().commits; }

  MemoryStateStore store;
  Sink alerts;
  NullSink dead;
  Engine engine;
  Pipeline pipeline;
  LiveLane lane;
  ManualClock wall{kT0};
  ManualMonotonicClock steady;
  MonitorLoop loop;
  std::vector<std::string> warnings;
};

TEST(MonitorLoop, NothingChangedNothingIsCommitted) {
  Harness<> h;
  for (int i = 0; i < 50; ++i) {
    h.steady.advance(milliseconds{200});
    h.step();
  }
  EXPECT_EQ(h.commits(), 0u);
}

TEST(MonitorLoop, RecordsAloneAreCommittedEvery200Milliseconds) {
  Harness<> h;
  ASSERT_TRUE(h.lane.apply(dispatched("d1", "c1", kT0), "1").ok());
  h.steady.advance(milliseconds{199});
  h.step();
  EXPECT_EQ(h.commits(), 0u);
  h.steady.advance(milliseconds{1});
  h.step();
  EXPECT_EQ(h.commits(), 1u);
  EXPECT_EQ(h.store.load_checkpoint().value().source_position, "1");
  h.steady.advance(milliseconds{200});
  h.step();
  EXPECT_EQ(h.commits(), 1u);  // nothing new since
}

TEST(MonitorLoop, AlertsAreCommittedAndDeliveredWithin20Milliseconds) {
  Harness<> h;
  ASSERT_TRUE(h.lane.apply(dispatched("d1", "c1", kT0), "1").ok());
  h.steady.advance(milliseconds{200});
  h.step();  // the dispatch committed
  h.wall.set(kT0 + minutes{24});
  h.steady.advance(seconds{1});  // tokens for the firing budget
  h.step();  // fires the warning and, 1 s after the last commit, commits and delivers it
  EXPECT_EQ(h.alerts.written, 1u);

  h.wall.set(kT0 + minutes{30});
  h.steady.advance(milliseconds{19});
  auto report = h.step();  // fired, but 19 ms after the last commit: waits
  EXPECT_EQ(report.fired, 1u);
  EXPECT_EQ(h.alerts.written, 1u);
  h.steady.advance(milliseconds{1});
  h.step();
  EXPECT_EQ(h.alerts.written, 2u);
}

TEST(MonitorLoop, FiringIsBoundedPerSecondSoABacklogDrainsAtAMeasuredRate) {
  MonitorPolicy policy;
  policy.max_timers_per_second = 10;
  Harness<> h(policy);
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(h.lane.apply(dispatched("d" + std::to_string(i), "c" + std::to_string(i), kT0), "1").ok());
  }
  h.wall.set(kT0 + minutes{24});  // 25 warnings due
  EXPECT_EQ(h.step().fired, 0u);  // no token yet
  h.steady.advance(seconds{1});
  EXPECT_EQ(h.step().fired, 10u);
  EXPECT_EQ(h.step().fired, 0u);
  h.steady.advance(milliseconds{500});
  EXPECT_EQ(h.step().fired, 5u);
  h.steady.advance(seconds{10});  // the bucket holds at most one second's worth
  EXPECT_EQ(h.step().fired, 10u);
}

TEST(MonitorLoop, ALaneBehindFiresOnItsEventTimeWatermark) {
  Harness<> h;
  h.lane.set_caught_up(false);
  ASSERT_TRUE(h.lane.apply(dispatched("d1", "c1", kT0), "1").ok());
  ASSERT_TRUE(h.lane.apply(dispatched("d2", "c2", kT0 + minutes{24}), "2").ok());
  h.wall.set(kT0 + hours{5});
  h.steady.advance(seconds{1});
  EXPECT_EQ(h.step().fired, 0u);  // watermark 00:24 (minus 1 ms): c1's warning not yet
  ASSERT_TRUE(h.lane.apply(dispatched("d3", "c3", kT0 + minutes{25}), "3").ok());
  h.steady.advance(seconds{1});
  EXPECT_EQ(h.step().fired, 1u);  // the watermark passed c1's warning
  h.lane.set_caught_up(true);
  h.steady.advance(seconds{1});
  EXPECT_EQ(h.step().fired, 8u);  // caught up: the wall clock, hours later: the rest of all three cases
}

TEST(MonitorLoop, RefusedDeliveryBacksOffAndWarnsWhenStuck) {
  Harness<> h;
  ASSERT_TRUE(h.lane.apply(dispatched("d1", "c1", kT0), "1").ok());
  h.wall.set(kT0 + minutes{24});
  h.alerts.refusing = true;
  h.steady.advance(seconds{1});
  h.step();  // fires, commits, first attempt refused
  const size_t first = h.alerts.attempts;
  EXPECT_GE(first, 1u);
  h.steady.advance(milliseconds{99});
  h.step();
  EXPECT_EQ(h.alerts.attempts, first);  // backing off 100 ms
  h.steady.advance(milliseconds{1});
  h.step();
  EXPECT_GT(h.alerts.attempts, first);  // retried
  const size_t second = h.alerts.attempts;
  h.steady.advance(milliseconds{199});
  h.step();
  EXPECT_EQ(h.alerts.attempts, second);  // now 200 ms
  EXPECT_TRUE(h.warnings.empty());
  // Backing off 100, 200, 400 ... ms: the attempt after 5 s without progress warns.
  for (int i = 0; i < 40; ++i) {
    h.steady.advance(milliseconds{200});
    h.step();
  }
  ASSERT_FALSE(h.warnings.empty());
  EXPECT_NE(h.warnings.front().find("broker unreachable"), std::string::npos) << h.warnings.front();
  EXPECT_TRUE(h.loop.delivery_stuck());
  h.alerts.refusing = false;
  h.steady.advance(seconds{5});
  h.step();
  EXPECT_EQ(h.alerts.written, 1u);
  EXPECT_FALSE(h.loop.delivery_stuck());
}

TEST(MonitorLoop, DrainCommitsDeliversAndRecordsTheDelivery) {
  Harness<> h;
  ASSERT_TRUE(h.lane.apply(dispatched("d1", "c1", kT0), "7").ok());
  h.wall.set(kT0 + minutes{24});
  h.steady.advance(seconds{1});
  auto fired = h.lane.fire(h.wall.now(), LaneClockPolicy{}, 100, 100);
  ASSERT_TRUE(fired.ok());
  LiveLane* lanes[] = {&h.lane};
  auto left = h.loop.drain(lanes, seconds{10});
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0u);
  EXPECT_EQ(h.alerts.written, 1u);
  EXPECT_TRUE(h.store.load_outbox().value().empty());  // a restart sends nothing again
  EXPECT_EQ(h.store.load_checkpoint().value().source_position, "7");
}

// Eight cases' first-response warnings fired (80 % of 30 min), then drained.
Result<size_t> drain_eight_warnings(Harness<CountingSink>& h) {
  for (int i = 0; i < 8; ++i) {
    const std::string n = std::to_string(i);
    EXPECT_TRUE(h.lane.apply(dispatched("d" + n, "c" + n, kT0), std::to_string(i + 1)).ok());
  }
  h.wall.set(kT0 + minutes{24});
  EXPECT_EQ(h.lane.fire(h.wall.now(), LaneClockPolicy{}, 100, 100).value(), 8u);
  LiveLane* lanes[] = {&h.lane};
  return h.loop.drain(lanes, seconds{10});
}

// Taken by a stop or a revocation, a long outbox leaves one delivery window
// (batch_records) at a time, each recorded by a commit before the next: cut
// off anywhere, at most one batch was delivered without a commit saying so,
// and only that is what a next owner (or a restart) sends again.
TEST(MonitorLoop, DrainHandsALongOutboxOverOneBatchAtATime) {
  Harness<CountingSink> h({}, PipelineOptions{.batch_records = 3});
  h.alerts.unrecorded = [&h](const std::vector<uint64_t>& taken) { return taken_but_unrecorded(h.store, taken); };
  auto left = drain_eight_warnings(h);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 0u);
  EXPECT_EQ(h.alerts.taken.size(), 8u);
  EXPECT_LE(h.alerts.most_unrecorded, 3u) << "more than one batch out before a commit recorded it";
  EXPECT_TRUE(h.store.load_outbox().value().empty());
}

TEST(MonitorLoop, ADrainCutOffLeavesAtMostOneBatchDeliveredButUnrecorded) {
  Harness<CountingSink> h({}, PipelineOptions{.batch_records = 3});
  h.alerts.refuse_after = 5;  // the broker goes away inside the second window
  auto left = drain_eight_warnings(h);
  ASSERT_TRUE(left.ok());
  EXPECT_EQ(*left, 5u) << "the first window delivered and recorded; the second refused in its flush";
  const size_t sent_again = taken_but_unrecorded(h.store, h.alerts.taken);
  EXPECT_EQ(h.alerts.taken.size(), 5u);
  EXPECT_EQ(sent_again, 2u);
  EXPECT_LE(sent_again, 3u);
}

}  // namespace
}  // namespace slawatch
