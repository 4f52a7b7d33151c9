// RocksDbStateStore: what one commit writes is what a reopened database
// reads back (cases, timers in due order, outbox entries with their headers,
// checkpoint, tallies, the alert index), partitions never see each other's
// keys, and timers that were deleted are not returned again. Case records
// round-trip their cycle marks and older records are still read.
#include "state/rocksdb_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "io/alert_json.h"
#include "state/alert_index_value.h"
#include "state/state_reader.h"
#include "indexed_alert.h"
#include "temp_database.h"

namespace slawatch {
namespace {

class RocksDbStoreTest : public ::testing::Test {
 protected:
  // A fresh database the first time, the same one reopened after that.
  std::shared_ptr<RocksDbDatabase> open() {
    if (!temp_) {
      temp_ = std::make_unique<testing::TempDatabase>("slawatch-state-test");
      return temp_->database;
    }
    return temp_->reopen();
  }

  std::unique_ptr<testing::TempDatabase> temp_;
};

Instant at(int64_t ms) { return from_millis(ms); }

TEST_F(RocksDbStoreTest, CommitSurvivesReopen) {
  {
    auto db = open();
    RocksDbStateStore store(db, 3);
    StateBatch batch;
    batch.cases.emplace_back(CaseId{"C-1"}, "record-1");
    batch.timer_puts = {TimerKey{at(2000), CaseId{"C-1"}}, TimerKey{at(-5), CaseId{"C-0"}},
                        TimerKey{at(1000), CaseId{"C-2"}}};
    batch.outbox_puts = {OutboxEntry{7, OutboxEntry::Channel::dead_letter, "C-1", std::string("a\0b", 3),
                                     {{"slawatch.reason", "bad"}, {"empty", ""}}}};
    batch.checkpoint = Checkpoint{at(1500), "42", 8};
    ASSERT_TRUE(store.commit(batch).ok());
  }
  auto db = open();
  RocksDbStateStore store(db, 3);
  auto record = store.load_case(CaseId{"C-1"});
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(record->has_value());
  EXPECT_EQ(**record, "record-1");
  EXPECT_FALSE(store.load_case(CaseId{"C-9"})->has_value());

  auto timers = store.scan_timers(kMinInstant, 10);
  ASSERT_TRUE(timers.ok());
  ASSERT_EQ(timers->size(), 3u);
  EXPECT_EQ((*timers)[0].due, at(-5)) << "negative instants sort first (biased encoding)";
  EXPECT_EQ((*timers)[1].case_id, CaseId{"C-2"});
  EXPECT_EQ((*timers)[2].due, at(2000));

  auto outbox = store.load_outbox();
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].seq, 7u);
  EXPECT_EQ((*outbox)[0].payload, std::string("a\0b", 3));
  ASSERT_EQ((*outbox)[0].headers.size(), 2u);
  EXPECT_EQ((*outbox)[0].headers[0], (RecordHeader{"slawatch.reason", "bad"}));
  EXPECT_EQ((*outbox)[0].headers[1], (RecordHeader{"empty", ""}));

  auto checkpoint = store.load_checkpoint();
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->clock, at(1500));
  EXPECT_EQ(checkpoint->source_position, "42");
  EXPECT_EQ(checkpoint->next_outbox_seq, 8u);
}

