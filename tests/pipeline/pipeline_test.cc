// Pipeline: batching, the outbox and delivery. Output leaves only after the
// commit that recorded it; a failed delivery keeps it pending (retried in
// order, nothing dropped); a restart delivers what a crash left behind first;
// rejected records become dead letters with their original bytes and headers.
#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "records.h"
#include "state/case_record.h"
#include "rules/rules.h"

namespace slawatch {
namespace {

// Records what reaches it; fails the next `failures` flushes when asked.
class RecordingSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    written.push_back(Written{record.seq, std::string(record.key), std::string(record.payload),
                              record.headers != nullptr ? *record.headers : RecordHeaders{}});
    return ok_status();
  }
  Status flush() override {
    if (failures > 0) {
      --failures;
      written.clear();  // what a refused attempt wrote does not count
      return make_error("broker unavailable");
    }
    delivered.insert(delivered.end(), written.begin(), written.end());
    written.clear();
    return ok_status();
  }
  struct Written {
    uint64_t seq;
    std::string key;
    std::string payload;
    RecordHeaders headers;
  };
  std::vector<Written> written;
  std::vector<Written> delivered;
  int failures = 0;
};

// Acknowledges asynchronously, like a broker: written records are in flight
// until the test acknowledges or refuses them; a record in flight is not sent twice.
class AsyncSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    if (!in_flight.emplace(record.seq, State::waiting).second) return ok_status();
    sent.push_back(record.seq);
    return ok_status();
  }
  Status flush() override { return make_error("the live path must not wait"); }
  Status collect_acknowledged(std::span<const uint64_t> written, std::vector<uint64_t>& acknowledged) override {
    size_t refused = 0;
    for (const uint64_t seq : written) {
      auto it = in_flight.find(seq);
      if (it == in_flight.end()) continue;
      if (it->second == State::acked) acknowledged.push_back(seq);
      if (it->second == State::refused) ++refused;
      if (it->second != State::waiting) in_flight.erase(it);
    }
    if (refused > 0) return make_error(std::to_string(refused) + " refused");
    return ok_status();
  }
  enum class State { waiting, acked, refused };
  std::map<uint64_t, State> in_flight;
  std::vector<uint64_t> sent;
};

// The shipped rule set: first response 30 min after a dispatch, stages
// warning 80%, breach 100%, escalated 200%.
std::shared_ptr<const RuleSet> rules() {
  auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  EXPECT_TRUE(loaded.diagnostics.empty()) << loaded.diagnostics.front().to_string();
  return loaded.rules;
}

const std::string kCreated = event_line("e1", "created", "C-1", "2026-03-02T09:00:00.000+08:00",
                                        R"({"category":"noise","priority":"normal","channel":"phone"})");
const std::string kDispatched =
    event_line("e2", "dispatched", "C-1", "2026-03-02T09:00:00.000+08:00", R"({"department":"noise"})");
const std::string kLater =
    event_line("e3", "created", "C-2", "2026-03-02T10:00:00.000+08:00",
               R"({"category":"noise","priority":"normal","channel":"phone"})");

struct Harness {
  explicit Harness(MemoryStateStore& s, size_t batch = 100, std::shared_ptr<const Roster> roster = nullptr)
      : Harness(s, options(batch, std::move(roster))) {}
  Harness(MemoryStateStore& s, const PipelineOptions& pipeline_options, EngineOptions engine_options = {})
      : store(s), engine(rules(), store, engine_options), pipeline(engine, store, alerts, dead, pipeline_options) {
    EXPECT_TRUE(engine.open().ok());
  }
  static PipelineOptions options(size_t batch, std::shared_ptr<const Roster> roster) {
    PipelineOptions o;
    o.batch_records = batch;
    o.roster = std::move(roster);
    return o;
  }
  MemoryStateStore& store;
  RecordingSink alerts;
  RecordingSink dead;
  Engine engine;
  Pipeline pipeline;
};

TEST(Pipeline, OutputLeavesOnlyAfterTheCommitThatRecordedIt) {
  MemoryStateStore store;
  Harness h(store);
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kDispatched)).ok());
  // Clock 10:00: warning (09:24), breach (09:30) and escalated (10:00, exactly due) fire.
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater)).ok());
  EXPECT_EQ(h.pipeline.counters().alerts_fired, 3u);
  EXPECT_TRUE(h.alerts.delivered.empty()) << "nothing may leave before the commit";
  EXPECT_EQ(store.commits(), 0u);
  ASSERT_TRUE(h.pipeline.maybe_commit("3", true).ok());
  ASSERT_EQ(h.alerts.delivered.size(), 3u);
  EXPECT_EQ(h.alerts.delivered[0].key, "C-1");
  EXPECT_NE(h.alerts.delivered[0].payload.find("C-1/first-response/1/warning"), std::string::npos);
  EXPECT_NE(h.alerts.delivered[1].payload.find("C-1/first-response/1/breach"), std::string::npos);
  EXPECT_NE(h.alerts.delivered[2].payload.find("C-1/first-response/1/escalated"), std::string::npos);
  // Delivered entries are deleted from the outbox by the next commit.
  EXPECT_EQ(store.load_outbox()->size(), 3u);
  ASSERT_TRUE(h.pipeline.maybe_commit("3", true).ok());
  EXPECT_TRUE(store.load_outbox()->empty());
}

