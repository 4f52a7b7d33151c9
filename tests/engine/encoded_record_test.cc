// The engine writes each case record by extending the encoding it kept of the
// log's prefix (EncodedLogPrefix) rather than encoding the whole log again.
// Checked on simulated traffic against the reference, the case's log built in
// the test: after every commit, every stored record holds exactly that log.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "engine_fixture.h"
#include "state/case_record.h"
#include "stream_fixture.h"

namespace slawatch::testing {
namespace {

// A copy of `e` with other content under the same id: a conflicting duplicate.
CaseEvent with_other_content(CaseEvent e) {
  e.actor = e.actor.str() + "-again";
  return e;
}

bool same_log(const std::vector<CaseEvent>& a, const std::vector<CaseEvent>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), same_content);
}

// Applies `events` in the given order, committing every `commit_every`
// events, and after each commit compares every stored record with the log
// the test keeps for it (the events applied, deduplicated, in log order).
void expect_stored_logs_match(const std::vector<CaseEvent>& events, size_t commit_every, const std::string& run,
                              EngineOptions options = {}) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  MemoryStateStore store;
  Engine engine(rules, store, options);
  std::map<CaseId, std::vector<CaseEvent>> expected;
  std::vector<Alert> alerts;
  size_t mismatches = 0;
  auto commit_and_check = [&] {
    StateBatch batch;
    engine.flush_into(batch, Engine::FlushScope::complete);
    ASSERT_TRUE(store.commit(batch).ok());
    for (const auto& [id, log] : expected) {
      auto bytes = store.load_case(id);
      ASSERT_TRUE(bytes.ok() && bytes->has_value()) << run << ": " << id.str() << " not stored";
      auto decoded = decode_case_record(**bytes, id);
      ASSERT_TRUE(decoded.ok()) << run << ": " << decoded.error().message;
      if (!same_log(decoded->events, log) && ++mismatches <= 3) {
        ADD_FAILURE() << run << ": case " << id.str() << " stored " << decoded->events.size() << " events, its log has "
                      << log.size();
      }
      // And byte for byte what a full encoding of the record gives.
      EXPECT_EQ(**bytes, encode_case_record(*decoded)) << run << ": " << id.str();
    }
  };
  Instant clock = kMinInstant;
  for (size_t i = 0; i < events.size(); ++i) {
    const CaseEvent& event = events[i];
    CaseEvent displaced;
    auto outcome = engine.apply(event, alerts, &displaced);
    ASSERT_TRUE(outcome.ok());
    auto& log = expected[event.case_id];
    if (*outcome == ApplyOutcome::replaced) {
      std::erase_if(log, [&](const CaseEvent& e) { return e.id == event.id; });
    }
    if (*outcome == ApplyOutcome::applied || *outcome == ApplyOutcome::replaced) {
      log.insert(std::upper_bound(log.begin(), log.end(), event, event_order_less), event);
    }
    clock = std::max(clock, event.time);
    ASSERT_TRUE(engine.advance(clock, alerts).ok());
    if ((i + 1) % (3 * commit_every) == 0) {
      commit_and_check();
    } else if ((i + 1) % commit_every == 0) {
      StateBatch batch;  // an ordinary commit: a case writing back is stored only as it leaves the cache
      engine.flush_into(batch);
      ASSERT_TRUE(store.commit(batch).ok());
    }
  }
  commit_and_check();
}

std::vector<CaseEvent> traffic() {
  SimulatorOptions options;
  options.seed = 1717;
  options.cases = 150;
  options.span = hours{6};
  options.late_fraction = 0.1;
  options.reorder_fraction = 0.1;
  options.duplicate_fraction = 0.05;
  auto events = simulated_events(options);
  // Conflicting duplicates, so some stored events are replaced (the log loses
  // an event and gains one at the same place).
  std::mt19937 random(17);
  const size_t originals = events.size();
  for (size_t n = 0; n < originals / 20; ++n) events.push_back(with_other_content(events[random() % originals]));
  return events;
}