// An alert waits in the outbox in its compact form (a fifth of its
// CloudEvent's bytes through the WAL and memtable), and comes back as the
// exact CloudEvent it was, for each kind; other entries keep their payload.
TEST_F(RocksDbStoreTest, OutboxKeepsAlertsCompactAndLoadsTheirExactCloudEvents) {
  std::vector<OutboxEntry> written;
  uint64_t seq = 1;
  for (const auto state : {AlertIndexEntry::State::firing, AlertIndexEntry::State::resolved,
                           AlertIndexEntry::State::retracted}) {
    IndexedAlert indexed = testing::indexed_alert("C-1/first-response/1/breach", state, "water");
    written.push_back(OutboxEntry{seq++, OutboxEntry::Channel::alerts, "C-1",
                                  encode_alert_cloudevent(indexed.alert, indexed.source), {},
                                  encode_alert_index_value(indexed.alert, indexed.source)});
  }
  written.push_back(OutboxEntry{seq++, OutboxEntry::Channel::dead_letter, "C-2", "{not json", {{"r", "bad"}}});
  written.push_back(OutboxEntry{seq++, OutboxEntry::Channel::alerts, "C-3", "an alert without its compact form", {}});
  {
    auto db = open();
    RocksDbStateStore store(db, 0);
    StateBatch batch;
    batch.outbox_puts = written;
    ASSERT_TRUE(store.commit(batch).ok());
    uint64_t payload_bytes = 0;
    for (const auto& entry : written) payload_bytes += entry.payload.size();
    EXPECT_LT(store.commit_totals().bytes, payload_bytes) << "the alerts' CloudEvents were written whole";
  }
  auto db = open();
  RocksDbStateStore store(db, 0);
  auto loaded = store.load_outbox();
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(*loaded, written);

  // A compact value that does not decode is a corrupt entry, not a wrong alert.
  std::string value(1, '\x10');
  codec::put_string(value, "C-9");
  codec::put_string(value, "\x10garbage");
  codec::put_varint(value, 0);
  std::string key(2, '\0');  // partition 0's prefix
  for (int i = 7; i >= 0; --i) key.push_back(static_cast<char>((uint64_t{99} >> (8 * i)) & 0xff));
  ASSERT_TRUE(db->db()->Put(rocksdb::WriteOptions(), db->outbox(), key, value).ok());
  auto corrupt = store.load_outbox();
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.error().message.find("corrupt outbox entry 99"), std::string::npos) << corrupt.error().message;

  // So is a channel byte of neither kind: its payload would go to the wrong topic.
  value = std::string(1, '\x07');
  codec::put_string(value, "C-9");
  codec::put_string(value, "{}");
  codec::put_varint(value, 0);
  ASSERT_TRUE(db->db()->Put(rocksdb::WriteOptions(), db->outbox(), key, value).ok());
  auto unknown = store.load_outbox();
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("corrupt outbox entry 99"), std::string::npos) << unknown.error().message;
}

// Keys per record is the figure a change of format or batch is judged by
// (replay prints it): every put and delete counts, the meta keys a commit
// keeps (checkpoint, timer count, tallies) included.
TEST_F(RocksDbStoreTest, CommitTotalsCountEveryKeyEachCommitWrote) {
  auto db = open();
  RocksDbStateStore store(db, 3);
  MemoryStateStore memory;
  EXPECT_EQ(store.commit_totals().commits, 0u);
  StateBatch batch;
  batch.cases = {{CaseId{"C-1"}, "record-1"}, {CaseId{"C-2"}, "record-2"}};
  batch.timer_puts = {TimerKey{at(1), CaseId{"C-1"}}, TimerKey{at(2), CaseId{"C-2"}}};
  batch.outbox_puts = {OutboxEntry{1, OutboxEntry::Channel::alerts, "C-1", "alert", {}}};
  batch.tallies = {{"overdue/x", 1}};
  batch.checkpoint = Checkpoint{at(5), "5", 2};
  StateBatch copy = batch;
  ASSERT_TRUE(store.commit(batch).ok());
  ASSERT_TRUE(memory.commit(copy).ok());
  // 2 cases + 2 timers + 1 outbox entry + 1 tally + checkpoint, and RocksDB's timer count.
  EXPECT_EQ(memory.commit_totals().keys(), 7u);
  EXPECT_EQ(store.commit_totals().keys(), 8u);
  for (const CommitTotals& totals : {memory.commit_totals(), store.commit_totals()}) {
    EXPECT_EQ(totals.keys_of(StoreFamily::cases), 2u);
    EXPECT_EQ(totals.keys_of(StoreFamily::timers), 2u);
    EXPECT_EQ(totals.keys_of(StoreFamily::outbox), 1u);
    EXPECT_EQ(totals.keys_of(StoreFamily::alerts), 0u);
  }
  EXPECT_EQ(memory.commit_totals().keys_of(StoreFamily::meta), 2u);
  EXPECT_EQ(store.commit_totals().keys_of(StoreFamily::meta), 3u);  // and the timer count
  // The bytes of RocksDB's write batch: at least every key and value it carries.
  EXPECT_GE(store.commit_totals().bytes, std::string("record-1record-2alert").size());
  EXPECT_EQ(memory.commit_totals().bytes, 0u);
  const uint64_t first_bytes = store.commit_totals().bytes;
  batch.outbox_puts.clear();  // left by the commit for the caller to deliver
  batch.timer_deletes = {TimerKey{at(1), CaseId{"C-1"}}};
  batch.outbox_deletes = {1};
  batch.case_deletes = {CaseId{"C-2"}};
  ASSERT_TRUE(store.commit(batch).ok());
  // A timer, an outbox entry, the case record (no alert index entries), the timer count.
  EXPECT_EQ(store.commit_totals().keys(), 12u);
  EXPECT_EQ(store.commit_totals().commits, 2u);
  EXPECT_EQ(store.commit_totals().keys_of(StoreFamily::cases), 3u);
  EXPECT_EQ(store.commit_totals().keys_of(StoreFamily::timers), 3u);
  EXPECT_EQ(store.commit_totals().keys_of(StoreFamily::outbox), 2u);
  EXPECT_EQ(store.commit_totals().keys_of(StoreFamily::meta), 4u);
  EXPECT_GT(store.commit_totals().bytes, first_bytes);
}

