#pragma once
// Test support: a RocksDB state in a fresh temp folder named after the
// running test, removed again at the end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "state/rocksdb_store.h"

namespace slawatch::testing {

class TempDatabase {
 public:
  // `options.path` is set here; the other options apply at every (re)open.
  explicit TempDatabase(const std::string& prefix, RocksDbOptions options = {})
      : options_(std::move(options)),
        dir_(std::filesystem::temp_directory_path() /
             (prefix + "-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    options_.path = dir_.string();
    std::filesystem::remove_all(dir_);
    reopen();
  }
  ~TempDatabase() {
    database.reset();
    std::filesystem::remove_all(dir_);
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  // Closes the database (every other holder must have let go) and opens it again.
  std::shared_ptr<RocksDbDatabase> reopen() {
    database.reset();
    auto db = RocksDbDatabase::open(options_);
    EXPECT_TRUE(db.ok()) << (db.ok() ? "" : db.error().message);
    if (db.ok()) database = *db;
    return database;
  }

  std::shared_ptr<RocksDbDatabase> database;

 private:
  RocksDbOptions options_;
  std::filesystem::path dir_;
};

// Every key of the store's partition as changelog records: what a restore
// or a standby copy must reproduce.
inline std::vector<ChangelogRecord> dump(RocksDbStateStore& store) {
  std::vector<ChangelogRecord> out;
  EXPECT_TRUE(store.for_each_record([&out](ChangelogRecord&& r) {
    out.push_back(std::move(r));
    return ok_status();
  }).ok());
  return out;
}

}  // namespace slawatch::testing