// A clock move that makes many stages due at once fires them in slices of
// batch_records timers, each slice committed before the next: the same alerts
// in the same order as unsliced, but never all in one batch.
TEST(Pipeline, ReplayClockMoveFiresInCommittedSlicesOfBatchRecordsTimers) {
  auto run = [](bool sliced, MemoryStateStore& store, std::vector<size_t>* slice_sizes) {
    Harness h(store, 5);
    h.pipeline.set_delivery_observer([&](const std::vector<OutboxEntry>& group) {
      if (slice_sizes) slice_sizes->push_back(group.size());
      return ok_status();
    });
    for (int c = 0; c < 4; ++c) {
      const std::string id = "D-" + std::to_string(c);
      auto r = record(event_line("d" + std::to_string(c), "dispatched", id, "2026-03-02T09:00:00.000+08:00",
                                 R"({"department":"noise"})"));
      EXPECT_TRUE((sliced ? h.pipeline.on_record_replay(r, "p") : h.pipeline.on_record_replay(r)).ok());
    }
    // Clock 10:00: each case's warning, breach and escalated are due: 12 timers' worth.
    const size_t commits_before = store.commits();
    EXPECT_TRUE((sliced ? h.pipeline.on_record_replay(record(kLater), "p") : h.pipeline.on_record_replay(record(kLater))).ok());
    const size_t commits_during = store.commits() - commits_before;
    EXPECT_TRUE(h.pipeline.maybe_commit("p", true).ok());
    std::vector<std::string> alert_ids;  // with the event type: fired, resolved...
    for (const auto& w : h.alerts.delivered) {
      const size_t type = w.payload.find("\"type\"");
      const size_t id = w.payload.find("\"alert_id\"");
      alert_ids.push_back(w.payload.substr(type, w.payload.find(',', type) - type) +
                          w.payload.substr(id, w.payload.find(',', id) - id));
    }
    return std::make_pair(commits_during, alert_ids);
  };
  MemoryStateStore whole_store;
  MemoryStateStore sliced_store;
  std::vector<size_t> slices;
  const auto whole = run(false, whole_store, nullptr);
  const auto sliced = run(true, sliced_store, &slices);
  EXPECT_EQ(whole.first, 0u) << "unsliced: the clock move is one batch";
  EXPECT_EQ(whole.second.size(), 12u);
  EXPECT_EQ(sliced.second, whole.second);
  EXPECT_GE(sliced.first, 2u) << "12 timers in slices of 5: committed at least twice while firing";
  for (size_t size : slices) EXPECT_LE(size, 5u) << "no delivered group holds more than one slice";
}

// A batch of records longer than the engine's cache commits once the cases it
// touched fill twice the cache's budget, at the position after the record
// that filled it; what it stores and delivers is what one long batch would.
TEST(Pipeline, ReplayCommitsWhenTheBatchFillsTheEnginesCache) {
  struct Run {
    MemoryStateStore store;
    std::unique_ptr<Harness> h;
    size_t largest_cache = 0;
    std::vector<std::string> checkpoints;  // input position of each commit
  };
  auto run = [](Run& r, size_t cache_records) {
    EngineOptions engine_options;
    engine_options.case_cache_records = cache_records;
    r.h = std::make_unique<Harness>(r.store, Harness::options(1000, nullptr), engine_options);
    const Instant start = *parse_rfc3339("2026-03-02T09:00:00.000+08:00");
    for (int c = 0; c < 40; ++c) {
      // Dispatched a minute apart: each first response is due 30 minutes on,
      // so the later records also fire the earlier cases' stages.
      const size_t commits = r.store.commits();
      ASSERT_TRUE(r.h->pipeline.on_record_replay(dispatched("d" + std::to_string(c), "K-" + std::to_string(c),
                                                          start + std::chrono::minutes(c)),
                                               "after-" + std::to_string(c))
                      .ok());
      if (r.store.commits() > commits) r.checkpoints.push_back(r.store.load_checkpoint()->source_position);
      r.largest_cache = std::max(r.largest_cache, r.h->engine.cached_cases());
    }
    ASSERT_TRUE(r.h->pipeline.maybe_commit("end", true).ok());
    ASSERT_TRUE(r.h->pipeline.maybe_commit("end", true).ok());
  };
  Run small;
  Run large;
  run(small, 4);
  run(large, 32768);
  EXPECT_LE(small.largest_cache, 8u) << "never more than twice the budget of 4";
  // The first when the eighth case arrives; then whenever new cases and the
  // cases whose stages fire (read back to fire them) fill it again.
  ASSERT_GE(small.checkpoints.size(), 5u);
  EXPECT_EQ(small.checkpoints.front(), "after-7");
  for (const auto& position : small.checkpoints) EXPECT_TRUE(position.starts_with("after-")) << position;
  EXPECT_TRUE(large.checkpoints.empty()) << "40 records in a batch of 1000 and a cache of 32768: no early commit";
  ASSERT_EQ(small.h->alerts.delivered.size(), large.h->alerts.delivered.size());
  EXPECT_GT(small.h->alerts.delivered.size(), 0u);
  for (size_t i = 0; i < small.h->alerts.delivered.size(); ++i) {
    EXPECT_EQ(small.h->alerts.delivered[i].payload, large.h->alerts.delivered[i].payload) << i;
  }
  for (int c = 0; c < 40; ++c) {
    const CaseId id{"K-" + std::to_string(c)};
    EXPECT_EQ(*small.store.load_case(id), *large.store.load_case(id)) << id.str();
  }
}

// The notify roles of fired alerts name the people on duty at due_at (for
// the case's department); without a roster they stay null.
TEST(Pipeline, RosterNamesThePeopleOnDutyAtTheDueTime) {
  const auto path = std::filesystem::temp_directory_path() / ("slawatch-pipeline-roster-" + std::to_string(::getpid()) + ".yaml");
  std::ofstream(path) << "defaults: {time_zone: Asia/Shanghai, handover: \"09:20\", period: 1d, starts: 2026-03-01}\n"
                         "city: {hotline_office: Hu Min, discipline_inspection: {order: [Ma Li, Zhou Bo]}}\n"
                         "departments: [{id: noise, head: Liu Jun, duty_officers: {order: [Chen Wei, Li Na]}}]\n";
  auto roster = load_roster_or_throw(path.string());
  std::filesystem::remove(path);
  MemoryStateStore with_store, without_store;
  Harness with(with_store, 100, roster), without(without_store);
  for (Harness* h : {&with, &without}) {
    for (const auto& line : {kCreated, kDispatched, kLater}) ASSERT_TRUE(h->pipeline.on_record_replay(record(line)).ok());
    ASSERT_TRUE(h->pipeline.maybe_commit("3", true).ok());
    ASSERT_EQ(h->alerts.delivered.size(), 3u);
  }
  // warning due 09:24 (day 2 of the rotation from 03-01 09:20: Li Na); breach 09:30; escalated 10:00.
  EXPECT_NE(with.alerts.delivered[0].payload.find(R"("notify":[{"role":"department.duty_officer","person":"Li Na"}])"),
            std::string::npos) << with.alerts.delivered[0].payload;
  EXPECT_NE(with.alerts.delivered[1].payload.find(
                R"("notify":[{"role":"department.duty_officer","person":"Li Na"},{"role":"department.head","person":"Liu Jun"}])"),
            std::string::npos) << with.alerts.delivered[1].payload;
  EXPECT_NE(with.alerts.delivered[2].payload.find(
                R"("notify":[{"role":"city.hotline_office","person":"Hu Min"},{"role":"city.discipline_inspection","person":"Zhou Bo"}])"),
            std::string::npos) << with.alerts.delivered[2].payload;
  EXPECT_NE(without.alerts.delivered[1].payload.find(
                R"("notify":[{"role":"department.duty_officer","person":null},{"role":"department.head","person":null}])"),
            std::string::npos) << without.alerts.delivered[1].payload;
}