// The pipeline delivers a batch's outbox entries once it is committed and
// takes them back from the batch rather than copying each payload first.
TEST_F(RocksDbStoreTest, ACommitLeavesTheOutboxEntriesAndEmptiesTheRest) {
  auto db = open();
  RocksDbStateStore rocks(db, 1);
  MemoryStateStore memory;
  for (StateStore* store : std::initializer_list<StateStore*>{&rocks, &memory}) {
    StateBatch batch;
    batch.cases = {{CaseId{"C-1"}, "record-1"}};
    batch.timer_puts = {TimerKey{at(1), CaseId{"C-1"}}};
    const std::vector<OutboxEntry> outbox = {OutboxEntry{1, OutboxEntry::Channel::alerts, "C-1", "alert", {}},
                                             OutboxEntry{2, OutboxEntry::Channel::dead_letter, "", "bad", {}}};
    batch.outbox_puts = outbox;
    batch.outbox_deletes = {7};
    batch.tallies = {{"overdue/x", 1}};
    batch.checkpoint = Checkpoint{at(5), "5", 3};
    ASSERT_TRUE(store->commit(batch).ok());
    EXPECT_EQ(batch.outbox_puts, outbox);
    StateBatch rest = batch;
    rest.outbox_puts.clear();
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(store->load_outbox().value(), outbox);  // and the store holds them
  }
}

// Delivered outbox entries go as one range tombstone per run of consecutive
// sequence numbers: what stays is exactly what was not delivered, after a
// reopen too, and the commit counts a key per run.
TEST_F(RocksDbStoreTest, DeliveredOutboxRunsLeaveAsRangesAndTheRestStays) {
  std::vector<OutboxEntry> all;
  for (uint64_t seq = 1; seq <= 12; ++seq) all.push_back(OutboxEntry{seq, OutboxEntry::Channel::alerts, "C", "a" + std::to_string(seq), {}});
  {
    auto db = open();
    RocksDbStateStore store(db, 2);
    RocksDbStateStore neighbour(db, 3);  // its entries share the key space but not the prefix
    StateBatch batch;
    batch.outbox_puts = all;
    ASSERT_TRUE(neighbour.commit(batch).ok());
    batch.outbox_puts = all;
    ASSERT_TRUE(store.commit(batch).ok());
    const uint64_t before = store.commit_totals().keys();
    StateBatch retire;
    retire.outbox_deletes = {9, 1, 2, 3, 5, 7, 8, 12};  // runs 1-3, 5, 7-9, 12 (out of order: sorted first)
    ASSERT_TRUE(store.commit(retire).ok());
    EXPECT_EQ(store.commit_totals().keys() - before, 4u);
    EXPECT_EQ(neighbour.load_outbox().value(), all);
  }
  auto db = open();
  RocksDbStateStore store(db, 2);
  const auto left = store.load_outbox().value();
  std::vector<uint64_t> seqs;
  for (const auto& entry : left) seqs.push_back(entry.seq);
  EXPECT_EQ(seqs, (std::vector<uint64_t>{4, 6, 10, 11}));
  EXPECT_EQ(left[0], all[3]);
}

