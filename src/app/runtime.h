#pragma once
// Start-up helpers shared by the commands: rules loading with diagnostics,
// opening the state (RocksDB or in memory), a stop flag set by signals.
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "http/http_server.h"
#include "metrics/metrics_hub.h"
#include "roster/roster.h"
#include "rules/rules.h"
#include "state/rocksdb_store.h"
#include "state/store.h"

namespace slawatch {

// Prints every diagnostic to stderr; null when the rules are not usable.
std::shared_ptr<const RuleSet> load_rules_or_report(const std::string& path,
                                                    const std::vector<std::string>& calendar_paths);

// The duty roster at `path` (empty path: none). Prints every error to stderr
// and returns false when the file is not usable.
bool load_roster_or_report(const std::string& path, std::shared_ptr<const Roster>& roster);

struct OpenedState {
  std::shared_ptr<RocksDbDatabase> database;  // null for in-memory state
  std::unique_ptr<StateStore> store;
};
Status ensure_directory(const std::string& dir);
// An empty dir gives in-memory state.
Result<OpenedState> open_state(const std::string& dir, bool sync_writes);

// The HTTP endpoints (/metrics, /livez, /readyz) when the config has an
// `http:` section; null otherwise. `hub` and `health` must outlive the server.
Result<std::unique_ptr<HttpServer>> serve_http(const Config& config, MetricsHub& hub, const HealthState& health);

// Set by SIGINT/SIGTERM once install_stop_signals() ran.
const std::atomic<bool>& stop_requested();
void install_stop_signals();

}  // namespace slawatch
