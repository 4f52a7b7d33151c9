// The in-memory store keeps its cases hashed; what it shows of them stays in
// case id order, and a commit still replaces, deletes and revives exactly.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "state/store.h"

namespace slawatch {
namespace {

std::vector<std::string> visited_ids(MemoryStateStore& store, size_t stop_after = SIZE_MAX) {
  std::vector<std::string> ids;
  EXPECT_TRUE(store
                  .for_each_case([&](const CaseId& id, std::string_view) {
                    ids.push_back(std::string(id.str()));
                    return ids.size() < stop_after;
                  })
                  .ok());
  return ids;
}

TEST(MemoryStateStore, VisitsCasesInIdOrderWhateverTheirCommitOrder) {
  MemoryStateStore store;
  const std::vector<std::string> scrambled = {"C-7", "C-10", "C-1", "B-9", "C-2", "C-100", "A", "C-09"};
  for (const auto& id : scrambled) {
    StateBatch batch;
    batch.cases.emplace_back(CaseId{id}, "record of " + id);
    ASSERT_TRUE(store.commit(batch).ok());
  }
  EXPECT_EQ(visited_ids(store), (std::vector<std::string>{"A", "B-9", "C-09", "C-1", "C-10", "C-100", "C-2", "C-7"}));
  EXPECT_EQ(visited_ids(store, 3), (std::vector<std::string>{"A", "B-9", "C-09"}));
}

TEST(MemoryStateStore, ACommitReplacesDeletesAndRevivesCases) {
  MemoryStateStore store;
  StateBatch first;
  first.cases.emplace_back(CaseId{"C-1"}, "old");
  first.cases.emplace_back(CaseId{"C-2"}, "two");
  ASSERT_TRUE(store.commit(first).ok());

  StateBatch second;
  second.case_deletes = {CaseId{"C-1"}, CaseId{"C-2"}};
  second.cases.emplace_back(CaseId{"C-1"}, "fresh");  // deleted and written again in one batch: the fresh record stays
  ASSERT_TRUE(store.commit(second).ok());

  EXPECT_EQ(visited_ids(store), std::vector<std::string>{"C-1"});
  auto loaded = store.load_case(CaseId{"C-1"});
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->value_or(""), "fresh");
  auto gone = store.load_case(CaseId{"C-2"});
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
}

}  // namespace
}  // namespace slawatch