TEST_F(RocksDbStoreTest, PendingTimersFollowCommitsAcrossReopen) {
  {
    auto db = open();
    RocksDbStateStore store(db, 1);
    RocksDbStateStore other(db, 2);
    EXPECT_EQ(store.pending_timers().value(), 0u);
    StateBatch batch;
    batch.timer_puts = {TimerKey{at(1), CaseId{"A"}}, TimerKey{at(2), CaseId{"B"}}, TimerKey{at(3), CaseId{"C"}}};
    ASSERT_TRUE(store.commit(batch).ok());
    batch.timer_deletes = {TimerKey{at(2), CaseId{"B"}}};
    batch.timer_puts = {TimerKey{at(9), CaseId{"B"}}, TimerKey{at(4), CaseId{"D"}}};
    ASSERT_TRUE(store.commit(batch).ok());
    EXPECT_EQ(store.pending_timers().value(), 4u);
    batch.timer_puts = {TimerKey{at(1), CaseId{"X"}}};
    ASSERT_TRUE(other.commit(batch).ok());
    EXPECT_EQ(other.pending_timers().value(), 1u);
  }
  auto db = open();
  RocksDbStateStore store(db, 1);
  EXPECT_EQ(store.pending_timers().value(), 4u);
  StateBatch batch;
  batch.timer_deletes = {TimerKey{at(1), CaseId{"A"}}};
  ASSERT_TRUE(store.commit(batch).ok());
  EXPECT_EQ(store.pending_timers().value(), 3u);
  EXPECT_EQ(store.scan_timers(kMinInstant, 100).value().size(), 3u);
}

TEST_F(RocksDbStoreTest, PendingTimersAreCountedOnceForStateWithoutTheCounter) {
  {
    auto db = open();
    RocksDbStateStore store(db, 5);
    StateBatch batch;
    batch.timer_puts = {TimerKey{at(1), CaseId{"A"}}, TimerKey{at(2), CaseId{"B"}}};
    ASSERT_TRUE(store.commit(batch).ok());
    // State written before the counter existed: only the timers are there.
    const std::string counter_key = std::string("\0\5", 2) + "timer_count";
    ASSERT_TRUE(db->db()->Delete(rocksdb::WriteOptions(), db->meta(), counter_key).ok());
  }
  auto db = open();
  RocksDbStateStore store(db, 5);
  EXPECT_EQ(store.pending_timers().value(), 2u);
  StateBatch batch;
  batch.timer_puts = {TimerKey{at(3), CaseId{"C"}}};
  ASSERT_TRUE(store.commit(batch).ok());
  EXPECT_EQ(store.pending_timers().value(), 3u);
}

TEST_F(RocksDbStoreTest, CheckpointKeepsTheRulesVersionAndReadsTheOldFormat) {
  {
    auto db = open();
    RocksDbStateStore store(db, 0);
    StateBatch batch;
    batch.checkpoint = Checkpoint{at(1500), "42", 8, "3f2a9c0d41be"};
    ASSERT_TRUE(store.commit(batch).ok());
    EXPECT_EQ(*store.load_checkpoint(), (Checkpoint{at(1500), "42", 8, "3f2a9c0d41be"}));
    // Format 1, written before rule versions were kept: clock, position, next outbox seq.
    std::string old_format(1, '\1');
    codec::put_signed(old_format, 1500);
    codec::put_string(old_format, "42");
    codec::put_varint(old_format, 8);
    ASSERT_TRUE(db->db()->Put(rocksdb::WriteOptions(), db->meta(), std::string("\0\0", 2) + "checkpoint",
                              old_format).ok());
  }
  auto db = open();
  RocksDbStateStore store(db, 0);
  EXPECT_EQ(*store.load_checkpoint(), (Checkpoint{at(1500), "42", 8, ""}));
}

TEST_F(RocksDbStoreTest, PartitionsAreSeparateKeyRanges) {
  auto db = open();
  RocksDbStateStore p0(db, 0), p1(db, 1);
  StateBatch batch;
  batch.cases.emplace_back(CaseId{"C-1"}, "in p0");
  batch.timer_puts = {TimerKey{at(10), CaseId{"C-1"}}};
  batch.outbox_puts = {OutboxEntry{1, OutboxEntry::Channel::alerts, "C-1", "x", {}}};
  batch.checkpoint = Checkpoint{at(10), "5", 2};
  ASSERT_TRUE(p0.commit(batch).ok());
  EXPECT_FALSE(p1.load_case(CaseId{"C-1"})->has_value());
  EXPECT_TRUE(p1.scan_timers(kMinInstant, 10)->empty());
  EXPECT_TRUE(p1.load_outbox()->empty());
  EXPECT_EQ(p1.load_checkpoint()->source_position, "");
  EXPECT_EQ(p0.scan_timers(kMinInstant, 10)->size(), 1u);
}