TEST(EncodedRecord, StoredLogsMatchUnderArrivalOrderWithLateReorderedAndConflictingRecords) {
  const auto events = traffic();
  ASSERT_GT(events.size(), 800u);
  expect_stored_logs_match(events, 7, "arrival order");
}

TEST(EncodedRecord, StoredLogsMatchUnderShuffledArrivalAndEveryCommitSize) {
  auto events = traffic();
  std::mt19937 random(4711);
  for (const size_t commit_every : {size_t{1}, size_t{3}, size_t{50}}) {
    std::shuffle(events.begin(), events.end(), random);
    expect_stored_logs_match(events, commit_every, "shuffled, commit every " + std::to_string(commit_every));
  }
}

// A case evicted from the engine's cache is read back with its stored log as
// the prefix; later events extend that.
TEST(EncodedRecord, StoredLogsMatchWhenCasesAreEvictedAndReadBackBetweenEvents) {
  EngineOptions options;
  options.case_cache_records = 4;
  auto events = traffic();
  std::mt19937 random(99);
  std::shuffle(events.begin(), events.end(), random);
  expect_stored_logs_match(events, 2, "cache of 4 cases, shuffled", options);
  expect_stored_logs_match(traffic(), 5, "cache of 4 cases, arrival order", options);
}

// The cache holds its budget after a flush and grows only by the cases the
// batch touches; cache_needs_flush says when that reaches twice the budget,
// so a caller committing then keeps memory bounded however long its batches.
TEST(EncodedRecord, CacheNeedsAFlushAtTwiceItsBudgetAndHoldsTheBudgetAfterOne) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  for (const bool write_back : {false, true}) {
    EngineOptions options;
    options.case_cache_records = 4;
    options.write_back_cases = write_back;
    MemoryStateStore store;
    Engine engine(rules, store, options);
    std::vector<Alert> alerts;
    auto touch = [&](int c) {
      const std::string n = std::to_string(c);
      ASSERT_TRUE(engine.apply(dispatched("d" + n, "CACHE-" + n, kT0 + std::chrono::minutes(c)), alerts).ok());
    };
    for (int c = 0; c < 7; ++c) touch(c);
    EXPECT_FALSE(engine.cache_needs_flush()) << "7 cases in a cache of 4: below twice the budget";
    touch(7);
    EXPECT_TRUE(engine.cache_needs_flush()) << "8 cases: twice the budget";
    StateBatch batch;
    engine.flush_into(batch);
    ASSERT_TRUE(store.commit(batch).ok());
    EXPECT_FALSE(engine.cache_needs_flush());
    EXPECT_LE(engine.cached_cases(), 4u) << (write_back ? "write back" : "write through");
    // Every case is still whole, read back from the store or the cache.
    for (int c = 0; c < 8; ++c) {
      auto attributes = engine.case_attributes(CaseId{"CACHE-" + std::to_string(c)}, kT0 + std::chrono::hours(1));
      ASSERT_TRUE(attributes.ok());
      EXPECT_EQ(attributes->department, "dept-a") << c;
    }
  }
}

// Writing back, a case reaches the store only as it leaves the cache (and at
// a complete flush), and is read back from there with everything it had.
TEST(EncodedRecord, StoredLogsMatchWhenCasesAreWrittenBackAsTheyLeaveTheCache) {
  EngineOptions options;
  options.write_back_cases = true;
  options.case_cache_records = 4;
  auto events = traffic();
  expect_stored_logs_match(events, 5, "write back, cache of 4 cases, arrival order", options);
  std::mt19937 random(7);
  std::shuffle(events.begin(), events.end(), random);
  expect_stored_logs_match(events, 2, "write back, cache of 4 cases, shuffled", options);
  options.case_cache_records = 32768;
  expect_stored_logs_match(events, 11, "write back, every case cached", options);
}

