// The changelog and restore (state/changelog.h, state/changelog_restore.h):
// every commit of a RocksDbStateStore is mirrored record for record with a
// closing marker; the changelog is at most one commit behind and never ahead;
// a lane's local state is used only when it is at the changelog's marker, and
// every other case restores exactly the bytes written (tombstones delete).
#include "state/changelog_restore.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "state/case_record.h"
#include "indexed_alert.h"
#include "temp_database.h"

namespace slawatch {
namespace {

using testing::dump;

constexpr uint16_t kPartition = 4;

Instant at(int64_t ms) { return from_millis(ms); }

// (lineage, commit) of a marker: the position, leaving the writer aside.
using Position = std::pair<std::string, uint64_t>;
Position position(const std::optional<ChangelogMarker>& marker) {
  return marker ? Position{marker->lineage, marker->commit} : Position{};
}

class ChangelogTest : public ::testing::Test {
 protected:
  // A fresh store on machine `which` (0 or 1) of the two the test simulates.
  std::unique_ptr<RocksDbStateStore> store_on(int which) {
    if (!machines_[which]) machines_[which] = std::make_unique<testing::TempDatabase>("slawatch-changelog-" +
                                                                                      std::to_string(which));
    return std::make_unique<RocksDbStateStore>(machines_[which]->database, kPartition);
  }

  Result<PartitionRestore> prepare(RocksDbStateStore& store, StateChangelog& changelog) {
    return prepare_partition(store, changelog,
                             RestoreContext{[this] { return "id" + std::to_string(++ids_); }, clock_, wall_, instance_});
  }

  // Commit `n` (from 1): a case, a timer that replaces the previous commit's,
  // an outbox entry that retires the previous one, a tally and the checkpoint.
  static Status commit_number(RocksDbStateStore& store, int n) {
    StateBatch batch;
    batch.cases.emplace_back(CaseId{"C-" + std::to_string(n)}, "record of commit " + std::to_string(n));
    batch.timer_puts = {TimerKey{at(1000 * n), CaseId{"C-" + std::to_string(n)}}};
    if (n > 1) batch.timer_deletes = {TimerKey{at(1000 * (n - 1)), CaseId{"C-" + std::to_string(n - 1)}}};
    batch.outbox_puts = {OutboxEntry{static_cast<uint64_t>(n), OutboxEntry::Channel::alerts, "C",
                                     "alert " + std::to_string(n), {{"ce_id", "id-" + std::to_string(n)}}}};
    if (n > 1) batch.outbox_deletes = {static_cast<uint64_t>(n - 1)};
    batch.alert_index = {
        testing::indexed_alert("C-" + std::to_string(n) + "/r/1/1", AlertIndexEntry::State::firing, "d")};
    batch.tallies = {{"open", 1}};
    batch.checkpoint = Checkpoint{at(100 * n), "offset " + std::to_string(10 * n), static_cast<uint64_t>(n + 1)};
    return store.commit(batch);
  }