// The alert index keeps each alert's fields, not its text: what a reader gets
// back for an alert id is, byte for byte, the latest alert event delivered
// for it (fired with people named or null, then resolved, and retracted).
TEST(Pipeline, AlertIndexReadsBackTheLatestEventDeliveredForEachAlert) {
  MemoryStateStore store;
  Harness h(store, 100);
  // C-1 and R-1 dispatched at 09:00; at 10:00 warning, breach and escalated
  // have fired for both. R-1 is acknowledged at 10:05: its stages resolve.
  // C-1's acknowledgement arrives late, stamped 09:10: its stages never were
  // breached and are retracted.
  const std::vector<std::string> lines = {
      kCreated, kDispatched,
      event_line("r0", "dispatched", "R-1", "2026-03-02T09:00:00.000+08:00", R"({"department":"noise"})"), kLater,
      event_line("r1", "acknowledged", "R-1", "2026-03-02T10:05:00.000+08:00", R"({"department":"noise"})"),
      event_line("c9", "acknowledged", "C-1", "2026-03-02T09:10:00.000+08:00", R"({"department":"noise"})")};
  for (const auto& line : lines) ASSERT_TRUE(h.pipeline.on_record_replay(record(line)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("6", true).ok());
  std::map<std::string, std::string> latest;  // alert id -> last delivered payload
  std::set<std::string> kinds;
  for (const auto& w : h.alerts.delivered) {
    const size_t at_id = w.payload.find(R"("alert_id":")") + 12;
    latest[w.payload.substr(at_id, w.payload.find('"', at_id) - at_id)] = w.payload;
    const size_t at_type = w.payload.find(R"("type":"slawatch.alert.)") + 23;
    kinds.insert(w.payload.substr(at_type, w.payload.find('"', at_type) - at_type));
  }
  std::map<std::string, std::string> indexed;
  ASSERT_TRUE(store.for_each_alert([&](const AlertIndexEntry& e) {
    indexed[e.alert_id] = e.event;
    return true;
  }).ok());
  EXPECT_EQ(indexed, latest);
  EXPECT_EQ(kinds, (std::set<std::string>{"fired", "resolved", "retracted"})) << "every kind went through the index";
  EXPECT_TRUE(h.dead.delivered.empty());
}

// Output ends a replay batch too: once max_batch_output alerts wait, the
// batch commits at the position after the record that produced them.
TEST(Pipeline, ReplayCommitsWhenTheBatchsOutputReachesItsBound) {
  auto run = [](size_t max_batch_output, MemoryStateStore& store) {
    PipelineOptions options = Harness::options(1000, nullptr);
    options.max_batch_output = max_batch_output;
    auto h = std::make_unique<Harness>(store, options);
    EXPECT_TRUE(h->pipeline.on_record_replay(record(kCreated), "after-1").ok());
    EXPECT_TRUE(h->pipeline.on_record_replay(record(kDispatched), "after-2").ok());
    EXPECT_EQ(store.commits(), 0u);
    // Clock 10:00: warning, breach and escalated fire.
    EXPECT_TRUE(h->pipeline.on_record_replay(record(kLater), "after-3").ok());
    return h;
  };
  MemoryStateStore bounded_store;
  const auto bounded = run(2, bounded_store);
  EXPECT_EQ(bounded_store.commits(), 1u);
  EXPECT_EQ(bounded_store.load_checkpoint()->source_position, "after-3");
  // Fired in slices of the bound: two committed, then delivered; the third
  // waits in the next batch.
  EXPECT_EQ(bounded->alerts.delivered.size(), 2u);
  EXPECT_TRUE(bounded->pipeline.has_uncommitted_output());
  MemoryStateStore unbounded_store;
  const auto unbounded = run(SIZE_MAX, unbounded_store);
  EXPECT_EQ(unbounded_store.commits(), 0u) << "3 records of a batch of 1000";
  EXPECT_TRUE(unbounded->alerts.delivered.empty());
}

// A cohort of cases falling due at once fires in slices no longer than the
// output bound, each committed before the next: no batch holds more alerts
// than the bound however large batch_records is, and the alerts are those of
// an unbounded run, in the same order.
TEST(Pipeline, ReplayFiresACohortFallingDueTogetherInSlicesOfTheOutputBound) {
  auto run = [](size_t max_batch_output, MemoryStateStore& store, std::vector<size_t>& alerts_per_commit) {
    PipelineOptions options = Harness::options(1000, nullptr);
    options.max_batch_output = max_batch_output;
    auto h = std::make_unique<Harness>(store, options);
    h->pipeline.set_delivery_observer([&alerts_per_commit](const std::vector<OutboxEntry>& delivered) {
      alerts_per_commit.push_back(delivered.size());
      return ok_status();
    });
    const Instant nine = *parse_rfc3339("2026-03-02T09:00:00.000+08:00");
    for (int i = 0; i < 10; ++i) {  // ten cases dispatched at 09:00: stages due 09:24, 09:30 and 10:00
      EXPECT_TRUE(h->pipeline.on_record_replay(dispatched("d" + std::to_string(i), "C-" + std::to_string(i), nine),
                                               "after-" + std::to_string(i)).ok());
    }
    EXPECT_EQ(store.commits(), 0u);
    EXPECT_TRUE(h->pipeline.on_record_replay(record(kLater), "after-later").ok());  // clock 10:00: 30 alerts
    EXPECT_TRUE(h->pipeline.maybe_commit("end", true).ok());
    return h;
  };
  MemoryStateStore bounded_store;
  std::vector<size_t> bounded_commits;
  const auto bounded = run(4, bounded_store, bounded_commits);
  MemoryStateStore unbounded_store;
  std::vector<size_t> unbounded_commits;
  const auto unbounded = run(SIZE_MAX, unbounded_store, unbounded_commits);

  ASSERT_EQ(unbounded->alerts.delivered.size(), 30u);
  EXPECT_EQ(unbounded_commits, std::vector<size_t>{30}) << "one batch of 1000 records";
  ASSERT_EQ(bounded->alerts.delivered.size(), 30u);
  EXPECT_GE(bounded_commits.size(), 8u);
  for (const size_t n : bounded_commits) EXPECT_LE(n, 4u) << "a batch past its output bound";
  for (size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(bounded->alerts.delivered[i].payload, unbounded->alerts.delivered[i].payload) << i;
  }
}

// Replay asks for the input position only when a commit needs it: building
// it for every record was a measurable share of plain replay.
TEST(Pipeline, ReplayBuildsThePositionOnlyForACommit) {
  MemoryStateStore store;
  PipelineOptions options = Harness::options(1000, nullptr);
  options.max_batch_output = 2;
  Harness h(store, options);
  int built = 0;
  std::string position;
  const Pipeline::PositionAfter position_after = [&] {
    ++built;
    return position;
  };
  position = "after-1";
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated), position_after).ok());
  position = "after-2";
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kDispatched), position_after).ok());
  EXPECT_EQ(built, 0) << "no commit yet";
  EXPECT_FALSE(h.pipeline.batch_full());
  position = "after-3";
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater), position_after).ok());  // three alerts: a commit
  EXPECT_EQ(built, 1);
  EXPECT_EQ(store.commits(), 1u);
  EXPECT_EQ(store.load_checkpoint()->source_position, "after-3");
}

