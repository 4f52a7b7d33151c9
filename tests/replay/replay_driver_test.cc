// The one replay driver: the same standing alerts for every partition count,
// each partition's output deterministic, and a crash between commits resumed
// without losing or repeating a record.
#include "replay/replay_driver.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <set>

#include "../engine/stream_fixture.h"
#include "io/io.h"
#include "replay/partitioner.h"
#include "sim/simulator.h"
#include "state/store.h"

namespace slawatch {
namespace {

using std::chrono::hours;

// Records from memory; fails with an error after `fail_after` records (a
// crash), positions are record counts.
class VectorSource final : public RecordSource {
 public:
  explicit VectorSource(const std::vector<std::string>& lines, size_t fail_after = SIZE_MAX)
      : lines_(lines), fail_after_(fail_after) {}
  Result<bool> next(RawRecord& out) override {
    if (next_ >= fail_after_) return make_error("the input broke (simulated crash)");
    if (next_ >= lines_.size()) return false;
    out = RawRecord{};
    out.bytes = lines_[next_];
    out.origin = "mem:" + std::to_string(next_ + 1);
    ++next_;
    return true;
  }
  std::string position() const override { return std::to_string(next_); }
  Status seek(std::string_view position) override {
    next_ = std::stoull(std::string(position));
    return ok_status();
  }

 private:
  const std::vector<std::string>& lines_;
  size_t fail_after_;
  size_t next_ = 0;
};

// Keeps every alert line it receives.
class CollectingSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    lines.emplace_back(record.payload);
    return ok_status();
  }
  Status flush() override { return ok_status(); }
  std::vector<std::string> lines;
};

std::vector<std::string> simulated_lines() {
  SimulatorOptions options;
  options.seed = 77;
  options.cases = 400;
  options.span = hours{12};
  options.late_fraction = 0.05;
  options.reorder_fraction = 0.05;
  options.duplicate_fraction = 0.02;
  options.malformed_fraction = 0.01;
  HotlineSimulator sim(options);
  std::vector<std::string> lines;
  SimRecord record;
  while (sim.next(record)) lines.push_back(record.line);
  return lines;
}

// N lanes over N memory stores (or the caller's stores), one shared sink.
struct Lanes {
  Lanes(std::shared_ptr<const RuleSet> rules, std::vector<StateStore*> stores, RecordSink& alerts)
      : locked(alerts) {
    EngineOptions engine_options;
    engine_options.fire_at_due_time = false;
    PipelineOptions pipeline_options;
    pipeline_options.batch_records = 100;
    for (StateStore* store : stores) {
      engines.push_back(std::make_unique<Engine>(rules, *store, engine_options));
      pipelines.push_back(std::make_unique<Pipeline>(*engines.back(), *store, locked, dead, pipeline_options));
      lanes.push_back(pipelines.back().get());
    }
  }
  LockedSink locked;
  NullSink dead;
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  std::vector<Pipeline*> lanes;
};

std::set<std::string> standing(const std::vector<std::string>& alert_lines) {
  std::set<std::string> out;
  for (const auto& line : alert_lines) {
    const auto id_at = line.find("\"alert_id\":\"") + 12;
    const std::string id = line.substr(id_at, line.find('"', id_at) - id_at);
    if (line.find("slawatch.alert.fired") != std::string::npos) out.insert(id);
    if (line.find("slawatch.alert.retracted") != std::string::npos) out.erase(id);
  }
  return out;
}

struct ReplayRun {
  std::vector<std::string> alerts;
  Instant final_clock;
};

ReplayRun replay_in_memory(const std::vector<std::string>& lines, size_t partitions) {
  std::vector<std::unique_ptr<MemoryStateStore>> stores;
  std::vector<StateStore*> raw;
  for (size_t i = 0; i < partitions; ++i) {
    stores.push_back(std::make_unique<MemoryStateStore>());
    raw.push_back(stores.back().get());
  }
  CollectingSink sink;
  Lanes lanes(testing::default_rules(), raw, sink);
  VectorSource source(lines);
  auto result = replay_history(source, lanes.lanes, ReplayOptions{std::nullopt, 150});
  EXPECT_TRUE(result.ok()) << (result.ok() ? "" : result.error().message);
  return ReplayRun{sink.lines, result.ok() ? result->final_clock : kMinInstant};
}

std::map<size_t, std::vector<std::string>> by_partition(const std::vector<std::string>& alert_lines, size_t n) {
  std::map<size_t, std::vector<std::string>> out;
  for (const auto& line : alert_lines) {
    const auto at = line.find("\"case_id\":\"") + 11;
    out[case_id_hash(line.substr(at, line.find('"', at) - at)) % n].push_back(line);
  }
  return out;
}

TEST(ReplayDriver, EveryPartitionCountLeavesTheSameStandingAlertsAtTheSameFinalClock) {
  const auto lines = simulated_lines();
  const ReplayRun one = replay_in_memory(lines, 1);
  const auto reference = standing(one.alerts);
  ASSERT_GT(reference.size(), 50u);
  for (size_t n : {2u, 3u, 5u}) {
    const ReplayRun run = replay_in_memory(lines, n);
    EXPECT_EQ(standing(run.alerts), reference) << n << " partitions";
    EXPECT_EQ(run.final_clock, one.final_clock) << n << " partitions";
  }
}

TEST(ReplayDriver, EachPartitionsOutputIsTheSameRunAfterRun) {
  const auto lines = simulated_lines();
  const auto first = by_partition(replay_in_memory(lines, 3).alerts, 3);
  const auto second = by_partition(replay_in_memory(lines, 3).alerts, 3);
  EXPECT_EQ(first, second);
}

