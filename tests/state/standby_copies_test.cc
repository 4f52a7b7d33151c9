// Standby copies (state/standby_copies.h): which partitions an instance stands
// by for, and copies that follow the changelog so that an assignment catches
// up from the tail only and ends with the owner's exact state.
#include "state/standby_copies.h"

#include <gtest/gtest.h>

#include "temp_database.h"

namespace slawatch {
namespace {

using testing::dump;

constexpr uint16_t kPartition = 2;

TEST(StandbyPartitionsTest, TheReplicasAfterEachOwnerInTheSortedRing) {
  const std::map<uint16_t, std::string> owners{{0, "a"}, {1, "b"}, {2, "c"}, {3, "a"}, {4, ""}};
  EXPECT_EQ(standby_partitions(owners, "b", 0), (std::set<uint16_t>{}));
  EXPECT_EQ(standby_partitions(owners, "b", 1), (std::set<uint16_t>{0, 3}));
  EXPECT_EQ(standby_partitions(owners, "c", 1), (std::set<uint16_t>{1}));
  EXPECT_EQ(standby_partitions(owners, "a", 1), (std::set<uint16_t>{2}));  // the ring wraps
  EXPECT_EQ(standby_partitions(owners, "b", 2), (std::set<uint16_t>{0, 2, 3}));
  // More replicas than other instances: each partition on every other instance, never its owner.
  EXPECT_EQ(standby_partitions(owners, "b", 8), (std::set<uint16_t>{0, 2, 3}));
  // An instance that owns nothing yet counts itself into the ring.
  EXPECT_EQ(standby_partitions(owners, "ab", 1), (std::set<uint16_t>{0, 3}));
  EXPECT_EQ(standby_partitions({}, "b", 1), (std::set<uint16_t>{}));
}

class StandbyCopiesTest : public ::testing::Test {
 protected:
  StandbyCopiesTest() : owner_machine_("slawatch-standby-owner"), standby_machine_("slawatch-standby-copy") {
    owner_ = std::make_unique<RocksDbStateStore>(owner_machine_.database, kPartition);
    EXPECT_TRUE(prepare(*owner_, "owner").ok());
  }

  Result<PartitionRestore> prepare(RocksDbStateStore& store, const std::string& instance) {
    return prepare_partition(store, changelog_,
                             RestoreContext{[this] { return "id" + std::to_string(++ids_); }, clock_, wall_, instance});
  }

  // Commit `n`: opens case C-n, closes (deletes) case C-(n-2), moves the checkpoint.
  void commit(int n) {
    StateBatch batch;
    batch.cases.emplace_back(CaseId{"C-" + std::to_string(n)}, "record " + std::to_string(n));
    if (n > 2) batch.case_deletes = {CaseId{"C-" + std::to_string(n - 2)}};
    batch.checkpoint = Checkpoint{from_millis(100 * n), "offset " + std::to_string(n), 1};
    ASSERT_TRUE(owner_->commit(batch).ok());
    ASSERT_TRUE(owner_->flush_changelog().ok());
  }

  testing::TempDatabase owner_machine_;
  testing::TempDatabase standby_machine_;
  MemoryChangelog changelog_;
  MemoryChangelogTail tail_{changelog_};
  ManualMonotonicClock clock_;
  ManualClock wall_;
  std::unique_ptr<RocksDbStateStore> owner_;
  int ids_ = 0;
};

TEST_F(StandbyCopiesTest, ACopyFollowsTheChangelogAndTheTakeoverReadsOnlyTheTail) {
  for (int n = 1; n <= 3; ++n) commit(n);
  StandbyCopies copies(standby_machine_.database, changelog_, tail_, wall_);
  ASSERT_TRUE(copies.keep({kPartition}).ok());
  auto applied = copies.poll(Duration{0});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, changelog_.records(kPartition).size());
  ASSERT_EQ(copies.status().size(), 1u);
  EXPECT_EQ(copies.status()[0].lag, 0);
  commit(4);
  commit(5);
  EXPECT_GT(copies.status()[0].lag, 0);  // arrived, not applied yet
  ASSERT_TRUE(copies.poll(Duration{0}).ok());
  EXPECT_EQ(copies.status()[0].lag, 0);
  // A copy that has read everything is simply current.
  {
    testing::TempDatabase scratch("slawatch-standby-scratch");
    MemoryChangelogTail other_tail(changelog_);
    StandbyCopies other(scratch.database, changelog_, other_tail, wall_);
    ASSERT_TRUE(other.keep({kPartition}).ok());
    ASSERT_TRUE(other.poll(Duration{0}).ok());
    ASSERT_TRUE(other.release(kPartition).ok());
    RocksDbStateStore current(scratch.database, kPartition);
    auto prepared = prepare(current, "other");
    ASSERT_TRUE(prepared.ok());
    EXPECT_EQ(prepared->verdict, LocalStateVerdict::current);
    EXPECT_NE(prepared->describe().find("local state is current with the changelog"), std::string::npos);
    EXPECT_EQ(dump(current), dump(*owner_));
  }
  commit(6);  // the owner dies after this commit; the copy has not read it

