#include "app/runtime.h"

#include <csignal>
#include <filesystem>
#include <iostream>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace slawatch {

std::shared_ptr<const RuleSet> load_rules_or_report(const std::string& path,
                                                    const std::vector<std::string>& calendar_paths) {
  auto loaded = load_rules(path, calendar_paths);
  for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
  for (const auto& w : loaded.warnings) std::cerr << w.to_string() << "\n";
  return loaded.diagnostics.empty() ? loaded.rules : nullptr;
}

bool load_roster_or_report(const std::string& path, std::shared_ptr<const Roster>& roster) {
  roster.reset();
  if (path.empty()) return true;
  auto loaded = load_roster(path);
  for (const auto& d : loaded.errors) std::cerr << d.to_string() << "\n";
  roster = loaded.roster;
  return roster != nullptr;
}

Status ensure_directory(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("cannot create state directory '" + dir + "': " + ec.message());
  return ok_status();
}

MonitorPolicy monitor_policy(const Config& config) {
  MonitorPolicy policy;
  policy.max_timers_per_tick = config.max_timers_per_tick;
  policy.max_timers_per_second = config.max_timers_per_second;
  policy.lane_clock = config.lane_clock;
  return policy;
}

Result<OpenedState> open_state(const std::string& dir, bool sync_writes) {
  auto partitioned = open_partitioned_state(dir, sync_writes, 1);
  if (!partitioned.ok()) return partitioned.error();
  return OpenedState{std::move(partitioned->database), std::move(partitioned->stores.front())};
}

Result<PartitionedState> open_partitioned_state(const std::string& dir, bool sync_writes, size_t partitions) {
  PartitionedState opened;
  if (!dir.empty()) {
    if (auto s = ensure_directory(dir); !s.ok()) return s.error();
    RocksDbOptions options;
    options.path = dir;
    options.sync_writes = sync_writes;
    auto database = RocksDbDatabase::open(options);
    if (!database.ok()) return database.error();
    opened.database = *database;
  }
  for (size_t p = 0; p < partitions; ++p) {
    if (opened.database) {
      opened.stores.push_back(std::make_unique<RocksDbStateStore>(opened.database, static_cast<uint16_t>(p)));
    } else {
      opened.stores.push_back(std::make_unique<MemoryStateStore>());
    }
  }
  return opened;
}

CaseApiOptions case_api_options(const Config& config) {
  CaseApiOptions options;
  if (config.http) {
    options.read_token = config.http->read_token;
    options.time_zone = config.http->time_zone;
  }
  return options;
}

Result<std::unique_ptr<HttpServer>> serve_http(const Config& config, MetricsHub& hub, const HealthState& health,
                                               const std::function<void(HttpRoutes&)>& more) {
  if (!config.http) return std::unique_ptr<HttpServer>();
  HttpRoutes routes;
  hub.add_routes(routes);
  add_health_routes(routes, health);
  if (more) more(routes);
  HttpServerOptions options;
  options.listen = config.http->listen;
  return HttpServer::start(options, std::move(routes));
}

Result<std::unique_ptr<AlertmanagerDelivery>> start_alertmanager(const Config& config, prometheus::Registry& registry,
                                                                 std::shared_ptr<const RuleSet> rules,
                                                                 const Clock& clock) {
  if (!config.alertmanager) return std::unique_ptr<AlertmanagerDelivery>();
  const AlertmanagerOptions& options = *config.alertmanager;
  auto client = CurlAlertmanagerClient::create(options.url, options.timeout);
  if (!client.ok()) return client.error();
  auto delivery = std::make_unique<AlertmanagerDelivery>();
  delivery->client = std::move(client).value();
  delivery->probe = std::make_unique<AlertmanagerProbe>(registry);
  delivery->sender = std::make_unique<AlertmanagerSender>(options, *delivery->client, clock, *delivery->probe,
                                                          notify_roles_from(std::move(rules)));
  // Its own stderr logger (stdout may carry the alerts; the sink is thread-safe):
  // the sender thread logs only state changes (failing, recovered, rejected).
  auto log = std::make_shared<spdlog::logger>("slawatch", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  log->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  delivery->sender->set_logger([log](const std::string& message) { log->warn("{}", message); });
  delivery->sender->start();
  return delivery;
}

namespace {
// Signal handlers can only reach process-wide state; these flags are the one
// place slawatch has any, and only the handlers set them.
std::atomic<bool> g_stop{false};
std::atomic<bool> g_reload{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }
extern "C" void on_reload_signal(int) { g_reload.store(true); }
}  // namespace

const std::atomic<bool>& stop_requested() { return g_stop; }

void install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

void install_reload_signal() { std::signal(SIGHUP, on_reload_signal); }

bool take_reload_signal() { return g_reload.exchange(false); }

}  // namespace slawatch