TEST_F(RocksDbStoreTest, ScanStartsAfterTheGivenInstantAndSkipsDeletedTimers) {
  auto db = open();
  RocksDbStateStore store(db, 0);
  StateBatch batch;
  for (int i = 0; i < 100; ++i) batch.timer_puts.push_back(TimerKey{at(i), CaseId{"C-" + std::to_string(i)}});
  ASSERT_TRUE(store.commit(batch).ok());
  StateBatch deletes;
  for (int i = 0; i < 50; ++i) deletes.timer_deletes.push_back(TimerKey{at(i), CaseId{"C-" + std::to_string(i)}});
  ASSERT_TRUE(store.commit(deletes).ok());
  auto after = store.scan_timers(at(59), 5);
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->size(), 5u);
  EXPECT_EQ((*after)[0].due, at(60)) << "exactly at the bound is excluded";
  auto head = store.scan_timers(kMinInstant, 1);
  ASSERT_EQ(head->size(), 1u);
  EXPECT_EQ(head->front().due, at(50));
}

TEST_F(RocksDbStoreTest, ScanLimitKeepsEveryTimerSharingTheLastDueTime) {
  auto db = open();
  RocksDbStateStore store(db, 0);
  StateBatch batch;
  batch.timer_puts = {TimerKey{at(1), CaseId{"A"}}, TimerKey{at(2), CaseId{"B"}}, TimerKey{at(2), CaseId{"C"}},
                      TimerKey{at(3), CaseId{"D"}}};
  ASSERT_TRUE(store.commit(batch).ok());
  auto timers = store.scan_timers(kMinInstant, 2);
  ASSERT_TRUE(timers.ok());
  EXPECT_EQ(timers->size(), 3u);
}

TEST_F(RocksDbStoreTest, TalliesAddUpAcrossCommitsAndReopenAndVanishAtZero) {
  {
    auto db = open();
    RocksDbStateStore store(db, 1);
    RocksDbStateStore other_partition(db, 2);
    StateBatch batch;
    batch.tallies = {{"overdue", 2}, {"open", 1}};
    ASSERT_TRUE(store.commit(batch).ok());
    batch.tallies = {{"overdue", -1}, {"open", -1}, {"sum", 1800000}};
    ASSERT_TRUE(store.commit(batch).ok());
    batch.tallies = {{"overdue", 5}};
    ASSERT_TRUE(other_partition.commit(batch).ok());
    EXPECT_EQ(store.tallies().value(), (Tallies{{"overdue", 1}, {"sum", 1800000}}));
  }
  {
    auto db = open();
    RocksDbStateStore store(db, 1);
    EXPECT_EQ(store.tallies().value(), (Tallies{{"overdue", 1}, {"sum", 1800000}}));
    EXPECT_EQ(RocksDbStateStore(db, 2).tallies().value(), (Tallies{{"overdue", 5}}));
    StateBatch batch;
    batch.tallies = {{"overdue", -1}};
    ASSERT_TRUE(store.commit(batch).ok());
  }
  auto reopened = open();
  EXPECT_EQ(RocksDbStateStore(reopened, 1).tallies().value(), (Tallies{{"sum", 1800000}}));
}

// The partition's alert index as for_each_alert visits it.
std::vector<AlertIndexEntry> alert_index_of(RocksDbStateStore& store) {
  std::vector<AlertIndexEntry> seen;
  EXPECT_TRUE(store.for_each_alert([&](const AlertIndexEntry& e) {
    seen.push_back(e);
    return true;
  }).ok());
  return seen;
}