  std::unique_ptr<testing::TempDatabase> machines_[2];
  MemoryChangelog changelog_;
  ManualMonotonicClock clock_;
  ManualClock wall_;
  std::string instance_ = "instance-a";
  int ids_ = 0;  // lineages and writers
};

TEST(ChangelogRecordTest, TopicKeyRoundTripsAndRejectsUnknownFamilies) {
  const ChangelogRecord record{StoreFamily::timers, std::string("\0\x01k", 3), std::nullopt};
  EXPECT_EQ(ChangelogRecord::from_topic(record.topic_key(), std::nullopt), record);
  EXPECT_FALSE(ChangelogRecord::from_topic("", std::nullopt));
  EXPECT_FALSE(ChangelogRecord::from_topic(std::string(1, '\x06') + "k", std::nullopt));
  EXPECT_FALSE(ChangelogRecord::from_topic(std::string(1, '\x00') + "k", std::nullopt));
}

TEST(ChangelogMarkerTest, EncodesAndRefusesDamage) {
  const ChangelogMarker marker{"abc", 42, "w"};
  EXPECT_EQ(ChangelogMarker::decode(marker.encode()), marker);
  EXPECT_EQ(ChangelogMarker::of(marker.record()), marker);
  EXPECT_FALSE(ChangelogMarker::decode(marker.encode() + "x"));
  EXPECT_FALSE(ChangelogMarker::decode(ChangelogMarker{"", 1, "w"}.encode()));
  EXPECT_FALSE(ChangelogMarker::of(ChangelogRecord{StoreFamily::meta, "changelog", std::nullopt}));
}

TEST(ChangelogMarkerTest, CarriesTheInstanceAndReadsMarkersWrittenWithoutOne) {
  const ChangelogMarker marker{"abc", 42, "w", "host-1"};
  EXPECT_EQ(ChangelogMarker::decode(marker.encode())->instance, "host-1");
  std::string format_1;
  format_1.push_back('\x01');
  codec::put_string(format_1, "abc");
  codec::put_varint(format_1, 42);
  codec::put_string(format_1, "w");
  EXPECT_EQ(ChangelogMarker::decode(format_1), (ChangelogMarker{"abc", 42, "w", ""}));
  EXPECT_FALSE(ChangelogMarker::decode(format_1 + "x"));
  format_1[0] = '\x03';
  EXPECT_FALSE(ChangelogMarker::decode(format_1));
}

TEST(ChangelogPositionTest, EncodesAndRefusesDamage) {
  const ChangelogPosition position{ChangelogMarker{"L", 3, "w", "i"}, ChangelogOffset{120, at(7000)}};
  EXPECT_EQ(ChangelogPosition::decode(position.encode()), position);
  EXPECT_FALSE(ChangelogPosition::decode(position.encode() + "x"));
  EXPECT_FALSE(ChangelogPosition::decode(""));
}

TEST(TailRefusalTest, EachLimitAndItsEdge) {
  const ChangelogPosition position{ChangelogMarker{"L", 3, "w", "i"}, ChangelogOffset{100, at(0)}};
  EXPECT_FALSE(tail_refusal(position, ChangelogBounds{100, 100}, at(0)));
  EXPECT_FALSE(tail_refusal(position, ChangelogBounds{0, 500}, at(0) + kCatchUpWithin));
  EXPECT_TRUE(tail_refusal(position, ChangelogBounds{101, 500}, at(0)));
  EXPECT_TRUE(tail_refusal(position, ChangelogBounds{0, 99}, at(0)));
  EXPECT_TRUE(tail_refusal(position, ChangelogBounds{0, 500}, at(0) + kCatchUpWithin + std::chrono::milliseconds(1)));
}

TEST(JudgeLocalStateTest, EachVerdict) {
  const ChangelogMarker at5{"L", 5, "w"};
  const auto tail = std::optional<ChangelogRecord>{at5.record()};
  const auto no_tail = std::optional<ChangelogRecord>{};
  const auto unfinished = std::optional<ChangelogRecord>{ChangelogRecord{StoreFamily::cases, "C", "x"}};
  EXPECT_EQ(judge_local_state(std::nullopt, false, no_tail), LocalStateVerdict::fresh);
  EXPECT_EQ(judge_local_state(std::nullopt, true, no_tail), LocalStateVerdict::seeded);
  EXPECT_EQ(judge_local_state(at5, true, no_tail), LocalStateVerdict::seeded);
  EXPECT_EQ(judge_local_state(std::nullopt, false, tail), LocalStateVerdict::missing);
  EXPECT_EQ(judge_local_state(std::nullopt, true, tail), LocalStateVerdict::another_lineage);
  EXPECT_EQ(judge_local_state(ChangelogMarker{"M", 5, "w"}, true, tail), LocalStateVerdict::another_lineage);
  EXPECT_EQ(judge_local_state(at5, true, tail), LocalStateVerdict::current);
  EXPECT_EQ(judge_local_state(ChangelogMarker{"L", 4, "w"}, true, tail), LocalStateVerdict::behind);
  EXPECT_EQ(judge_local_state(ChangelogMarker{"L", 6, "w"}, true, tail), LocalStateVerdict::ahead);
  EXPECT_EQ(judge_local_state(ChangelogMarker{"L", 5, "v"}, true, tail), LocalStateVerdict::diverged);
  EXPECT_EQ(judge_local_state(at5, true, unfinished), LocalStateVerdict::unfinished);
  EXPECT_EQ(judge_local_state(at5, false, unfinished), LocalStateVerdict::missing);
  EXPECT_FALSE(restores(LocalStateVerdict::current));
  EXPECT_TRUE(restores(LocalStateVerdict::ahead));
}

TEST_F(ChangelogTest, ACommitIsMirroredRecordForRecordEndingWithItsMarker) {
  auto store = store_on(0);
  auto prepared = prepare(*store, changelog_);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::fresh);
  const std::string lineage = prepared->marker.lineage;
  EXPECT_EQ(prepared->marker.commit, 0u);
  ASSERT_TRUE(commit_number(*store, 1).ok());
  ASSERT_TRUE(commit_number(*store, 2).ok());
  ASSERT_TRUE(store->flush_changelog().ok());
  const auto& log = changelog_.records(kPartition);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(position(ChangelogMarker::of(log.back())), (Position{lineage, 2}));
  auto marker = store->load_changelog_marker();
  ASSERT_TRUE(marker.ok());
  EXPECT_EQ(*marker, ChangelogMarker::of(log.back()));
  // Commit 2 deleted commit 1's timer and outbox entry: tombstones, keyed without the partition prefix.
  std::string timer_1(8, '\0');
  const uint64_t biased = static_cast<uint64_t>(1000) ^ (1ull << 63);
  for (int i = 0; i < 8; ++i) timer_1[i] = static_cast<char>(biased >> (56 - 8 * i));
  const ChangelogRecord timer_tombstone{StoreFamily::timers, timer_1 + "C-1", std::nullopt};
  EXPECT_NE(std::find(log.begin(), log.end(), timer_tombstone), log.end());
  const ChangelogRecord case_2{StoreFamily::cases, "C-2", "record of commit 2"};
  EXPECT_NE(std::find(log.begin(), log.end(), case_2), log.end());
}

// The store deletes a run of delivered outbox entries with one range
// tombstone; the changelog gets one tombstone per entry, keyed as its put was,
// so a compacted topic forgets each entry and a restore leaves none behind.
TEST_F(ChangelogTest, ARangeOfDeliveredOutboxEntriesIsMirroredAsOneTombstoneEach) {
  auto store = store_on(0);
  ASSERT_TRUE(prepare(*store, changelog_).ok());
  StateBatch batch;
  for (uint64_t seq = 1; seq <= 5; ++seq) {
    batch.outbox_puts.push_back(OutboxEntry{seq, OutboxEntry::Channel::alerts, "C", "alert", {}});
  }
  ASSERT_TRUE(store->commit(batch).ok());
  StateBatch retire;
  retire.outbox_deletes = {2, 3, 4};
  ASSERT_TRUE(store->commit(retire).ok());
  ASSERT_TRUE(store->flush_changelog().ok());
  std::vector<std::string> tombstones;
  for (const auto& record : changelog_.records(kPartition)) {
    if (record.family == StoreFamily::outbox && !record.value) tombstones.push_back(record.key);
  }
  auto seq_key = [](uint64_t seq) {
    std::string key(8, '\0');
    for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(seq >> (56 - 8 * i));
    return key;
  };
  EXPECT_EQ(tombstones, (std::vector<std::string>{seq_key(2), seq_key(3), seq_key(4)}));
  // Restored on another machine from the changelog: entries 1 and 5 only.
  auto other = store_on(1);
  auto restored = prepare(*other, changelog_);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  const auto outbox = other->load_outbox();
  ASSERT_TRUE(outbox.ok());
  std::vector<uint64_t> left;
  for (const auto& entry : *outbox) left.push_back(entry.seq);
  EXPECT_EQ(left, (std::vector<uint64_t>{1, 5}));
}

TEST_F(ChangelogTest, ChangelogIsAtMostOneCommitBehindAndNeverAhead) {
  auto store = store_on(0);
  auto prepared = prepare(*store, changelog_);
  ASSERT_TRUE(prepared.ok());
  ASSERT_TRUE(commit_number(*store, 1).ok());
  // Committed locally, in flight to the changelog: one commit behind.
  EXPECT_TRUE(changelog_.records(kPartition).empty());
  EXPECT_GT(changelog_.in_flight(kPartition), 0u);
  ASSERT_TRUE(commit_number(*store, 2).ok());
  // Commit 2 waited for commit 1's acknowledgement before writing.
  EXPECT_EQ(position(ChangelogMarker::of(changelog_.records(kPartition).back())),
            (Position{prepared->marker.lineage, 1}));
  // The broker refuses commit 2's records: commit 3 fails and changes nothing locally.
  changelog_.set_broker_up(false);
  auto failed = commit_number(*store, 3);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("changelog behind the local state by one commit"), std::string::npos);
  EXPECT_EQ(store->load_checkpoint()->source_position, "offset 20");
  // Back up: commit 2's records are sent again, in order, before commit 3's.
  changelog_.set_broker_up(true);
  ASSERT_TRUE(commit_number(*store, 3).ok());
  ASSERT_TRUE(store->flush_changelog().ok());
  std::vector<uint64_t> markers;
  for (const auto& r : changelog_.records(kPartition)) {
    if (auto m = ChangelogMarker::of(r)) markers.push_back(m->commit);
  }
  EXPECT_EQ(markers, (std::vector<uint64_t>{1, 2, 3}));
}