// A store nothing reads alerts from (replay without --state) gets no alert
// index; the alerts delivered are the same byte for byte.
TEST(Pipeline, WithoutAnAlertIndexTheSameAlertsLeaveAndNoneIsIndexed) {
  auto run = [](bool index_alerts, MemoryStateStore& store) {
    PipelineOptions options = Harness::options(100, nullptr);
    options.index_alerts = index_alerts;
    Harness h(store, options);
    for (const auto& line : {kCreated, kDispatched, kLater}) EXPECT_TRUE(h.pipeline.on_record_replay(record(line)).ok());
    EXPECT_TRUE(h.pipeline.maybe_commit("3", true).ok());
    std::vector<std::string> payloads;
    for (const auto& w : h.alerts.delivered) payloads.push_back(w.payload);
    return payloads;
  };
  auto indexed_ids = [](MemoryStateStore& store) {
    std::vector<std::string> ids;
    EXPECT_TRUE(store.for_each_alert([&](const AlertIndexEntry& e) {
      ids.push_back(e.alert_id);
      return true;
    }).ok());
    return ids;
  };
  MemoryStateStore with_index;
  MemoryStateStore without_index;
  const auto indexed_run = run(true, with_index);
  const auto unindexed_run = run(false, without_index);
  EXPECT_EQ(indexed_run.size(), 3u);
  EXPECT_EQ(unindexed_run, indexed_run);
  EXPECT_EQ(indexed_ids(with_index).size(), 3u);
  EXPECT_TRUE(indexed_ids(without_index).empty());
}

TEST(Pipeline, FailedDeliveryStaysPendingAndIsRetriedInOrder) {
  MemoryStateStore store;
  Harness h(store);
  h.alerts.failures = 2;
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater)).ok());
  ASSERT_TRUE(h.pipeline.commit_if_due("3", true).ok());
  EXPECT_FALSE(h.pipeline.deliver_pending().ok());
  EXPECT_EQ(h.pipeline.pending_deliveries(), 3u);
  EXPECT_FALSE(h.pipeline.deliver_pending().ok());
  EXPECT_EQ(h.pipeline.counters().delivery_failures, 2u);
  EXPECT_TRUE(h.alerts.delivered.empty());
  // Committing again while delivery is blocked keeps the record in the outbox.
  ASSERT_TRUE(h.pipeline.commit_if_due("3", true).ok());
  EXPECT_EQ(store.load_outbox()->size(), 3u);
  ASSERT_TRUE(h.pipeline.deliver_pending().ok());
  ASSERT_EQ(h.alerts.delivered.size(), 3u);
  EXPECT_LT(h.alerts.delivered[0].seq, h.alerts.delivered[1].seq);
  EXPECT_LT(h.alerts.delivered[1].seq, h.alerts.delivered[2].seq);
  EXPECT_EQ(h.pipeline.pending_deliveries(), 0u);
  ASSERT_TRUE(h.pipeline.commit_if_due("3", true).ok());
  EXPECT_TRUE(store.load_outbox()->empty());
}