// The same alerts in the same order whether cases are written through or
// back, with a cache so small that most events read their case back.
TEST(EncodedRecord, WritingBackChangesNoAlert) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  auto run = [&](bool write_back) {
    EngineOptions options;
    options.write_back_cases = write_back;
    options.case_cache_records = 4;
    MemoryStateStore store;
    Engine engine(rules, store, options);
    std::vector<Alert> alerts;
    Instant clock = kMinInstant;
    size_t applied = 0;
    for (const auto& event : traffic()) {
      EXPECT_TRUE(engine.apply(event, alerts).ok());
      clock = std::max(clock, event.time);
      EXPECT_TRUE(engine.advance(clock, alerts).ok());
      if (++applied % 3 == 0) {
        StateBatch batch;
        engine.flush_into(batch);
        EXPECT_TRUE(store.commit(batch).ok());
      }
    }
    EXPECT_TRUE(engine.settle(clock + hours{48}, alerts).ok());
    std::vector<std::string> described;
    for (const auto& alert : alerts) described.push_back(describe(alert));
    return described;
  };
  const auto through = run(false);
  EXPECT_GT(through.size(), 100u);
  EXPECT_EQ(run(true), through);
}

// Until it leaves the cache a case written back is the engine's alone.
TEST(EncodedRecord, WritingBackLeavesCachedCasesOutOfOrdinaryCommits) {
  auto rules = default_rules();
  ASSERT_NE(rules, nullptr);
  EngineOptions options;
  options.write_back_cases = true;
  MemoryStateStore store;
  Engine engine(rules, store, options);
  std::vector<Alert> alerts;
  CaseEvent created;
  created.id = EventId{"e1"};
  created.case_id = CaseId{"C-1"};
  created.time = kT0;
  ASSERT_TRUE(engine.apply(created, alerts).ok());
  StateBatch batch;
  engine.flush_into(batch);
  EXPECT_TRUE(batch.cases.empty());
  ASSERT_TRUE(store.commit(batch).ok());
  engine.flush_into(batch, Engine::FlushScope::complete);
  ASSERT_EQ(batch.cases.size(), 1u);
  EXPECT_EQ(batch.cases[0].first, CaseId{"C-1"});
  ASSERT_TRUE(store.commit(batch).ok());
  engine.flush_into(batch, Engine::FlushScope::complete);
  EXPECT_TRUE(batch.cases.empty()) << "a case already handed over is not written again";
}

TEST(EncodedRecord, DecodingSetsThePrefixToTheStoredLog) {
  CaseRecord record;
  for (int i = 0; i < 3; ++i) {
    CaseEvent e;
    e.id = EventId{"e" + std::to_string(i)};
    e.case_id = CaseId{"C-1"};
    e.time = kT0 + minutes{i};
    e.actor = "operator " + std::to_string(i);
    record.insert(e);
  }
  record.timer_due = kT0 + hours{1};
  const std::string stored = encode_case_record(record);
  EncodedLogPrefix prefix;
  auto decoded = decode_case_record(stored, CaseId{"C-1"}, prefix);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(prefix.events, 3u);
  EXPECT_EQ(encode_case_record(*decoded, prefix), stored);
  // A corrupt record leaves no prefix behind.
  EXPECT_FALSE(decode_case_record(stored.substr(0, stored.size() - 1), CaseId{"C-1"}, prefix).ok());
  EXPECT_EQ(prefix.events, 0u);
  EXPECT_TRUE(prefix.bytes.empty());
}

TEST(EncodedRecord, PrefixEncodingEqualsAFullEncodingAsTheLogGrowsAndShrinks) {
  CaseRecord record;
  EncodedLogPrefix prefix;
  const CaseId id{"C-1"};
  for (int i = 0; i < 5; ++i) {
    CaseEvent e;
    e.id = EventId{"e" + std::to_string(i)};
    e.case_id = id;
    e.type = i == 0 ? EventType::created : EventType::dispatched;
    e.time = kT0 + minutes{i};
    e.department = "water";
    record.insert(e);
    EXPECT_EQ(encode_case_record(record, prefix), encode_case_record(record)) << "after event " << i;
    EXPECT_EQ(prefix.events, record.events.size());
  }
  // A log that shrank (an owner that forgot to reset) is encoded afresh, not
  // from a prefix longer than the log.
  record.remove(EventId{"e4"});
  record.remove(EventId{"e3"});
  EXPECT_EQ(encode_case_record(record, prefix), encode_case_record(record));
}

}  // namespace
}  // namespace slawatch::testing