// What delivery asks before output may leave (pipeline.cc): answered without
// waiting, and a refused append is sent again by the asking, not only by the
// next commit (a quiet partition may have no next commit for a long time).
TEST_F(ChangelogTest, ReplicationOfTheLastCommitIsAnsweredWithoutWaiting) {
  auto store = store_on(0);
  ASSERT_TRUE(prepare(*store, changelog_).ok());
  EXPECT_TRUE(*store->last_commit_replicated(false)) << "nothing committed yet";
  changelog_.hold_acknowledgements(true);
  ASSERT_TRUE(commit_number(*store, 1).ok());
  EXPECT_FALSE(*store->last_commit_replicated(false)) << "commit 1 in flight";
  changelog_.hold_acknowledgements(false);
  EXPECT_TRUE(*store->last_commit_replicated(false));
  EXPECT_EQ(position(ChangelogMarker::of(changelog_.records(kPartition).back())).second, 1u);

  ASSERT_TRUE(commit_number(*store, 2).ok());
  changelog_.set_broker_up(false);
  auto refused = store->last_commit_replicated(false);
  ASSERT_FALSE(refused.ok()) << "a refusal is reported";
  EXPECT_NE(refused.error().message.find("refused"), std::string::npos);
  changelog_.set_broker_up(true);
  EXPECT_TRUE(*store->last_commit_replicated(false)) << "commit 2's records were sent again";
  EXPECT_EQ(position(ChangelogMarker::of(changelog_.records(kPartition).back())).second, 2u);

  changelog_.hold_acknowledgements(true);
  ASSERT_TRUE(commit_number(*store, 3).ok());
  EXPECT_TRUE(*store->last_commit_replicated(true)) << "waiting delivers what is held";
}