TEST_F(RocksDbStoreTest, ForEachAlertVisitsThisPartitionsLatestAlertEventsInIdOrder) {
  auto db = open();
  RocksDbStateStore store(db, 4);
  RocksDbStateStore other(db, 5);
  StateBatch batch;
  using S = AlertIndexEntry::State;
  const IndexedAlert c2 = testing::indexed_alert("C-2/r/1/breach", S::firing, "roads");
  const IndexedAlert c1_resolved = testing::indexed_alert("C-1/r/1/breach", S::resolved, "");
  batch.alert_index = {c2, testing::indexed_alert("C-1/r/1/breach", S::firing, ""), c1_resolved};
  ASSERT_TRUE(store.commit(batch).ok());
  batch.alert_index = {testing::indexed_alert("C-9/r/1/breach", S::firing, "x")};
  ASSERT_TRUE(other.commit(batch).ok());
  const std::vector<AlertIndexEntry> seen = alert_index_of(store);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], testing::read_back(c1_resolved, S::resolved));
  EXPECT_EQ(seen[1], testing::read_back(c2, S::firing));
}

// The pipeline hands over the value it already encoded for the outbox
// (IndexedAlert::encoded): the store writes those bytes, not its own encoding
// (here they say "resolved, sewers" to tell them apart; the pipeline's are the same).
TEST_F(RocksDbStoreTest, AnAlertIndexValueEncodedByTheWriterIsStoredAsGiven) {
  auto db = open();
  RocksDbStateStore store(db, 0);
  using S = AlertIndexEntry::State;
  IndexedAlert given = testing::indexed_alert("C-1/r/1/breach", S::firing, "water");
  const IndexedAlert said = testing::indexed_alert("C-1/r/1/breach", S::resolved, "sewers");
  given.encoded = encode_alert_index_value(said.alert, said.source);
  const IndexedAlert encoded_here = testing::indexed_alert("C-2/r/1/breach", S::resolved, "roads");
  StateBatch batch;
  batch.alert_index = {given, encoded_here};
  ASSERT_TRUE(store.commit(batch).ok());
  const std::vector<AlertIndexEntry> seen = alert_index_of(store);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], testing::read_back(said, S::resolved));
  EXPECT_EQ(seen[1], testing::read_back(encoded_here, S::resolved));
}

// The store writes a batch in key order (cheaper memtable inserts); of
// several events of one alert id in a batch, the last one emitted still wins,
// and it alone is written.
TEST_F(RocksDbStoreTest, TheLastEventOfAnAlertInABatchWinsWhateverTheBatchOrder) {
  auto db = open();
  RocksDbStateStore store(db, 4);
  using S = AlertIndexEntry::State;
  StateBatch batch;
  for (int round = 0; round < 3; ++round) {
    for (int c = 60; c > 0; --c) {  // descending ids, three events each, interleaved
      const S state = round == 0 ? S::firing : round == 1 ? S::resolved : S::retracted;
      batch.alert_index.push_back(testing::indexed_alert("C-" + std::to_string(c) + "/r/1/breach", state, ""));
      batch.cases.emplace_back(CaseId{"C-" + std::to_string(c)}, "v" + std::to_string(round));
    }
  }
  // One record per case, as the engine hands them over.
  batch.cases.erase(batch.cases.begin() + 60, batch.cases.end());
  const uint64_t keys_before = store.commit_totals().keys();
  ASSERT_TRUE(store.commit(batch).ok());
  EXPECT_LE(store.commit_totals().keys() - keys_before, 60u + 60u + 2u);  // cases, alerts, timer count, checkpoint
  size_t seen = 0;
  ASSERT_TRUE(store.for_each_alert([&](const AlertIndexEntry& e) {
    EXPECT_EQ(e.state, S::retracted) << e.alert_id;
    ++seen;
    return true;
  }).ok());
  EXPECT_EQ(seen, 60u);
  for (int c = 1; c <= 60; ++c) {
    auto stored = store.load_case(CaseId{"C-" + std::to_string(c)});
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ(**stored, "v0");
  }
}