TEST(Pipeline, AsynchronousDeliveryRetiresOnlyAcknowledgedRecords) {
  MemoryStateStore store;
  AsyncSink alerts;
  NullSink dead;
  Engine engine(rules(), store, EngineOptions{});
  ASSERT_TRUE(engine.open().ok());
  Pipeline pipeline(engine, store, alerts, dead, Harness::options(100, nullptr));
  ASSERT_TRUE(pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(pipeline.on_record_replay(record(kDispatched)).ok());
  ASSERT_TRUE(pipeline.on_record_replay(record(kLater)).ok());
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  ASSERT_TRUE(pipeline.deliver_available().ok());  // sends, does not wait
  ASSERT_EQ(alerts.sent.size(), 3u);
  EXPECT_EQ(pipeline.pending_deliveries(), 3u);
  const uint64_t first = alerts.sent[0], second = alerts.sent[1], third = alerts.sent[2];

  alerts.in_flight[second] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(alerts.sent.size(), 3u) << "records in flight are not sent again";
  EXPECT_EQ(pipeline.pending_deliveries(), 2u);
  EXPECT_TRUE(pipeline.has_delivered_to_record());
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  EXPECT_EQ(store.load_outbox()->size(), 2u) << "the acknowledged record leaves the outbox with the next commit";

  alerts.in_flight[first] = AsyncSink::State::refused;
  EXPECT_FALSE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.counters().delivery_failures, 1u);
  EXPECT_EQ(pipeline.pending_deliveries(), 2u);
  ASSERT_TRUE(pipeline.deliver_available().ok());  // the refused record goes out again, same seq
  ASSERT_EQ(alerts.sent.size(), 4u);
  EXPECT_EQ(alerts.sent[3], first);

  alerts.in_flight[first] = AsyncSink::State::acked;
  alerts.in_flight[third] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.pending_deliveries(), 0u);
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  EXPECT_TRUE(store.load_outbox()->empty());
}

// A store whose replica (the changelog a next owner restores from) holds
// the last commit only when the test says so.
class ReplicaGatedStore final : public StateStore {
 public:
  Result<std::optional<std::string>> load_case(const CaseId& id) override { return inner.load_case(id); }
  Result<std::vector<TimerKey>> scan_timers(Instant after, size_t limit) override {
    return inner.scan_timers(after, limit);
  }
  Result<std::vector<OutboxEntry>> load_outbox() override { return inner.load_outbox(); }
  Result<Checkpoint> load_checkpoint() override { return inner.load_checkpoint(); }
  Result<uint64_t> pending_timers() override { return inner.pending_timers(); }
  Result<Tallies> tallies() override { return inner.tallies(); }
  Status commit(StateBatch& batch) override {
    replicated = false;
    return inner.commit(batch);
  }
  CommitTotals commit_totals() const override { return inner.commit_totals(); }
  Result<bool> last_commit_replicated(bool wait) override {
    ++asked;
    if (wait) replicated = true;
    return replicated;
  }
  Status for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) override {
    return inner.for_each_alert(fn);
  }
  Status for_each_case(const std::function<bool(const CaseId&, std::string_view)>& fn) override {
    return inner.for_each_case(fn);
  }
  MemoryStateStore inner;
  bool replicated = true;
  int asked = 0;
};

// A pipeline over a ReplicaGatedStore, fed C-1's three alerts (warning,
// breach, escalated) and committed.
template <class Sink>
struct GatedHarness {
  explicit GatedHarness(size_t batch) : engine(rules(), store, EngineOptions{}),
      pipeline(engine, store, alerts, dead, Harness::options(batch, nullptr)) {
    EXPECT_TRUE(engine.open().ok());
    for (const auto& line : {kCreated, kDispatched, kLater}) EXPECT_TRUE(pipeline.on_record_replay(record(line)).ok());
  }
  ReplicaGatedStore store;
  Sink alerts;
  NullSink dead;
  Engine engine;
  Pipeline pipeline;
};

// Issue 14: a next owner restores the changelog, so output delivered before
// the changelog held its commit would be produced and delivered again.
TEST(Pipeline, OutputLeavesOnlyOnceTheReplicaHoldsItsCommit) {
  GatedHarness<AsyncSink> h(100);
  auto [store, alerts, pipeline] = std::tie(h.store, h.alerts, h.pipeline);
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  ASSERT_FALSE(store.replicated);
  ASSERT_TRUE(pipeline.deliver_available().ok()) << "waiting for the replica is not a failure";
  EXPECT_TRUE(alerts.sent.empty()) << "nothing leaves before the changelog holds its commit";
  EXPECT_EQ(pipeline.pending_deliveries(), 3u);
  EXPECT_EQ(pipeline.counters().delivery_failures, 0u);
  store.replicated = true;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(alerts.sent.size(), 3u);
}

// Issue 14: entries delivered but not yet recorded as delivered by a commit
// the changelog holds are sent again by a next owner, so at most one batch of
// them may be out at a time.
TEST(Pipeline, AtMostOneBatchIsOutBeforeACommitRecordsItsDelivery) {
  GatedHarness<AsyncSink> h(2);  // 3 alerts, batches of 2
  auto [store, alerts, pipeline] = std::tie(h.store, h.alerts, h.pipeline);
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  store.replicated = true;
  EXPECT_EQ(pipeline.delivery_window(), 2u);
  ASSERT_TRUE(pipeline.deliver_available().ok());
  ASSERT_EQ(alerts.sent.size(), 2u) << "in flight count against the batch too";
  for (const uint64_t seq : alerts.sent) alerts.in_flight[seq] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.delivery_window(), 0u);
  EXPECT_EQ(alerts.sent.size(), 2u) << "the third waits for the commit recording the first two";
  EXPECT_EQ(pipeline.pending_deliveries(), 1u);

  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());  // records the removal of the two
  EXPECT_EQ(pipeline.delivery_window(), 0u) << "their removal is not in the changelog yet";
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(alerts.sent.size(), 2u) << "...the third waits until the changelog holds that commit";
  store.replicated = true;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  ASSERT_EQ(alerts.sent.size(), 3u);
  alerts.in_flight[alerts.sent[2]] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.pending_deliveries(), 0u);
}