TEST_F(ChangelogTest, MissingStateIsRestoredByteForByteAndTheOutboxTravels) {
  auto source = store_on(0);
  auto started = prepare(*source, changelog_);
  ASSERT_TRUE(started.ok());
  for (int n = 1; n <= 3; ++n) ASSERT_TRUE(commit_number(*source, n).ok());
  ASSERT_TRUE(source->flush_changelog().ok());

  auto target = store_on(1);
  auto restored = prepare(*target, changelog_);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(restored->verdict, LocalStateVerdict::missing);
  EXPECT_EQ(restored->case_records, 3u);
  EXPECT_EQ(position(restored->marker), (Position{started->marker.lineage, 3}));
  EXPECT_EQ(dump(*target), dump(*source));
  // The undelivered output is exactly the source's: only commit 3's entry.
  auto outbox = target->load_outbox();
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].seq, 3u);
  EXPECT_EQ((*outbox)[0].headers, (RecordHeaders{{"ce_id", "id-3"}}));
  EXPECT_EQ(target->load_checkpoint()->source_position, "offset 30");
  EXPECT_EQ(*target->pending_timers(), 1u);
  EXPECT_EQ(target->tallies()->at("open"), 3);
  EXPECT_NE(restored->describe().find("(local state was missing)"), std::string::npos);
  // The restored store goes on in the same lineage, as another writer.
  ASSERT_TRUE(commit_number(*target, 4).ok());
  ASSERT_TRUE(target->flush_changelog().ok());
  const auto fourth = ChangelogMarker::of(changelog_.records(kPartition).back());
  EXPECT_EQ(position(fourth), (Position{started->marker.lineage, 4}));
  EXPECT_NE(fourth->writer, restored->marker.writer);
}

