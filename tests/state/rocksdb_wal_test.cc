// Write-ahead logs stay bounded however much is written: RocksDB flushes the
// families that hold the oldest log once the logs pass max_total_wal_size.
// Registered to run alone (RUN_SERIAL): what it measures is how the flush
// thread keeps up with the writer, and with a sanitizer test beside it on a
// two-core machine the flush thread lagged for a moment (4.3 MiB against 3).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>

#include "state/rocksdb_store.h"
#include "temp_database.h"

namespace slawatch {
namespace {

TEST(RocksDbWalTest, WriteAheadLogsStayWithinThreeTimesTheMemtableBudget) {
  // A 1 MiB budget and 48 MiB written through the cases family, with the
  // checkpoint (meta, a few bytes per commit) beside it: the pattern that kept
  // every log alive before max_total_wal_size was set.
  constexpr size_t kBudget = 1u << 20;
  RocksDbOptions options;
  options.memtable_budget_bytes = kBudget;
  testing::TempDatabase temp("slawatch-wal-test", options);
  RocksDbStateStore store(temp.database, 0);
  uint64_t peak_wal = 0;
  for (int commit = 0; commit < 192; ++commit) {
    StateBatch batch;
    for (int i = 0; i < 16; ++i) {
      const int n = commit * 16 + i;
      batch.cases.emplace_back(CaseId{"C-" + std::to_string(n)}, std::string(16u << 10, static_cast<char>('a' + n % 26)));
    }
    batch.checkpoint = Checkpoint{from_millis(commit), std::to_string(commit), 1};
    ASSERT_TRUE(store.commit(batch).ok());
    peak_wal = std::max(peak_wal, temp.database->live_wal_bytes());
  }
  EXPECT_GT(peak_wal, kBudget) << "enough was written to roll several logs";
  EXPECT_LE(peak_wal, 3 * kBudget) << "logs are released once their memtables are flushed";
}

}  // namespace
}  // namespace slawatch
