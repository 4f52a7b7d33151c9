#include "app/runtime.h"

#include <csignal>
#include <filesystem>
#include <iostream>

namespace slawatch {

std::shared_ptr<const RuleSet> load_rules_or_report(const std::string& path,
                                                    const std::vector<std::string>& calendar_paths) {
  auto loaded = load_rules(path, calendar_paths);
  for (const auto& d : loaded.diagnostics) std::cerr << d.to_string() << "\n";
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

Result<OpenedState> open_state(const std::string& dir, bool sync_writes) {
  OpenedState opened;
  if (dir.empty()) {
    opened.store = std::make_unique<MemoryStateStore>();
    return opened;
  }
  if (auto s = ensure_directory(dir); !s.ok()) return s.error();
  RocksDbOptions options;
  options.path = dir;
  options.sync_writes = sync_writes;
  auto database = RocksDbDatabase::open(options);
  if (!database.ok()) return database.error();
  opened.database = *database;
  opened.store = std::make_unique<RocksDbStateStore>(opened.database, 0);
  return opened;
}

Result<std::unique_ptr<HttpServer>> serve_http(const Config& config, MetricsHub& hub, const HealthState& health) {
  if (!config.http) return std::unique_ptr<HttpServer>();
  HttpRoutes routes;
  hub.add_routes(routes);
  add_health_routes(routes, health);
  HttpServerOptions options;
  options.listen = config.http->listen;
  return HttpServer::start(options, std::move(routes));
}

namespace {
// Signal handlers can only reach process-wide state; this flag is the one
// place slawatch has any, and only the handler writes it.
std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }
}  // namespace

const std::atomic<bool>& stop_requested() { return g_stop; }

void install_stop_signals() {
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
}

}  // namespace slawatch
