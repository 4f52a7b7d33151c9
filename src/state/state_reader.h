#pragma once
// A read-only view of a RocksDB state across every partition, for the case
// API: what the last commits wrote (at most one commit interval behind the
// engine). Thread-safe: only RocksDB reads, from any number of HTTP threads
// while the engine's thread writes.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "state/rocksdb_store.h"

namespace slawatch {

class StateReader {
 public:
  explicit StateReader(std::shared_ptr<RocksDbDatabase> database) : database_(std::move(database)) {}

  struct StoredCase {
    uint16_t partition = 0;
    std::string encoded;  // a CaseRecord
  };
  Result<std::optional<StoredCase>> find_case(const CaseId& id) const;

  // The latest event of every alert of one case, in alert id order.
  Result<std::vector<AlertIndexEntry>> alerts_of_case(uint16_t partition, const CaseId& id) const;

  struct AlertFilter {
    std::optional<AlertIndexEntry::State> state;
    std::optional<std::string> department;  // nullopt: any; "": alerts of no department
    // Any further test (the case API's filters on the alert's own fields);
    // empty: every entry the state and department let through.
    std::function<bool(const AlertIndexEntry&)> accept;
    // Which partitions' alerts to list (the case API: the owned ones); empty: every partition.
    std::function<bool(uint16_t)> partition;
  };
  struct AlertPage {
    std::vector<AlertIndexEntry> alerts;
    std::string next_cursor;  // empty when there is nothing after this page
  };
  // Alerts matching `filter` after `cursor` (from an earlier page; empty for
  // the first), at most `limit`. A page stops early after `scan_budget`
  // entries looked at, so one request never walks millions of rows; its
  // cursor then continues the walk.
  Result<AlertPage> list_alerts(const AlertFilter& filter, std::string_view cursor, size_t limit,
                                size_t scan_budget = 100000) const;
  // Whether `cursor` could have come from list_alerts (so a caller can tell a
  // client's mistake from a storage error).
  static bool valid_cursor(std::string_view cursor);

  // The last committed checkpoint of `partition`: its clock is what the
  // stored cases are "as of".
  Result<Checkpoint> checkpoint(uint16_t partition) const;

  // The partitions that have committed at least once, ascending.
  Result<std::vector<uint16_t>> partitions() const;
  // A store over one partition, to be read only (the ledger walks its cases).
  std::unique_ptr<StateStore> store_of(uint16_t partition) const {
    return std::make_unique<RocksDbStateStore>(database_, partition);
  }

 private:
  std::shared_ptr<RocksDbDatabase> database_;
};

}  // namespace slawatch
