#include "app/rule_reloader.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <system_error>

namespace slawatch {

std::string_view to_string(ReloadOutcome::Kind kind) {
  switch (kind) {
    case ReloadOutcome::Kind::accepted: return "accepted";
    case ReloadOutcome::Kind::rejected: return "rejected";
    case ReloadOutcome::Kind::unchanged: return "unchanged";
    case ReloadOutcome::Kind::failed: return "failed";
  }
  return "failed";
}

std::string ReloadOutcome::to_json() const {
  nlohmann::json out{{"result", to_string(kind)}, {"origin", origin}, {"from_version", from_version},
                     {"version", version}};
  if (!diagnostics.empty()) out["errors"] = diagnostics;
  out["roster_reloaded"] = roster_reloaded;
  if (kind == Kind::accepted) {
    out["repair"] = {{"cases", repair.cases},   {"changed", repair.changed},     {"fired", repair.fired},
                     {"resolved", repair.resolved}, {"retracted", repair.retracted}, {"seconds", repair_seconds}};
  }
  return out.dump();
}

RuleReloader::RuleReloader(std::string rules_path, std::vector<std::string> calendar_paths,
                           std::shared_ptr<const RuleSet> in_force, RulesProbe& probe, spdlog::logger& log,
                           std::string subject)
    : subject_(std::move(subject)),
      rules_path_(std::move(rules_path)),
      calendar_paths_(std::move(calendar_paths)),
      in_force_(std::move(in_force)),
      probe_(probe),
      log_(log) {}

namespace {
std::string file_content(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
}  // namespace

void RuleReloader::watch_roster(std::string path, ApplyRoster apply) {
  roster_path_ = std::move(path);
  apply_roster_ = std::move(apply);
  roster_content_ = file_content(roster_path_);
  if (watch_interval_.count() > 0) last_fingerprint_ = fingerprint();
}

std::future<ReloadOutcome> RuleReloader::request(std::string origin) {
  std::lock_guard lock(mutex_);
  queued_.emplace_back(std::move(origin), std::promise<ReloadOutcome>());
  return queued_.back().second.get_future();
}

void RuleReloader::watch_files(std::chrono::milliseconds interval, const Clock& clock) {
  watch_clock_ = &clock;
  watch_interval_ = interval;
  last_fingerprint_ = fingerprint();
  next_watch_ = clock.now() + interval;
}

// Every file the set is loaded from, with its modification time: cheap to
// take every second, and any edit, addition or removal changes it.
RuleReloader::Fingerprint RuleReloader::fingerprint() const {
  Fingerprint out;
  std::error_code ec;
  auto add = [&](const std::filesystem::path& root) {
    if (std::filesystem::is_regular_file(root, ec)) {
      out.emplace_back(root.string(), std::filesystem::last_write_time(root, ec));
      return;
    }
    for (std::filesystem::recursive_directory_iterator it(
             root, std::filesystem::directory_options::follow_directory_symlink, ec), end;
         !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) out.emplace_back(it->path().string(), it->last_write_time(ec));
    }
  };
  add(rules_path_);
  for (const auto& path : calendar_paths_) add(path);
  if (!roster_path_.empty()) add(roster_path_);
  std::sort(out.begin(), out.end());
  return out;
}

Status RuleReloader::serve(bool signalled, const Apply& apply) {
  std::vector<std::string> origins;
  if (signalled) origins.emplace_back("SIGHUP");
  if (watch_interval_.count() > 0 && watch_clock_->now() >= next_watch_) {
    next_watch_ = watch_clock_->now() + watch_interval_;
    auto now = fingerprint();
    if (now != last_fingerprint_) {
      last_fingerprint_ = std::move(now);
      origins.emplace_back("file change");
    }
  }
  std::vector<std::pair<std::string, std::promise<ReloadOutcome>>> waiting;
  {
    std::lock_guard lock(mutex_);
    waiting.swap(queued_);
  }
  for (auto& [origin, promise] : waiting) origins.push_back(origin);
  if (origins.empty()) return ok_status();
  std::string origin = origins.front();
  for (size_t i = 1; i < origins.size(); ++i) origin += ", " + origins[i];
  const ReloadOutcome outcome = reload(origin, apply);
  for (auto& [who, promise] : waiting) promise.set_value(outcome);
  if (outcome.kind == ReloadOutcome::Kind::failed) return make_error(subject_ + " reload: " + outcome.diagnostics.front());
  return ok_status();
}

ReloadOutcome RuleReloader::reload(const std::string& origin, const Apply& apply) {
  ReloadOutcome outcome;
  outcome.origin = origin;
  outcome.from_version = in_force_->version;
  outcome.version = in_force_->version;
  auto loaded = load_rules(rules_path_, calendar_paths_);
  LoadedRoster roster;
  std::string roster_content;
  if (!roster_path_.empty()) {
    roster_content = file_content(roster_path_);
    if (roster_content != roster_content_) roster = load_roster(roster_path_);
  }
  if (!loaded.diagnostics.empty() || !roster.errors.empty()) {
    outcome.kind = ReloadOutcome::Kind::rejected;
    for (const auto& d : loaded.diagnostics) outcome.diagnostics.push_back(d.to_string());
    for (const auto& d : roster.errors) outcome.diagnostics.push_back(d.to_string());
    probe_.reload("rejected");
    log_.error("{} reload ({}) rejected, version {} stays in force: {} error(s)", subject_, origin, in_force_->version,
               outcome.diagnostics.size());
    for (const auto& line : outcome.diagnostics) log_.error("  {}", line);
    return outcome;
  }
  if (roster.roster) {
    apply_roster_(roster.roster);
    roster_content_ = std::move(roster_content);
    outcome.roster_reloaded = true;
    log_.info("roster reload ({}): {} in force for alerts from now on", origin, roster_path_);
  }
  if (loaded.rules->version == in_force_->version) {
    outcome.kind = outcome.roster_reloaded ? ReloadOutcome::Kind::accepted : ReloadOutcome::Kind::unchanged;
    if (outcome.roster_reloaded) {
      probe_.reload("accepted");
      return outcome;
    }
    probe_.reload("unchanged");
    log_.info("{} reload ({}): version {} unchanged", subject_, origin, in_force_->version);
    return outcome;
  }
  const auto started = std::chrono::steady_clock::now();
  auto repaired = apply(loaded.rules, origin);
  outcome.repair_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!repaired.ok()) {
    // The engines may hold the new set on some partitions: that is a storage
    // failure, which stops the monitor like any other (the caller checks).
    outcome.kind = ReloadOutcome::Kind::failed;
    outcome.diagnostics.push_back(repaired.error().message);
    log_.error("{} reload ({}) failed while repairing cases: {}", subject_, origin, repaired.error().message);
    return outcome;
  }
  in_force_ = loaded.rules;
  outcome.kind = ReloadOutcome::Kind::accepted;
  outcome.version = in_force_->version;
  outcome.repair = *repaired;
  probe_.reload("accepted");
  probe_.repaired(outcome.repair_seconds, outcome.repair.cases, outcome.repair.changed);
  log_.info("{} reload ({}): version {} -> {} in force; repaired {} case(s) in {:.3f} s: {} changed, {} "
            "fired, {} resolved, {} retracted",
            subject_, origin, outcome.from_version, outcome.version, outcome.repair.cases, outcome.repair_seconds,
            outcome.repair.changed, outcome.repair.fired, outcome.repair.resolved, outcome.repair.retracted);
  return outcome;
}

void RuleReloader::add_routes(HttpRoutes& routes, std::string token, std::chrono::milliseconds wait,
                              const std::string& path) {
  routes.post(path, [this, token = std::move(token), wait](const HttpRequest& request) {
    const std::string json = "application/json";
    if (request.authorization.empty()) {
      return HttpResponse{401, json, R"({"error":"reload needs 'Authorization: Bearer <token>'"})"};
    }
    if (!bearer_token_matches(request.authorization, token)) {
      return HttpResponse{403, json, R"({"error":"wrong reload token"})"};
    }
    auto future = this->request("HTTP " + std::string(request.remote_address));
    if (future.wait_for(wait) != std::future_status::ready) {
      return HttpResponse{202, json, R"({"result":"queued","note":"the reload is still running; see the log"})"};
    }
    const ReloadOutcome outcome = future.get();
    const int status = outcome.kind == ReloadOutcome::Kind::rejected ? 422
                       : outcome.kind == ReloadOutcome::Kind::failed ? 500
                                                                     : 200;
    return HttpResponse{status, json, outcome.to_json() + "\n"};
  });
}

}  // namespace slawatch
