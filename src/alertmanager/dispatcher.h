#pragma once
// The logic of Alertmanager delivery, without threads: which alerts are
// active, what is due to be (re)sent, batching, backoff after failures.
//
// - accept(alert): a fired alert becomes active (sent now, then every
//   `resend`); a resolved or retracted one replaces it (sent now, then every
//   `resend` until `resolved_resend_for` has passed since, then forgotten).
//   Alerts are keyed by alert_id, so a re-delivered event (after a crash)
//   changes nothing but sends it again. The set is bounded (`max_active`):
//   a new alert beyond it is dropped and counted.
// - run_due(): posts everything due at the clock's now in batches of
//   `batch`, every case cycle's latest-due stage first and the stages it
//   inhibits a settling delay later (Alertmanager's inhibitor must know a
//   breach before the warning it silences arrives; inhibitor_settle); on a
//   retryable failure it stops and waits (exponential backoff
//   with jitter) with the alerts still due; a rejected payload (4xx) is
//   counted as dropped and the alerts wait for their next resend.
//
// Single-threaded: owned by AlertmanagerSender's thread (or a test).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "alertmanager/client.h"
#include "alertmanager/mapping.h"
#include "alertmanager/options.h"
#include "alertmanager/probe.h"
#include "model/alert.h"
#include "model/time.h"
#include "rules/rules.h"

namespace slawatch {

// The roles a rule's stage notifies, for resolved and retracted alerts whose
// firing event this process never saw (it fired before a restart).
using RoleLookup = std::function<std::vector<std::string>(const RuleId& rule, const std::string& stage)>;
RoleLookup notify_roles_from(std::shared_ptr<const RuleSet> rules);

class AlertmanagerDispatcher {
 public:
  // `client`, `clock` and `probe` must outlive the dispatcher. `jitter_seed`
  // makes the backoff jitter reproducible in tests.
  AlertmanagerDispatcher(AlertmanagerOptions options, AlertmanagerClient& client, const Clock& clock,
                         AlertmanagerProbe& probe, RoleLookup roles = {}, uint64_t jitter_seed = 1);

  // Told when delivery starts failing, recovers, or a payload is rejected
  // (not on every retry). Called on the dispatcher's thread.
  using Logger = std::function<void(const std::string& message)>;
  void set_logger(Logger logger) { log_ = std::move(logger); }

  void accept(Alert alert);
  // Posts what is due now; returns the number of Alertmanager alerts accepted.
  size_t run_due();
  // When run_due next has work: the earliest due alert, or the end of the
  // backoff if later. kMaxInstant when nothing is active.
  Instant next_due() const;
  // Forgets the backoff: the next run_due tries at once (final flush at shutdown).
  void clear_backoff() { backoff_until_ = kMinInstant; }

  size_t active() const { return active_.size(); }
  size_t firing() const { return active_.size() - resolved_; }
  bool is_active(const std::string& alert_id) const { return active_.contains(alert_id); }
  // Consecutive failed POSTs, and the wait chosen after the last one.
  int failures() const { return failures_; }
  Duration last_backoff() const { return last_backoff_; }

 private:
  struct Entry {
    Alert alert;           // the latest event, with notify filled in for every kind
    Instant next_send;     // key in schedule_
    Instant forget_at = kMaxInstant;  // resolved / retracted: stop resending then
  };

  void schedule(Entry& entry, const std::string& id, Instant at);
  // How long a stage waits after the stage that inhibits it was posted: ample
  // for Alertmanager's inhibitor to read that post, and well inside the lease
  // of an alert already there (4 x resend).
  Duration inhibitor_settle() const { return std::min<Duration>(std::chrono::seconds{1}, options_.resend / 4); }
  // `batch` split into rounds: each case cycle's latest-due firing stage and
  // every ended alert in the first, the cycle's earlier stages in later ones
  // (see run_due).
  std::vector<std::vector<std::string>> inhibitors_first(const std::vector<std::string>& batch) const;
  void forget(const std::string& id);
  void backoff(Instant now);
  void report_active();

  AlertmanagerOptions options_;
  MappingOptions mapping_;
  AlertmanagerClient& client_;
  const Clock& clock_;
  AlertmanagerProbe& probe_;
  RoleLookup roles_;
  Logger log_;
  std::mt19937_64 random_;

  std::unordered_map<std::string, Entry> active_;
  std::set<std::pair<Instant, std::string>> schedule_;  // (next send, alert id)
  size_t resolved_ = 0;
  Instant backoff_until_ = kMinInstant;
  int failures_ = 0;
  Duration last_backoff_{0};
};

}  // namespace slawatch