// A stop or a revocation hands output over with deliver_window: it waits for
// the replica and for acknowledgements, keeps to one batch, and what a flush
// that ran out of time saw acknowledged is delivered (the rest stays pending).
TEST(Pipeline, DeliverWindowWaitsForTheReplicaButKeepsToOneBatch) {
  GatedHarness<AsyncSink> h(2);  // 3 alerts, batches of 2; AsyncSink's flush never succeeds
  auto [store, alerts, pipeline] = std::tie(h.store, h.alerts, h.pipeline);
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  ASSERT_FALSE(store.replicated);
  EXPECT_FALSE(pipeline.deliver_window().ok()) << "nothing acknowledged in time";
  EXPECT_TRUE(store.replicated) << "it waited for the changelog";
  EXPECT_EQ(alerts.sent.size(), 2u) << "one batch";
  EXPECT_EQ(pipeline.pending_deliveries(), 3u);

  alerts.in_flight[alerts.sent[0]] = AsyncSink::State::acked;
  EXPECT_FALSE(pipeline.deliver_window().ok()) << "the second still waits";
  EXPECT_EQ(alerts.sent.size(), 2u) << "in flight: not sent twice";
  EXPECT_EQ(pipeline.pending_deliveries(), 2u) << "the acknowledged one is delivered";
  ASSERT_TRUE(pipeline.has_delivered_to_record());

  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  alerts.in_flight[alerts.sent[1]] = AsyncSink::State::acked;
  EXPECT_FALSE(pipeline.deliver_window().ok());
  EXPECT_EQ(alerts.sent.size(), 3u) << "the window reopened once the changelog held the recording commit";
  EXPECT_EQ(pipeline.pending_deliveries(), 1u);
}

// Only the last commit can be missing from the changelog (a store with a
// replica waits for the previous one before committing), so only its output
// waits: earlier commits' output keeps flowing while commits follow each other.
TEST(Pipeline, OnlyTheLastCommitsOutputWaitsForTheReplica) {
  GatedHarness<AsyncSink> h(100);
  auto [store, alerts, pipeline] = std::tie(h.store, h.alerts, h.pipeline);
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());  // C-1's three alerts
  ASSERT_TRUE(pipeline.on_record_replay(record("not json")).ok());  // a dead letter
  ASSERT_TRUE(pipeline.commit_if_due("4", true).ok());
  ASSERT_FALSE(store.replicated);
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(alerts.sent.size(), 3u) << "the first commit's alerts leave";
  for (const uint64_t seq : alerts.sent) alerts.in_flight[seq] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.pending_deliveries(), 1u) << "the dead letter of the last commit waits";
  EXPECT_TRUE(pipeline.output_waits_for_replica()) << "the live loop polls again soon";
  store.replicated = true;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.pending_deliveries(), 0u);
  EXPECT_FALSE(pipeline.output_waits_for_replica());
}

// A stop drains: the blocking delivery waits for the replica instead of skipping.
TEST(Pipeline, BlockingDeliveryWaitsForTheReplica) {
  GatedHarness<RecordingSink> h(100);
  ASSERT_TRUE(h.pipeline.maybe_commit("3", true).ok());
  EXPECT_GT(h.store.asked, 0);
  EXPECT_EQ(h.alerts.delivered.size(), 3u);
}

TEST(Pipeline, AsynchronousDeliveryShowsOnlyAcknowledgedRecordsToTheObserver) {
  MemoryStateStore store;
  AsyncSink alerts;
  NullSink dead;
  Engine engine(rules(), store, EngineOptions{});
  ASSERT_TRUE(engine.open().ok());
  Pipeline pipeline(engine, store, alerts, dead, Harness::options(100, nullptr));
  std::vector<size_t> group_sizes;
  int refuse = 1;
  pipeline.set_delivery_observer([&](const std::vector<OutboxEntry>& group) -> Status {
    group_sizes.push_back(group.size());
    if (refuse-- > 0) return make_error("audit log full");
    return ok_status();
  });
  ASSERT_TRUE(pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(pipeline.on_record_replay(record(kDispatched)).ok());
  ASSERT_TRUE(pipeline.on_record_replay(record(kLater)).ok());
  ASSERT_TRUE(pipeline.commit_if_due("3", true).ok());
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_TRUE(group_sizes.empty()) << "nothing acknowledged yet";
  alerts.in_flight[alerts.sent[0]] = AsyncSink::State::acked;
  EXPECT_FALSE(pipeline.deliver_available().ok());  // the observer refuses: kept pending
  EXPECT_EQ(pipeline.pending_deliveries(), 3u);
  ASSERT_TRUE(pipeline.deliver_available().ok());  // sent again, then acknowledged again below
  alerts.in_flight[alerts.sent.back()] = AsyncSink::State::acked;
  ASSERT_TRUE(pipeline.deliver_available().ok());
  EXPECT_EQ(pipeline.pending_deliveries(), 2u);
  EXPECT_EQ(group_sizes, (std::vector<size_t>{1, 1}));
}

TEST(Pipeline, AsynchronousDeliveryToALocalSinkCompletesAtOnce) {
  MemoryStateStore store;
  Harness h(store);
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater)).ok());
  ASSERT_TRUE(h.pipeline.commit_if_due("3", true).ok());
  h.alerts.failures = 1;
  EXPECT_FALSE(h.pipeline.deliver_available().ok());
  EXPECT_EQ(h.pipeline.pending_deliveries(), 3u);
  ASSERT_TRUE(h.pipeline.deliver_available().ok());
  EXPECT_EQ(h.pipeline.pending_deliveries(), 0u);
  ASSERT_EQ(h.alerts.delivered.size(), 3u);
  EXPECT_LT(h.alerts.delivered[0].seq, h.alerts.delivered[2].seq);
}