TEST_F(ChangelogTest, TombstonesDeleteAlsoAfterCompaction) {
  auto source = store_on(0);
  ASSERT_TRUE(prepare(*source, changelog_).ok());
  ASSERT_TRUE(commit_number(*source, 1).ok());
  StateBatch purge;
  purge.case_deletes = {CaseId{"C-1"}};
  purge.checkpoint = Checkpoint{at(150), "offset 15", 2};
  ASSERT_TRUE(source->commit(purge).ok());
  ASSERT_TRUE(source->flush_changelog().ok());
  changelog_.compact(kPartition);

  auto target = store_on(1);
  auto restored = prepare(*target, changelog_);
  ASSERT_TRUE(restored.ok());
  EXPECT_FALSE(target->load_case(CaseId{"C-1"})->has_value());
  bool any_alert = false;
  ASSERT_TRUE(target->for_each_alert([&any_alert](const AlertIndexEntry&) { return any_alert = true; }).ok());
  EXPECT_FALSE(any_alert);
  EXPECT_EQ(dump(*target), dump(*source));
}

TEST_F(ChangelogTest, CurrentLocalStateIsUsedAsItIs) {
  auto first = store_on(0);
  ASSERT_TRUE(prepare(*first, changelog_).ok());
  ASSERT_TRUE(commit_number(*first, 1).ok());
  ASSERT_TRUE(first->flush_changelog().ok());
  const size_t records = changelog_.records(kPartition).size();
  auto again = store_on(0);
  auto prepared = prepare(*again, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::current);
  EXPECT_EQ(prepared->records, 0u);
  EXPECT_EQ(changelog_.records(kPartition).size(), records);
}

TEST_F(ChangelogTest, BehindLocalStateWithoutAKnownOffsetIsRestored) {
  auto owner = store_on(0);
  ASSERT_TRUE(prepare(*owner, changelog_).ok());
  ASSERT_TRUE(commit_number(*owner, 1).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());
  auto stale = store_on(1);
  ASSERT_TRUE(prepare(*stale, changelog_).ok());  // a copy at commit 1
  ASSERT_TRUE(commit_number(*stale, 2).ok());     // ...that committed locally, never acknowledged
  ASSERT_TRUE(commit_number(*owner, 2).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());
  ASSERT_TRUE(commit_number(*owner, 3).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());

  auto returning = store_on(1);
  EXPECT_FALSE(returning->load_changelog_position()->has_value());
  auto prepared = prepare(*returning, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::behind);
  EXPECT_FALSE(prepared->caught_up_from.has_value());
  EXPECT_EQ(dump(*returning), dump(*owner));
}

TEST_F(ChangelogTest, AFlushRecordsWhereTheLocalStateStandsUntilTheNextCommit) {
  auto owner = store_on(0);
  ASSERT_TRUE(prepare(*owner, changelog_).ok());
  ASSERT_TRUE(commit_number(*owner, 1).ok());
  changelog_.set_now(at(5000));
  ASSERT_TRUE(owner->flush_changelog().ok());
  auto position = owner->load_changelog_position();
  ASSERT_TRUE(position.ok() && position->has_value());
  EXPECT_EQ((*position)->marker, **owner->load_changelog_marker());
  EXPECT_EQ((*position)->marker.instance, "instance-a");
  EXPECT_EQ((*position)->offset, (ChangelogOffset{static_cast<int64_t>(changelog_.records(kPartition).size()), at(5000)}));
  // The position is not state: a dump (and a seed) leaves it out.
  for (const auto& record : dump(*owner)) EXPECT_NE(record.key, ChangelogPosition::kKey);
  ASSERT_TRUE(commit_number(*owner, 2).ok());
  EXPECT_FALSE(owner->load_changelog_position()->has_value());
}

