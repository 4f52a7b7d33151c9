#pragma once
// Rule reloads for the live monitor. Requests come from SIGHUP, from a change
// to the rule files (polled), or from POST /-/reload (HTTP threads); the
// processing thread serves them between batches, so a reload never races the
// engine. A new set is validated completely first: a bad one is rejected with
// the same file:line:column messages as `rules check`, and the old set stays.
// An accepted set is put in force and every stored case is repaired under it.
// The duty roster (when configured) reloads by the same mechanism: validated
// with the rules, and put in force for alerts emitted from then on.
//
// Threading: request() and add_routes()' handler from any thread; serve() and
// in_force() from the processing thread only.
#include <chrono>
#include <filesystem>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "http/http_server.h"
#include "metrics/probes.h"
#include "pipeline/pipeline.h"
#include "roster/roster.h"
#include "rules/rules.h"

namespace spdlog {
class logger;
}

namespace slawatch {

struct ReloadOutcome {
  enum class Kind { accepted, rejected, unchanged, failed };
  Kind kind = Kind::unchanged;
  std::string origin;                    // who asked: "SIGHUP", "file change", "HTTP 127.0.0.1"
  std::string from_version;
  std::string version;                   // in force afterwards
  std::vector<std::string> diagnostics;  // rejected: file:line:column: message; failed: the error
  bool roster_reloaded = false;          // the roster file changed and its new content is in force
  RepairReport repair;                   // accepted: summed over the partitions
  double repair_seconds = 0;
  std::string to_json() const;
};
std::string_view to_string(ReloadOutcome::Kind kind);

class RuleReloader {
 public:
  // Puts the new set in force on every partition and repairs its cases;
  // `origin` says who asked (for the audit log).
  using Apply = std::function<Result<RepairReport>(const std::shared_ptr<const RuleSet>&, const std::string& origin)>;

  using ApplyRoster = std::function<void(const std::shared_ptr<const Roster>&)>;

  // `subject` names the set in log lines ("rules", or "shadow rules" for a candidate).
  RuleReloader(std::string rules_path, std::vector<std::string> calendar_paths,
               std::shared_ptr<const RuleSet> in_force, RulesProbe& probe, spdlog::logger& log,
               std::string subject = "rules");

  // Also reload the roster at `path` (its file is watched too); `apply` puts a new one in force.
  void watch_roster(std::string path, ApplyRoster apply);

  // Any thread. The future is ready once the processing thread has served it.
  std::future<ReloadOutcome> request(std::string origin);

  // Processing thread: watch the files for changes, at most every `interval`
  // of `clock` (the wall clock; tests move a manual one). `clock` must outlive this.
  void watch_files(std::chrono::milliseconds interval, const Clock& clock);

  // Processing thread, once per loop: serves a SIGHUP (`signalled`), a file
  // change and queued requests, all at once (one reload serves them all).
  // An error only when the repair failed (storage): the monitor stops on it.
  Status serve(bool signalled, const Apply& apply);

  const std::shared_ptr<const RuleSet>& in_force() const { return in_force_; }

  // POST /-/reload, allowed with `Authorization: Bearer <token>` only; waits
  // for the processing thread (up to `wait`) and answers with the outcome:
  // 200 accepted/unchanged, 422 rejected, 500 failed, 401/403 without the token.
  // `path` is /-/reload for the active rules, /-/reload/shadow for a candidate.
  void add_routes(HttpRoutes& routes, std::string token, std::chrono::milliseconds wait,
                  const std::string& path = "/-/reload");

 private:
  using Fingerprint = std::vector<std::pair<std::string, std::filesystem::file_time_type>>;
  Fingerprint fingerprint() const;
  ReloadOutcome reload(const std::string& origin, const Apply& apply);

  std::string subject_;
  std::string roster_path_;
  ApplyRoster apply_roster_;
  std::string roster_content_;  // of the roster in force: a reload applies a roster only when it changed
  std::string rules_path_;
  std::vector<std::string> calendar_paths_;
  std::shared_ptr<const RuleSet> in_force_;
  RulesProbe& probe_;
  spdlog::logger& log_;

  std::chrono::milliseconds watch_interval_{0};
  const Clock* watch_clock_ = nullptr;  // set by watch_files
  Instant next_watch_{};
  Fingerprint last_fingerprint_;

  std::mutex mutex_;  // guards queued_
  std::vector<std::pair<std::string, std::promise<ReloadOutcome>>> queued_;
};

}  // namespace slawatch
