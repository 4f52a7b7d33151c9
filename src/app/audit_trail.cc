#include "app/audit_trail.h"

#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace slawatch {
namespace {

std::optional<Instant> known(Instant clock) {
  if (clock == kMinInstant) return std::nullopt;
  return clock;
}

// Who started the process: the command and the operating-system user.
std::string actor(const std::string& command) {
  const passwd* user = ::getpwuid(::geteuid());
  return "slawatch " + command + " (user " + (user ? std::string(user->pw_name) : std::to_string(::geteuid())) + ")";
}

}  // namespace

Result<std::unique_ptr<AuditTrail>> AuditTrail::open(const std::string& path,
                                                     const audit::AuditLog::Notice& notice,
                                                     audit::OpenOptions options) {
  auto log = audit::AuditLog::open(path, notice, options);
  if (!log.ok()) return log.error();
  return std::unique_ptr<AuditTrail>(new AuditTrail(std::move(log).value()));
}

Result<std::unique_ptr<AuditTrail>> AuditTrail::start(const std::string& path, const audit::AuditLog::Notice& notice,
                                                      const RuleSet& rules, const std::string& rules_path, Instant at,
                                                      const std::string& command, audit::OpenOptions options) {
  auto trail = open(path, notice, options);
  if (!trail.ok()) return trail.error();
  if (auto recorded = (*trail)->record_rules(rules, rules_path, at, command); !recorded.ok()) {
    return recorded.error();
  }
  return trail;
}

Result<bool> AuditTrail::record_rules(const RuleSet& rules, const std::string& rules_path, Instant at,
                                      const std::string& command) {
  std::lock_guard lock(mutex_);
  if (const auto* last = log_->last_of_kind("rules.loaded")) {
    const auto payload = nlohmann::json::parse(last->payload, nullptr, false);
    if (payload.is_object() && payload.value("version", "") == rules.version) return false;
  }
  const nlohmann::json payload = {{"version", rules.version},
                                  {"rules", rules_path},
                                  {"deadline_rules", rules.deadlines.size()},
                                  {"count_rules", rules.counts.size()},
                                  {"calendars", rules.calendars.size()},
                                  {"actor", actor(command)}};
  const audit::Record record{known(at), "rules.loaded", payload.dump()};
  if (auto s = log_->append_and_sync(std::span(&record, 1)); !s.ok()) return s.error();
  return true;
}

Pipeline::DeliveryObserver AuditTrail::observer(const Engine& engine) {
  return [this, &engine](const std::vector<OutboxEntry>& group) { return append_alerts(group, engine.clock()); };
}

Status AuditTrail::append_alerts(const std::vector<OutboxEntry>& group, Instant clock) {
  std::lock_guard lock(mutex_);
  scratch_.clear();
  for (const OutboxEntry& entry : group) {
    if (entry.channel != OutboxEntry::Channel::alerts) continue;
    const auto event = nlohmann::json::parse(entry.payload, nullptr, false);
    const std::string type = event.is_object() ? event.value("type", "") : "";
    constexpr std::string_view kPrefix = "slawatch.";
    if (!type.starts_with(kPrefix) || !event.contains("data") || !event["data"].is_object()) {
      return make_error("audit: delivered alert " + std::to_string(entry.seq) + " is not a slawatch alert event");
    }
    const nlohmann::json alert_id = event["data"].value("alert_id", "");
    // The CloudEvent's exact bytes: the log shows what consumers received.
    scratch_.push_back(audit::Record{known(clock), type.substr(kPrefix.size()),
                                     "{\"alert_id\":" + alert_id.dump() + ",\"cloudevent\":" + entry.payload + "}"});
  }
  if (scratch_.empty()) return ok_status();
  return log_->append_and_sync(scratch_);
}

}  // namespace slawatch