// A copy built from the changelog up to commit 2, and the owner gone on to commit 5.
class TailCatchUpTest : public ChangelogTest {
 protected:
  void SetUp() override {
    owner_ = store_on(0);
    ASSERT_TRUE(prepare(*owner_, changelog_).ok());
    for (int n = 1; n <= 2; ++n) ASSERT_TRUE(commit_number(*owner_, n).ok());
    ASSERT_TRUE(owner_->flush_changelog().ok());
    auto copy = store_on(1);
    ASSERT_TRUE(prepare(*copy, changelog_).ok());
    copy_offset_ = static_cast<int64_t>(changelog_.records(kPartition).size());
    for (int n = 3; n <= 5; ++n) ASSERT_TRUE(commit_number(*owner_, n).ok());
    StateBatch purge;  // a tombstone in the tail for a case the copy holds
    purge.case_deletes = {CaseId{"C-1"}};
    purge.checkpoint = Checkpoint{at(550), "offset 55", 6};
    ASSERT_TRUE(owner_->commit(purge).ok());
    ASSERT_TRUE(owner_->flush_changelog().ok());
  }

  std::unique_ptr<RocksDbStateStore> owner_;
  int64_t copy_offset_ = 0;
};

TEST_F(TailCatchUpTest, ACopyAtAKnownOffsetReadsOnlyTheTailAndEqualsAFullRestore) {
  auto copy = store_on(1);
  ASSERT_TRUE(copy->load_changelog_position()->has_value());
  EXPECT_EQ((*copy->load_changelog_position())->offset.next, copy_offset_);
  auto caught_up = prepare(*copy, changelog_);
  ASSERT_TRUE(caught_up.ok()) << caught_up.error().message;
  EXPECT_EQ(caught_up->verdict, LocalStateVerdict::tail_behind);
  EXPECT_EQ(caught_up->caught_up_from, copy_offset_);
  EXPECT_EQ(caught_up->records, changelog_.records(kPartition).size() - static_cast<size_t>(copy_offset_));
  EXPECT_NE(caught_up->describe().find("caught up " + std::to_string(caught_up->records) + " records from offset " +
                                       std::to_string(copy_offset_)),
            std::string::npos)
      << caught_up->describe();
  // The tail's tombstone deleted the case and its alert index entry.
  EXPECT_FALSE(copy->load_case(CaseId{"C-1"})->has_value());
  EXPECT_FALSE(copy->read_record(StoreFamily::alerts, "C-1/r/1/1")->has_value());
  EXPECT_EQ(dump(*copy), dump(*owner_));
  // A full restore of the same changelog holds the same bytes.
  testing::TempDatabase elsewhere("slawatch-changelog-full");
  RocksDbStateStore full(elsewhere.database, kPartition);
  auto restored = prepare(full, changelog_);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->verdict, LocalStateVerdict::missing);
  EXPECT_EQ(dump(full), dump(*copy));
  // The caught-up copy knows its new position: the changelog's end.
  EXPECT_EQ((*copy->load_changelog_position())->offset.next, static_cast<int64_t>(changelog_.records(kPartition).size()));
}

TEST_F(TailCatchUpTest, CompactionAfterTheOffsetStillCatchesUpToTheSameState) {
  changelog_.compact(kPartition);
  auto copy = store_on(1);
  auto caught_up = prepare(*copy, changelog_);
  ASSERT_TRUE(caught_up.ok());
  EXPECT_EQ(caught_up->verdict, LocalStateVerdict::tail_behind);
  EXPECT_EQ(dump(*copy), dump(*owner_));
}

TEST_F(TailCatchUpTest, RecordsDeletedBelowTheOffsetMeanAFullRestore) {
  changelog_.delete_before(kPartition, copy_offset_ + 1);
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::behind);
  EXPECT_FALSE(prepared->caught_up_from.has_value());
  EXPECT_NE(prepared->describe().find("below the log start offset " + std::to_string(copy_offset_ + 1)),
            std::string::npos)
      << prepared->describe();
}

TEST_F(TailCatchUpTest, ALogStartExactlyAtTheOffsetStillCatchesUp) {
  changelog_.delete_before(kPartition, copy_offset_);
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::tail_behind);
  EXPECT_EQ(dump(*copy), dump(*owner_));
}

TEST_F(TailCatchUpTest, APositionOlderThanTombstonesAreSurelyKeptMeansAFullRestore) {
  wall_.set(at(0) + kCatchUpWithin + std::chrono::milliseconds(1));
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::behind);
  EXPECT_NE(prepared->describe().find("tombstones after it may be compacted away"), std::string::npos);
  EXPECT_EQ(dump(*copy), dump(*owner_));
}

TEST_F(TailCatchUpTest, APositionExactlyAtTheAgeLimitCatchesUp) {
  wall_.set(at(0) + kCatchUpWithin);
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::tail_behind);
}

