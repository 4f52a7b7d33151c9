#pragma once
// Start-up helpers shared by the commands: rules loading with diagnostics,
// opening the state (RocksDB or in memory), a stop flag set by signals.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "alertmanager/client.h"
#include "alertmanager/probe.h"
#include "alertmanager/sender.h"
#include "alertmanager/tee_sink.h"
#include "api/case_api.h"
#include "app/config.h"
#include "http/http_server.h"
#include "metrics/metrics_hub.h"
#include "roster/roster.h"
#include "runtime/monitor_loop.h"
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
// One store per partition (0 .. partitions-1), over one RocksDB database when
// `dir` is given, else each in memory.
struct PartitionedState {
  std::shared_ptr<RocksDbDatabase> database;  // null for in-memory state
  std::vector<std::unique_ptr<StateStore>> stores;
};
Result<PartitionedState> open_partitioned_state(const std::string& dir, bool sync_writes, size_t partitions);

// The HTTP endpoints (/metrics, /livez, /readyz) when the config has an
// `http:` section; null otherwise. `hub` and `health` must outlive the server.
// `more` adds the caller's routes (the reload endpoint, the case API).
// The case API's options from the `http:` section (read token, time zone).
CaseApiOptions case_api_options(const Config& config);

Result<std::unique_ptr<HttpServer>> serve_http(const Config& config, MetricsHub& hub, const HealthState& health,
                                               const std::function<void(HttpRoutes&)>& more = {});

// Alertmanager delivery for a config with an `alertmanager:` section: the
// libcurl client, the metrics (on `registry`) and the running sender thread.
// Members are destroyed sender first, so its final flush still has the client.
struct AlertmanagerDelivery {
  std::unique_ptr<CurlAlertmanagerClient> client;
  std::unique_ptr<AlertmanagerProbe> probe;
  std::unique_ptr<AlertmanagerSender> sender;

  // The pipeline's alert sink: `inner`, teed to Alertmanager once flushed.
  RecordSink& wrap(RecordSink& inner) {
    tees.push_back(std::make_unique<AlertmanagerTeeSink>(inner, *sender));
    return *tees.back();
  }
  std::vector<std::unique_ptr<AlertmanagerTeeSink>> tees;
};
// Null without an `alertmanager:` section. `registry`, `clock` must outlive it.
Result<std::unique_ptr<AlertmanagerDelivery>> start_alertmanager(const Config& config, prometheus::Registry& registry,
                                                                 std::shared_ptr<const RuleSet> rules,
                                                                 const Clock& clock);

// The live monitor loop's policies from the config (firing budget, lane clock).
MonitorPolicy monitor_policy(const Config& config);

// Set by SIGINT/SIGTERM once install_stop_signals() ran.
const std::atomic<bool>& stop_requested();
void install_stop_signals();
// SIGHUP asks for a rule reload; true once per signal received since the last call.
void install_reload_signal();
bool take_reload_signal();

}  // namespace slawatch