TEST(CaseRecordCodec, CycleMarksAndMarkDepartmentsRoundTripAndFormatOneIsStillRead) {
  CaseRecord record;
  CaseEvent event;
  event.id = EventId{"e1"};
  event.case_id = CaseId{"C-1"};
  event.type = EventType::dispatched;
  event.time = at(1000);
  event.department = "roads";
  record.insert(event);
  record.marks.push_back(FiredMark{RuleId{"first-response"}, 1, "breach", at(1800000), true, "roads"});
  record.cycles.push_back(CycleMark{RuleId{"first-response"}, 1, at(1000), "roads", true, true, Duration{2400000}});
  record.cycles.push_back(CycleMark{RuleId{"first-response"}, 2, at(9000), "", false, false, Duration{0}});
  const std::string encoded = encode_case_record(record);
  auto decoded = decode_case_record(encoded, CaseId{"C-1"});
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->events.size(), 1u);
  EXPECT_EQ(decoded->events[0].department, "roads");
  EXPECT_EQ(decoded->marks, record.marks);
  EXPECT_EQ(decoded->cycles, record.cycles);

  // Format 1: the same record without mark departments and cycle marks.
  CaseRecord old = record;
  old.cycles.clear();
  old.marks[0].department.clear();
  std::string v1 = encode_case_record(old);
  v1[0] = 1;
  // Drop the mark's empty department (one byte, before the timer flag) and the cycle count (last byte).
  const size_t timer_flag = v1.size() - 2;
  v1.erase(timer_flag - 1, 1);
  v1.pop_back();
  auto read = decode_case_record(v1, CaseId{"C-1"});
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read->marks, old.marks);
  EXPECT_TRUE(read->cycles.empty());
  EXPECT_FALSE(read->timer_due.has_value());
}

TEST_F(RocksDbStoreTest, DeletedCaseTakesItsAlertIndexEntriesAndNoOtherCases) {
  auto db = open();
  RocksDbStateStore store(db, 0);
  auto index_entry = [](std::string id) {
    return testing::indexed_alert(id, AlertIndexEntry::State::resolved, "dept-a");
  };
  StateBatch batch;
  batch.cases.emplace_back(CaseId{"C-1"}, "old");
  batch.cases.emplace_back(CaseId{"C-10"}, "other");
  batch.alert_index = {index_entry("C-1/first-response/1/breach"), index_entry("C-1/repeated-return/1/threshold"),
                       index_entry("C-10/first-response/1/breach")};
  ASSERT_TRUE(store.commit(batch).ok());
  StateBatch purge;
  purge.case_deletes = {CaseId{"C-1"}};
  ASSERT_TRUE(store.commit(purge).ok());
  EXPECT_FALSE(store.load_case(CaseId{"C-1"})->has_value());
  EXPECT_EQ(**store.load_case(CaseId{"C-10"}), "other") << "a case whose id starts with the purged one stays";
  StateReader reader(db);
  EXPECT_TRUE(reader.alerts_of_case(0, CaseId{"C-1"})->empty());
  EXPECT_EQ(reader.alerts_of_case(0, CaseId{"C-10"})->size(), 1u);
  // Deleted and written again in one batch: the fresh record stays.
  StateBatch revive;
  revive.case_deletes = {CaseId{"C-10"}};
  revive.cases.emplace_back(CaseId{"C-10"}, "fresh");
  ASSERT_TRUE(store.commit(revive).ok());
  EXPECT_EQ(**store.load_case(CaseId{"C-10"}), "fresh");
  EXPECT_TRUE(reader.alerts_of_case(0, CaseId{"C-10"})->empty());
}