TEST_F(TailCatchUpTest, ATailThatDoesNotContinueTheLocalHistoryMeansAFullRestore) {
  // A stale writer's commit 1 lands after the copy's offset, then the owner goes on.
  ASSERT_TRUE(changelog_.append(kPartition, {ChangelogRecord{StoreFamily::cases, "C-zombie", "stale"},
                                             ChangelogMarker{(*store_on(1)->load_changelog_marker())->lineage, 1,
                                                             "zombie"}.record()}).ok());
  ASSERT_TRUE(changelog_.wait_acknowledged(kPartition).ok());
  ASSERT_TRUE(commit_number(*owner_, 6).ok());
  ASSERT_TRUE(owner_->flush_changelog().ok());
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::behind);
  EXPECT_NE(prepared->full_restore_reason.find("does not continue the local history"), std::string::npos);
  testing::TempDatabase elsewhere("slawatch-changelog-full");
  RocksDbStateStore full(elsewhere.database, kPartition);
  ASSERT_TRUE(prepare(full, changelog_).ok());
  EXPECT_EQ(dump(*copy), dump(full));
}

TEST_F(TailCatchUpTest, AnUnfinishedTailIsCaughtUpToItsLastWholeBatchAndSetBack) {
  const auto at_commit_6 = dump(*owner_);
  ASSERT_TRUE(commit_number(*owner_, 7).ok());
  ASSERT_TRUE(owner_->flush_changelog().ok());
  changelog_.truncate_tail(kPartition, 3);  // commit 7's writer died mid-batch
  auto copy = store_on(1);
  auto prepared = prepare(*copy, changelog_);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::tail_behind);
  EXPECT_GT(prepared->repaired, 0u);
  auto state = dump(*copy);
  auto expected = at_commit_6;
  for (auto* records : {&state, &expected}) {
    std::erase_if(*records, [](const ChangelogRecord& r) { return ChangelogMarker::of(r).has_value(); });
  }
  EXPECT_EQ(state, expected);
}

TEST_F(ChangelogTest, AheadLocalStateIsDiscarded) {
  auto store = store_on(0);
  ASSERT_TRUE(prepare(*store, changelog_).ok());
  ASSERT_TRUE(commit_number(*store, 1).ok());
  ASSERT_TRUE(store->flush_changelog().ok());
  const auto at_commit_1 = dump(*store);
  ASSERT_TRUE(commit_number(*store, 2).ok());
  // The process dies before commit 2 reaches the changelog.
  changelog_.set_broker_up(false);
  EXPECT_FALSE(changelog_.wait_acknowledged(kPartition).ok());
  changelog_.set_broker_up(true);

  auto restarted = store_on(0);
  // The position recorded at commit 1 does not vouch for commit 2.
  EXPECT_FALSE(restarted->load_changelog_position()->has_value());
  auto prepared = prepare(*restarted, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::ahead);
  EXPECT_EQ(dump(*restarted), at_commit_1);
  EXPECT_EQ(restarted->load_checkpoint()->source_position, "offset 10");
}

TEST_F(ChangelogTest, AnOwnerThatDiedUnacknowledgedDivergesFromTheNextOwner) {
  auto first = store_on(0);
  ASSERT_TRUE(prepare(*first, changelog_).ok());
  ASSERT_TRUE(commit_number(*first, 1).ok());
  ASSERT_TRUE(first->flush_changelog().ok());
  ASSERT_TRUE(commit_number(*first, 2).ok());  // local only: the process dies before the acknowledgement
  changelog_.set_broker_up(false);
  EXPECT_FALSE(changelog_.wait_acknowledged(kPartition).ok());
  changelog_.set_broker_up(true);
  // The next owner restores commit 1 and makes its own commit 2 (different content).
  auto next = store_on(1);
  ASSERT_TRUE(prepare(*next, changelog_).ok());
  StateBatch other;
  other.cases.emplace_back(CaseId{"C-other"}, "the next owner's record");
  other.checkpoint = Checkpoint{at(170), "offset 17", 2};
  ASSERT_TRUE(next->commit(other).ok());
  ASSERT_TRUE(next->flush_changelog().ok());

  // Same lineage, same commit number, another writer: never trusted.
  auto returning = store_on(0);
  auto prepared = prepare(*returning, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::diverged);
  EXPECT_EQ(dump(*returning), dump(*next));
  EXPECT_FALSE(returning->load_case(CaseId{"C-2"})->has_value());
}