TEST(ReplayDriver, ACrashBetweenBarriersResumesWithNothingLostOrRepeated) {
  const auto lines = simulated_lines();
  const auto reference = standing(replay_in_memory(lines, 3).alerts);
  MemoryStateStore s0, s1, s2;
  CollectingSink sink;
  {
    Lanes lanes(testing::default_rules(), {&s0, &s1, &s2}, sink);
    VectorSource crashing(lines, lines.size() / 2 + 17);  // mid-way between two barriers
    auto crashed = replay_history(crashing, lanes.lanes, ReplayOptions{std::nullopt, 150});
    ASSERT_FALSE(crashed.ok());
    EXPECT_NE(crashed.error().message.find("simulated crash"), std::string::npos);
  }
  Lanes resumed(testing::default_rules(), {&s0, &s1, &s2}, sink);
  VectorSource source(lines);
  auto result = replay_history(source, resumed.lanes, ReplayOptions{std::nullopt, 150});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->resumed);
  EXPECT_EQ(standing(sink.lines), reference);
}

TEST(ReplayDriver, ALaneAheadOfTheOthersSkipsWhatItAlreadyCommitted) {
  // A crash between two lanes' commits of one barrier: lane 0 committed the
  // later barrier, lane 1 the earlier. Lane 0 must not apply those records twice.
  const auto lines = simulated_lines();
  const auto reference = replay_in_memory(lines, 2);
  MemoryStateStore s0, s1;
  CollectingSink sink;
  {
    Lanes lanes(testing::default_rules(), {&s0, &s1}, sink);
    VectorSource crashing(lines, 460);  // barriers every 150 records: the last one at 450
    ASSERT_FALSE(replay_history(crashing, lanes.lanes, ReplayOptions{std::nullopt, 150}).ok());
  }
  // Roll lane 1 back to the barrier before: as if it crashed before committing 450.
  auto checkpoint = s1.load_checkpoint().value();
  ASSERT_EQ(checkpoint.source_position, "2/450|450");
  MemoryStateStore s1_earlier;
  {
    // Replaying the first 300 records into a fresh lane 1 gives its state at barrier 2.
    CollectingSink scratch;
    MemoryStateStore t0;
    Lanes lanes(testing::default_rules(), {&t0, &s1_earlier}, scratch);
    VectorSource crashing(lines, 310);
    ASSERT_FALSE(replay_history(crashing, lanes.lanes, ReplayOptions{std::nullopt, 150}).ok());
    ASSERT_EQ(s1_earlier.load_checkpoint().value().source_position, "2/300|300");
  }
  Lanes resumed(testing::default_rules(), {&s0, &s1_earlier}, sink);
  VectorSource source(lines);
  auto result = replay_history(source, resumed.lanes, ReplayOptions{std::nullopt, 150});
  ASSERT_TRUE(result.ok()) << result.error().message;
  // Reading resumed at record 300: lane 1 took its records from there, lane 0
  // (which had committed up to 450) only those after 450.
  CaseIdPartitioner partitioner(2);
  uint64_t lane0_after_450 = 0, lane1_after_300 = 0;
  for (size_t i = 300; i < lines.size(); ++i) {
    RawRecord r;
    r.bytes = lines[i];
    const size_t p = partitioner.partition_of(r);
    if (p == 0 && i >= 450) ++lane0_after_450;
    if (p == 1) ++lane1_after_300;
  }
  EXPECT_EQ(resumed.pipelines[0]->counters().records, lane0_after_450);
  EXPECT_EQ(resumed.pipelines[1]->counters().records, lane1_after_300);
  EXPECT_EQ(standing(sink.lines), standing(reference.alerts));
}

TEST(ReplayDriver, ALaneKilledBeforeItsFirstCommitStartsFromTheBeginning) {
  // Lane 0 committed barrier 1 (record 150), lane 1 nothing yet.
  const auto lines = simulated_lines();
  const auto reference = replay_in_memory(lines, 2);
  MemoryStateStore s0, s1_fresh;
  CollectingSink sink;
  {
    MemoryStateStore s1;
    Lanes lanes(testing::default_rules(), {&s0, &s1}, sink);
    VectorSource crashing(lines, 160);
    ASSERT_FALSE(replay_history(crashing, lanes.lanes, ReplayOptions{std::nullopt, 150}).ok());
  }
  ASSERT_EQ(s0.load_checkpoint().value().source_position, "2/150|150");
  Lanes resumed(testing::default_rules(), {&s0, &s1_fresh}, sink);
  VectorSource source(lines);
  auto result = replay_history(source, resumed.lanes, ReplayOptions{std::nullopt, 150});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_TRUE(result->resumed);
  EXPECT_EQ(standing(sink.lines), standing(reference.alerts));
}

TEST(ReplayDriver, AStateWrittenWithAnotherPartitionCountIsRefused) {
  const auto lines = simulated_lines();
  MemoryStateStore s0, s1;
  CollectingSink sink;
  {
    Lanes lanes(testing::default_rules(), {&s0, &s1}, sink);
    VectorSource crashing(lines, 400);
    ASSERT_FALSE(replay_history(crashing, lanes.lanes, ReplayOptions{std::nullopt, 150}).ok());
  }
  {
    Lanes one(testing::default_rules(), {&s0}, sink);
    VectorSource source(lines);
    auto refused = replay_history(source, one.lanes, ReplayOptions{std::nullopt, 150});
    ASSERT_FALSE(refused.ok());
    EXPECT_NE(refused.error().message.find("same --partitions"), std::string::npos) << refused.error().message;
  }
  MemoryStateStore s2;
  Lanes three(testing::default_rules(), {&s0, &s1, &s2}, sink);
  VectorSource source(lines);
  auto refused = replay_history(source, three.lanes, ReplayOptions{std::nullopt, 150});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("--partitions 2"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace slawatch