TEST(Pipeline, DeliveryObserverSeesOnlyDeliveredOutputAndCanKeepItPending) {
  MemoryStateStore store;
  Harness h(store);
  std::vector<std::vector<OutboxEntry>> observed;
  int refuse = 1;  // the observer (an audit log) fails once: the group stays pending
  h.pipeline.set_delivery_observer([&](const std::vector<OutboxEntry>& group) -> Status {
    EXPECT_EQ(h.alerts.written.size(), 0u) << "observed only after the sink flushed";
    observed.push_back(group);
    if (refuse-- > 0) return make_error("disk full");
    return ok_status();
  });
  h.alerts.failures = 1;
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kDispatched)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater)).ok());
  EXPECT_FALSE(h.pipeline.maybe_commit("3", true).ok());  // the sink refuses: not observed
  EXPECT_TRUE(observed.empty());
  EXPECT_FALSE(h.pipeline.deliver_pending().ok());  // delivered, the observer refuses
  ASSERT_EQ(observed.size(), 1u);
  EXPECT_EQ(h.pipeline.pending_deliveries(), 3u);
  ASSERT_TRUE(h.pipeline.deliver_pending().ok());
  ASSERT_EQ(observed.size(), 2u);
  ASSERT_EQ(observed[1].size(), 3u);
  EXPECT_NE(observed[1][1].payload.find("C-1/first-response/1/breach"), std::string::npos);
  EXPECT_EQ(h.pipeline.pending_deliveries(), 0u);
  // Delivered again after the observer's failure: the same records, same seq.
  ASSERT_EQ(h.alerts.delivered.size(), 6u);
  EXPECT_EQ(h.alerts.delivered[0].seq, h.alerts.delivered[3].seq);
}

TEST(Pipeline, RestartDeliversWhatACrashLeftInTheOutboxFirst) {
  MemoryStateStore store;
  {
    Harness first(store);
    first.alerts.failures = 1;  // commit lands, delivery fails, then the process "dies"
    ASSERT_TRUE(first.pipeline.on_record_replay(record(kCreated)).ok());
    ASSERT_TRUE(first.pipeline.on_record_replay(record(kDispatched)).ok());
    ASSERT_TRUE(first.pipeline.on_record_replay(record(kLater)).ok());
    EXPECT_FALSE(first.pipeline.maybe_commit("3", true).ok());
    EXPECT_TRUE(first.alerts.delivered.empty());
  }
  Harness second(store);
  auto position = second.pipeline.recover();
  ASSERT_TRUE(position.ok());
  EXPECT_EQ(*position, "3");
  EXPECT_EQ(second.pipeline.pending_deliveries(), 3u);
  // A new record's output goes out after the leftovers.
  ASSERT_TRUE(second.pipeline.on_record_replay(record(
      event_line("e4", "dispatched", "C-2", "2026-03-02T11:00:00.000+08:00", R"({"department":"roads"})"))).ok());
  ASSERT_TRUE(second.pipeline.maybe_commit("4", true).ok());
  ASSERT_GE(second.alerts.delivered.size(), 3u);
  EXPECT_NE(second.alerts.delivered[1].payload.find("C-1/first-response/1/breach"), std::string::npos);
  for (size_t i = 1; i < second.alerts.delivered.size(); ++i) {
    EXPECT_LT(second.alerts.delivered[i - 1].seq, second.alerts.delivered[i].seq);
  }
}

TEST(Pipeline, RejectedRecordBecomesADeadLetterWithItsBytesHeadersAndReason) {
  MemoryStateStore store;
  Harness h(store);
  RawRecord bad = record(R"({"specversion":"1.0","id":"x"})", "events/2@17");
  bad.key = "C-9";
  bad.headers = {{"traceparent", "00-abc"}};
  bad.provenance = {{"slawatch.source.topic", "events"}, {"slawatch.source.partition", "2"},
                    {"slawatch.source.offset", "17"}};
  ASSERT_TRUE(h.pipeline.on_record_replay(bad).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("2", true).ok());
  EXPECT_EQ(h.pipeline.counters().dead_letters, 1u);
  EXPECT_EQ(h.pipeline.counters().applied, 1u) << "the good record after a bad one is applied";
  ASSERT_EQ(h.dead.delivered.size(), 1u);
  const auto& letter = h.dead.delivered[0];
  EXPECT_EQ(letter.payload, bad.bytes);
  EXPECT_EQ(letter.key, "C-9");
  const RecordHeaders& headers = letter.headers;
  ASSERT_NE(find_header(headers, "traceparent"), nullptr);
  EXPECT_EQ(*find_header(headers, "slawatch.source.offset"), "17");
  EXPECT_EQ(*find_header(headers, kDeadLetterOriginHeader), "events/2@17");
  ASSERT_NE(find_header(headers, kDeadLetterReasonHeader), nullptr);
  EXPECT_EQ(*find_header(headers, kDeadLetterReasonHeader), "field 'source': required string is missing");
}

// A source that cut a record short (RawRecord::oversize_bytes) never gets it
// parsed: the dead letter carries the first bytes, the full size and the reason.
TEST(Pipeline, OversizeRecordIsDeadLetteredWithItsSizeAndFirstBytes) {
  MemoryStateStore store;
  Harness h(store);
  RawRecord big = record(std::string(kOversizeKeptBytes, '\0'), "events.jsonl:2");
  big.oversize_bytes = 838860800;
  ASSERT_TRUE(h.pipeline.on_record_replay(big).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.maybe_commit("2", true).ok());
  EXPECT_EQ(h.pipeline.counters().applied, 1u) << "the good record after the oversize one is applied";
  ASSERT_EQ(h.dead.delivered.size(), 1u);
  const auto& letter = h.dead.delivered[0];
  EXPECT_EQ(letter.payload, big.bytes);
  EXPECT_EQ(*find_header(letter.headers, kDeadLetterOriginalSizeHeader), "838860800");
  EXPECT_EQ(*find_header(letter.headers, kDeadLetterReasonHeader),
            "record too large (838860800 bytes, limit 1048576); the dead letter keeps its first 4096 bytes");
}

