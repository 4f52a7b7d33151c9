#pragma once
// Start-up helpers shared by the commands: rules loading with diagnostics,
// opening the state (RocksDB or in memory), a stop flag set by signals.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "rules/rules.h"
#include "state/rocksdb_store.h"
#include "state/store.h"

namespace slawatch {

// Prints every diagnostic to stderr; null when the rules are not usable.
std::shared_ptr<const RuleSet> load_rules_or_report(const std::string& path,
                                                    const std::vector<std::string>& calendar_paths);

struct OpenedState {
  std::shared_ptr<RocksDbDatabase> database;  // null for in-memory state
  std::unique_ptr<StateStore> store;
};
Status ensure_directory(const std::string& dir);
// An empty dir gives in-memory state.
Result<OpenedState> open_state(const std::string& dir, bool sync_writes);

// Set by SIGINT/SIGTERM once install_stop_signals() ran.
const std::atomic<bool>& stop_requested();
void install_stop_signals();

}  // namespace slawatch
