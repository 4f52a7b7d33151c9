#pragma once
// What the monitor did, written into the tamper-evident audit log
// (src/audit): every alert event once its delivery succeeded, so the log
// follows delivered output, and the rule set loaded at start-up whenever its
// version differs from the last one recorded. A crash between delivery and
// the next commit delivers the last group again, so an alert can be in the
// log twice with the same alert_id (readers dedupe by it); the chain stays
// valid. Thread-safe: the lanes' workers deliver side by side, and the
// monitor thread records reloaded rules.
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit/audit.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"

namespace slawatch {

class AuditTrail {
 public:
  // Opens (or creates) the log; a torn tail it cuts off is told to `notice`.
  static Result<std::unique_ptr<AuditTrail>> open(const std::string& path, const audit::AuditLog::Notice& notice,
                                                  audit::OpenOptions options = {});

  // Opens the log and records the rule set loaded at start-up (record_rules).
  static Result<std::unique_ptr<AuditTrail>> start(const std::string& path, const audit::AuditLog::Notice& notice,
                                                   const RuleSet& rules, const std::string& rules_path, Instant at,
                                                   const std::string& command, audit::OpenOptions options = {});

  // Appends and syncs `rules.loaded` (version, source path, rule counts,
  // actor) unless the last one in the log has this version. `at` is the
  // caller's clock (kMinInstant, before a replay's first event, is written
  // as a null time). True when recorded.
  Result<bool> record_rules(const RuleSet& rules, const std::string& rules_path, Instant at,
                            const std::string& command);

  // The delivery observer for one pipeline: appends every alert event of a
  // delivered group (alert.fired|resolved|retracted, payload: alert_id and
  // the exact CloudEvent) at that engine's clock, and syncs once per group.
  Pipeline::DeliveryObserver observer(const Engine& engine);

  const audit::AuditLog& log() const { return *log_; }

 private:
  explicit AuditTrail(std::unique_ptr<audit::AuditLog> log) : log_(std::move(log)) {}
  Status append_alerts(const std::vector<OutboxEntry>& group, Instant clock);

  std::mutex mutex_;  // one chain: appends from every worker go in one at a time
  std::unique_ptr<audit::AuditLog> log_;
  std::vector<audit::Record> scratch_;
};

}  // namespace slawatch