  ASSERT_TRUE(copies.release(kPartition).ok());
  EXPECT_FALSE(copies.holds(kPartition));
  RocksDbStateStore taken_over(standby_machine_.database, kPartition);
  const auto before = changelog_.records(kPartition).size();
  auto prepared = prepare(taken_over, "standby");
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  EXPECT_EQ(prepared->verdict, LocalStateVerdict::tail_behind);
  EXPECT_LT(prepared->records, before / 3);  // only commit 6
  EXPECT_GT(prepared->records, 0u);
  EXPECT_FALSE(taken_over.load_case(CaseId{"C-4"})->has_value());  // commit 6's tombstone
  auto owner_state = dump(*owner_);
  auto copy_state = dump(taken_over);
  EXPECT_EQ(copy_state, owner_state);
}

TEST_F(StandbyCopiesTest, ACopyKeptOnDiskResumesFromItsPositionAfterARestart) {
  commit(1);
  commit(2);
  {
    StandbyCopies copies(standby_machine_.database, changelog_, tail_, wall_);
    ASSERT_TRUE(copies.keep({kPartition}).ok());
    ASSERT_TRUE(copies.poll(Duration{0}).ok());
  }
  const int64_t kept_at = static_cast<int64_t>(changelog_.records(kPartition).size());
  commit(3);
  MemoryChangelogTail tail(changelog_);
  StandbyCopies restarted(standby_machine_.database, changelog_, tail, wall_);
  ASSERT_TRUE(restarted.keep({kPartition}).ok());
  EXPECT_EQ(restarted.status()[0].how_started, "from offset " + std::to_string(kept_at) + " (the copy kept here)");
  auto applied = restarted.poll(Duration{0});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, changelog_.records(kPartition).size() - static_cast<size_t>(kept_at));
  RocksDbStateStore copy(standby_machine_.database, kPartition);
  EXPECT_EQ(dump(copy), dump(*owner_));
}

TEST_F(StandbyCopiesTest, ACopyBelowTheLogStartIsRebuiltFromIt) {
  commit(1);
  {
    StandbyCopies copies(standby_machine_.database, changelog_, tail_, wall_);
    ASSERT_TRUE(copies.keep({kPartition}).ok());
    ASSERT_TRUE(copies.poll(Duration{0}).ok());
  }
  commit(2);
  commit(3);
  changelog_.compact(kPartition);
  changelog_.delete_before(kPartition, static_cast<int64_t>(changelog_.records(kPartition).size()) + 100);
  StandbyCopies restarted(standby_machine_.database, changelog_, tail_, wall_);
  ASSERT_TRUE(restarted.keep({kPartition}).ok());
  EXPECT_NE(restarted.status()[0].how_started.find("below the log start offset"), std::string::npos)
      << restarted.status()[0].how_started;
  RocksDbStateStore copy(standby_machine_.database, kPartition);
  EXPECT_FALSE(*copy.has_state());  // wiped, to be read from the log start
}

TEST_F(StandbyCopiesTest, ACopyNoLongerStoodByIsWipedAndItsNeighbourKept) {
  commit(1);
  RocksDbStateStore neighbour(standby_machine_.database, kPartition + 1);
  StateBatch own;
  own.cases.emplace_back(CaseId{"N-1"}, "owned here");
  ASSERT_TRUE(neighbour.commit(own).ok());
  StandbyCopies copies(standby_machine_.database, changelog_, tail_, wall_);
  ASSERT_TRUE(copies.keep({kPartition}).ok());
  ASSERT_TRUE(copies.poll(Duration{0}).ok());
  RocksDbStateStore copy(standby_machine_.database, kPartition);
  EXPECT_TRUE(*copy.has_state());
  ASSERT_TRUE(copies.keep({}).ok());
  EXPECT_TRUE(copies.status().empty());
  EXPECT_FALSE(*copy.has_state());
  EXPECT_TRUE(neighbour.load_case(CaseId{"N-1"})->has_value());
}

TEST_F(StandbyCopiesTest, AHalfArrivedBatchIsNotApplied) {
  commit(1);
  StandbyCopies copies(standby_machine_.database, changelog_, tail_, wall_);
  ASSERT_TRUE(copies.keep({kPartition}).ok());
  ASSERT_TRUE(copies.poll(Duration{0}).ok());
  // Commit 2's case record arrives without its marker.
  ASSERT_TRUE(changelog_.append(kPartition, {ChangelogRecord{StoreFamily::cases, "C-half", "x"}}).ok());
  ASSERT_TRUE(changelog_.wait_acknowledged(kPartition).ok());
  auto applied = copies.poll(Duration{0});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, 0u);
  RocksDbStateStore copy(standby_machine_.database, kPartition);
  EXPECT_FALSE(copy.load_case(CaseId{"C-half"})->has_value());
}

}  // namespace
}  // namespace slawatch