// The alert index of open cases as a replay leaves it: each case fired the
// three stages of normal-handling (days after its creation, which spreads
// over months), with the pipeline's own CloudEvent encoding.
std::vector<IndexedAlert> open_case_alerts(int cases) {
  static const char* const kDepartments[] = {
      "longhua-education", "urban-management", "qiongshan-water", "meilan-transport", "xiuying-housing",
      "city-environment",  "public-security",  "health-commission", "market-regulation", "power-supply"};
  struct Stage {
    const char* name;
    const char* severity;
    int64_t after_ms;
    std::vector<NotifyTarget> notify;
  };
  const Stage stages[] = {
      {"warning", "minor", 4 * 86'400'000LL, {{"department.duty_officer", ""}}},
      {"breach", "major", 5 * 86'400'000LL, {{"department.duty_officer", ""}, {"department.head", ""}}},
      {"escalated", "critical", 12 * 86'400'000LL, {{"city.hotline_office", ""}}}};
  uint64_t random = 42;
  auto next = [&random](uint64_t bound) {
    random = random * 6364136223846793005ULL + 1442695040888963407ULL;
    return (random >> 33) % bound;
  };
  std::vector<IndexedAlert> entries;
  for (int n = 1; n <= cases; ++n) {
    const int64_t created = 1'772'323'200'000LL + n * 7'854LL + static_cast<int64_t>(next(60'000));
    const std::string department = kDepartments[next(std::size(kDepartments))];
    char id[32];
    std::snprintf(id, sizeof(id), "HK-202603%02d-%06d", 1 + n / 11'000, n);
    for (const auto& stage : stages) {
      Alert alert;
      alert.case_id = CaseId{id};
      alert.rule = RuleId{"normal-handling"};
      alert.stage = stage.name;
      alert.alert_id = make_alert_id(alert.case_id, alert.rule, 1, alert.stage);
      alert.severity = stage.severity;
      alert.department = department;
      alert.due_at = from_millis(created + stage.after_ms);
      alert.rule_version = "d31222ec1b3b";
      alert.fired_at = from_millis(created + stage.after_ms + static_cast<int64_t>(next(5'000)));
      alert.emitted_at = alert.fired_at;
      alert.started_at = from_millis(created);
      alert.notify = stage.notify;
      entries.push_back(IndexedAlert{std::move(alert), "/slawatch"});
    }
  }
  return entries;
}

TEST(RocksDbFootprintTest, AlertIndexOfOpenCasesTakesUnderSixtyBytesPerAlertOnceCompacted) {
  // Each CloudEvent is ~650 bytes of JSON, most of it shared with the others
  // (keys, rule, stage, department, version). With the cases family's 4 KiB
  // blocks and no dictionary the compacted index took ~120 bytes per alert
  // (126 measured on a 1M-open-case replay: three quarters of its state).
  // Since the index keeps the alert's fields, not its text, a value is under
  // a quarter of the CloudEvent before any compression (WAL, memtable,
  // changelog), and the CloudEvent read back is the one delivered.
  testing::TempDatabase temp("slawatch-footprint-test");
  RocksDbStateStore store(temp.database, 0);
  const auto alerts = open_case_alerts(10'000);
  uint64_t json_bytes = 0;
  uint64_t value_bytes = 0;
  for (size_t begin = 0; begin < alerts.size(); begin += 1'000) {
    StateBatch batch;
    for (size_t i = begin; i < std::min(alerts.size(), begin + 1'000); ++i) {
      json_bytes += encode_alert_cloudevent(alerts[i].alert, alerts[i].source).size();
      value_bytes += encode_alert_index_value(alerts[i]).size();
      batch.alert_index.push_back(alerts[i]);
      // The cases family is compressed with a dictionary at the bottom too.
      batch.cases.emplace_back(CaseId{"C-" + std::to_string(i)}, alerts[i].alert.department + "/" + alerts[i].alert.alert_id);
    }
    ASSERT_TRUE(store.commit(batch).ok());
  }
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  auto* db = temp.database->db();
  ASSERT_TRUE(db->CompactRange(compact, temp.database->alerts(), nullptr, nullptr).ok());
  ASSERT_TRUE(db->CompactRange(compact, temp.database->cases(), nullptr, nullptr).ok());
  uint64_t sst_bytes = 0;
  ASSERT_TRUE(db->GetIntProperty(temp.database->alerts(), "rocksdb.total-sst-files-size", &sst_bytes));
  EXPECT_GT(json_bytes / alerts.size(), 600u) << "events the size of the pipeline's";
  EXPECT_LT(value_bytes * 4, json_bytes) << value_bytes / alerts.size() << " bytes per value";
  EXPECT_LT(sst_bytes / alerts.size(), 60u) << sst_bytes << " bytes of SST files for " << alerts.size() << " alerts";
  StateReader reader(temp.database);
  auto listed = reader.alerts_of_case(0, CaseId{"HK-20260301-000007"});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 3u);
  EXPECT_EQ((*listed)[0].event, encode_alert_cloudevent(alerts[3 * 6 + 1].alert, "/slawatch"))
      << "read back whole (breach sorts first)";
  EXPECT_EQ(**store.load_case(CaseId{"C-29999"}),
            alerts[29'999].alert.department + "/" + alerts[29'999].alert.alert_id);
}

}  // namespace
}  // namespace slawatch