TEST_F(ChangelogTest, AnotherLineageIsDiscarded) {
  auto owner = store_on(0);
  ASSERT_TRUE(prepare(*owner, changelog_).ok());
  ASSERT_TRUE(commit_number(*owner, 1).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());
  // Machine 1 has state of its own history (another group's changelog), further along.
  MemoryChangelog elsewhere;
  auto foreign = store_on(1);
  ASSERT_TRUE(prepare(*foreign, elsewhere).ok());
  for (int n = 1; n <= 3; ++n) ASSERT_TRUE(commit_number(*foreign, n).ok());

  auto joining = store_on(1);
  auto prepared = prepare(*joining, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::another_lineage);
  EXPECT_EQ(dump(*joining), dump(*owner));
}

TEST_F(ChangelogTest, StateWithoutChangelogIsPublishedThenRestorable) {
  auto store = store_on(0);
  for (int n = 1; n <= 2; ++n) ASSERT_TRUE(commit_number(*store, n).ok());  // no changelog attached yet
  auto upgraded = store_on(0);
  auto prepared = prepare(*upgraded, changelog_);
  ASSERT_TRUE(prepared.ok());
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::seeded);
  EXPECT_EQ(prepared->marker.commit, 1u);
  EXPECT_EQ(ChangelogMarker::of(changelog_.records(kPartition).back()), prepared->marker);

  auto target = store_on(1);
  auto restored = prepare(*target, changelog_);
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->verdict, LocalStateVerdict::missing);
  EXPECT_EQ(dump(*target), dump(*upgraded));
}

TEST_F(ChangelogTest, UnfinishedBatchIsLeftOutAndSetBack) {
  auto owner = store_on(0);
  auto started = prepare(*owner, changelog_);
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(commit_number(*owner, 1).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());
  const auto at_commit_1 = dump(*owner);
  ASSERT_TRUE(commit_number(*owner, 2).ok());
  ASSERT_TRUE(owner->flush_changelog().ok());
  // The writer died after part of commit 2: its marker and last records never arrived.
  changelog_.truncate_tail(kPartition, 3);

  auto target = store_on(1);
  auto restored = prepare(*target, changelog_);
  ASSERT_TRUE(restored.ok()) << restored.error().message;
  EXPECT_EQ(restored->verdict, LocalStateVerdict::missing);
  EXPECT_GT(restored->repaired, 0u);
  EXPECT_EQ(position(restored->marker), (Position{started->marker.lineage, 2}));
  auto restored_state = dump(*target);
  std::erase_if(restored_state, [](const ChangelogRecord& r) { return ChangelogMarker::of(r).has_value(); });
  auto expected = at_commit_1;
  std::erase_if(expected, [](const ChangelogRecord& r) { return ChangelogMarker::of(r).has_value(); });
  EXPECT_EQ(restored_state, expected);
  // A later reader of the repaired changelog, compacted or not, sees the same state.
  changelog_.compact(kPartition);
  auto reader = store_on(0);
  ASSERT_TRUE(reader->wipe().ok());
  auto again = prepare(*reader, changelog_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->verdict, LocalStateVerdict::missing);
  EXPECT_EQ(dump(*reader), dump(*target));
}

TEST_F(ChangelogTest, WipeRemovesThePartitionOnlyMarkerIncluded) {
  auto store = store_on(0);
  ASSERT_TRUE(prepare(*store, changelog_).ok());
  ASSERT_TRUE(commit_number(*store, 1).ok());
  RocksDbStateStore neighbour(machines_[0]->database, kPartition + 1);
  ASSERT_TRUE(commit_number(neighbour, 1).ok());
  const auto neighbour_before = dump(neighbour);
  ASSERT_TRUE(store->wipe().ok());
  EXPECT_FALSE(*store->has_state());
  EXPECT_FALSE(store->load_changelog_marker()->has_value());
  EXPECT_EQ(*store->pending_timers(), 0u);
  EXPECT_TRUE(store->tallies()->empty());
  EXPECT_EQ(dump(neighbour), neighbour_before);
}

}  // namespace
}  // namespace slawatch
