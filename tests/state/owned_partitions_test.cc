// Which partitions this instance owns: none until assigned (Kafka), every one
// for file input; readers on other threads see a consistent set while it changes.
#include "state/owned_partitions.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

namespace slawatch {
namespace {

TEST(OwnedPartitions, NoneUntilAssignedThenFollowsAssignmentsAndRevocations) {
  OwnedPartitions owned;
  EXPECT_FALSE(owned.owns(0));
  EXPECT_FALSE(owned.owns_everything());
  owned.add(5);
  owned.add(2);
  EXPECT_TRUE(owned.owns(2));
  EXPECT_TRUE(owned.owns(5));
  EXPECT_FALSE(owned.owns(3));
  EXPECT_EQ(owned.list(), (std::vector<uint16_t>{2, 5}));
  owned.remove(5);
  owned.remove(7);  // never owned: nothing happens
  EXPECT_FALSE(owned.owns(5));
  EXPECT_EQ(owned.list(), (std::vector<uint16_t>{2}));
}

TEST(OwnedPartitions, RemembersTheLastKnownOwnerOfEachPartitionUntilForgotten) {
  OwnedPartitions owned;
  EXPECT_FALSE(owned.last_known_owner(3).has_value());
  owned.learn_owner(3, "node-a");
  owned.learn_owner(3, "node-b");
  EXPECT_EQ(owned.last_known_owner(3), "node-b");
  EXPECT_FALSE(owned.last_known_owner(4).has_value());
  owned.learn_owner(3, "");
  EXPECT_FALSE(owned.last_known_owner(3).has_value());
}

TEST(OwnedPartitions, FileInputOwnsEveryPartitionAndListsNone) {
  OwnedPartitions owned(OwnedPartitions::Initially::everything);
  EXPECT_TRUE(owned.owns_everything());
  EXPECT_TRUE(owned.owns(0));
  EXPECT_TRUE(owned.owns(0xffff));
  EXPECT_TRUE(owned.list().empty());
}

TEST(OwnedPartitions, ReadersOnOtherThreadsSeeEachPartitionOwnedOrNot) {
  OwnedPartitions owned;
  owned.add(0);
  std::atomic<bool> stop{false};
  std::atomic<size_t> reads{0};
  std::thread reader([&] {
    while (!stop.load()) {
      EXPECT_TRUE(owned.owns(0));  // never touched by the writer
      const auto listed = owned.list();
      EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
      ++reads;
    }
  });
  for (int round = 0; round < 20000; ++round) {
    owned.add(static_cast<uint16_t>(1 + round % 7));
    owned.remove(static_cast<uint16_t>(1 + (round + 3) % 7));
  }
  while (reads.load() < 100) std::this_thread::yield();
  stop = true;
  reader.join();
  EXPECT_TRUE(owned.owns(0));
}

}  // namespace
}  // namespace slawatch