// Two records with one event id and other contents: whichever arrives first,
// one dead letter, for the same record.
TEST(Pipeline, ConflictingDuplicateLeavesADeadLetterInEitherOrder) {
  const RawRecord a = record(event_line("a-1", "acknowledged", "C-1", "2026-03-02T01:10:00Z", R"({"department":"x"})"));
  const RawRecord b = record(event_line("a-1", "acknowledged", "C-1", "2026-03-02T02:50:00Z", R"({"department":"x"})"));
  std::vector<std::string> losers;
  for (const bool a_first : {true, false}) {
    MemoryStateStore store;
    Harness h(store);
    ASSERT_TRUE(h.pipeline.on_record_replay(a_first ? a : b).ok());
    ASSERT_TRUE(h.pipeline.on_record_replay(a_first ? b : a).ok());
    ASSERT_TRUE(h.pipeline.maybe_commit("2", true).ok());
    ASSERT_EQ(h.dead.delivered.size(), 1u);
    const auto& letter = h.dead.delivered[0];
    EXPECT_EQ(find_header(letter.headers, kDeadLetterReasonHeader)->rfind("conflicting duplicate: event id a-1", 0),
              0u);
    // The loser's time, whether it is the original bytes or rebuilt from the case log.
    losers.push_back(letter.payload.find("T01:10:00") != std::string::npos ? "a" : "b");
  }
  EXPECT_EQ(losers[0], losers[1]);
}

// Without an event observer the parsed event moves into the case log; with
// one, the observer gets it whole after the engine. Either way the log holds
// every text in full (long ones live on the heap, where a move hands them over)
// and the dead letters still name the event and its case.
TEST(Pipeline, EventsReachTheCaseLogAndTheObserverWhole) {
  const std::string department(40, 'd');  // past any inline buffer
  const std::string actor = "duty-officer-of-the-water-bureau";
  const RawRecord created = record(event_line("e1", "created", "C-1", "2026-03-02T09:00:00Z",
                                              R"({"category":"noise","priority":"normal","channel":"phone"})"));
  const RawRecord dispatched = record(event_line("e2", "dispatched", "C-1", "2026-03-02T09:01:00Z",
                                                 R"({"department":")" + department + R"(","actor":")" + actor + R"("})"));
  const RawRecord first = record(event_line("a-1", "acknowledged", "C-1", "2026-03-02T09:10:00Z",
                                            R"({"department":")" + department + R"("})"));
  const RawRecord second = record(event_line("a-1", "acknowledged", "C-1", "2026-03-02T09:20:00Z",
                                             R"({"department":")" + department + R"("})"));
  for (const bool observed : {false, true}) {
    SCOPED_TRACE(observed ? "with an observer" : "without an observer");
    MemoryStateStore store;
    Harness h(store);
    std::vector<CaseEvent> seen;
    if (observed) h.pipeline.set_event_observer([&](const CaseEvent& e, ApplyOutcome) { seen.push_back(e); });
    for (const RawRecord* r : {&created, &dispatched, &first, &second}) ASSERT_TRUE(h.pipeline.on_record_replay(*r).ok());
    ASSERT_TRUE(h.pipeline.maybe_commit("4", true).ok());

    ASSERT_EQ(h.dead.delivered.size(), 1u);
    const std::string reason = *find_header(h.dead.delivered[0].headers, kDeadLetterReasonHeader);
    EXPECT_EQ(reason.rfind("conflicting duplicate: event id a-1 of case C-1 ", 0), 0u) << reason;

    auto bytes = store.load_case(CaseId{"C-1"});
    ASSERT_TRUE(bytes.ok() && bytes->has_value());
    auto stored = decode_case_record(**bytes, CaseId{"C-1"});
    ASSERT_TRUE(stored.ok());
    ASSERT_EQ(stored->events.size(), 3u);
    EXPECT_EQ(stored->events[0].category, "noise");
    EXPECT_EQ(stored->events[1].department, department);
    EXPECT_EQ(stored->events[1].actor, actor);
    EXPECT_EQ(stored->events[2].id, EventId{"a-1"});
    EXPECT_EQ(stored->events[2].department, department);

    if (observed) {
      ASSERT_EQ(seen.size(), 4u);
      EXPECT_EQ(seen[1].department, department);
      EXPECT_EQ(seen[1].actor, actor);
      EXPECT_EQ(seen[3].id, EventId{"a-1"});
      EXPECT_EQ(seen[3].department, department);
    }
  }
}

TEST(Pipeline, BinaryModeRecordIsReadFromItsCeHeaders) {
  MemoryStateStore store;
  Harness h(store);
  RawRecord binary = record(R"({"department":"noise"})");
  binary.headers = {{"ce_specversion", "1.0"}, {"ce_id", "e2"}, {"ce_source", "/test"},
                    {"ce_type", "hotline.case.dispatched"}, {"ce_subject", "C-1"},
                    {"ce_time", "2026-03-02T09:00:00.000+08:00"}, {"content-type", "application/json"}};
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kCreated)).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(binary).ok());
  ASSERT_TRUE(h.pipeline.on_record_replay(record(kLater)).ok());
  EXPECT_EQ(h.pipeline.counters().dead_letters, 0u);
  EXPECT_EQ(h.pipeline.counters().applied, 3u);
  EXPECT_EQ(h.pipeline.counters().alerts_fired, 3u);
}

TEST(Pipeline, StructuredContentTypeWinsOverCeHeaders) {
  MemoryStateStore store;
  Harness h(store);
  RawRecord structured = record(kDispatched);
  structured.headers = {{"Content-Type", "application/cloudevents+json; charset=UTF-8"},
                        {"ce_id", "ignored"}};
  ASSERT_TRUE(h.pipeline.on_record_replay(structured).ok());
  EXPECT_EQ(h.pipeline.counters().applied, 1u);
}

TEST(DeadLetterJsonSink, WritesTheEnvelopeWithReasonOriginAndOriginal) {
  auto inner = std::make_unique<RecordingSink>();
  RecordingSink& seen = *inner;
  DeadLetterJsonSink sink(std::move(inner));
  const RecordHeaders headers = {{kDeadLetterReasonHeader, "field 'id': missing"},
                                 {kDeadLetterOriginHeader, "events.jsonl:3"}};
  ASSERT_TRUE(sink.write(OutboundRecord{7, "k", "{broken", &headers}).ok());
  ASSERT_TRUE(sink.flush().ok());
  ASSERT_EQ(seen.delivered.size(), 1u);
  EXPECT_EQ(seen.delivered[0].payload,
            R"({"reason":"field 'id': missing","origin":"events.jsonl:3","original":"{broken"})");
}

}  // namespace
}  // namespace slawatch
