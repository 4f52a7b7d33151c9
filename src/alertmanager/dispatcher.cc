#include "alertmanager/dispatcher.h"

#include <algorithm>
#include <span>

namespace slawatch {

RoleLookup notify_roles_from(std::shared_ptr<const RuleSet> rules) {
  return [rules = std::move(rules)](const RuleId& rule, const std::string& stage) -> std::vector<std::string> {
    for (const auto& deadline : rules->deadlines) {
      if (deadline.id != rule) continue;
      for (const auto& s : deadline.stages) {
        if (s.name == stage) return s.notify;
      }
    }
    for (const auto& count : rules->counts) {
      if (count.id == rule) return count.notify;
    }
    return {};
  };
}

AlertmanagerDispatcher::AlertmanagerDispatcher(AlertmanagerOptions options, AlertmanagerClient& client,
                                               const Clock& clock, AlertmanagerProbe& probe, RoleLookup roles,
                                               uint64_t jitter_seed)
    : options_(std::move(options)),
      mapping_{options_.generator_base_url, options_.resend},
      client_(client),
      clock_(clock),
      probe_(probe),
      roles_(std::move(roles)),
      random_(jitter_seed) {}

void AlertmanagerDispatcher::schedule(Entry& entry, const std::string& id, Instant at) {
  schedule_.erase({entry.next_send, id});
  entry.next_send = at;
  schedule_.insert({at, id});
}

void AlertmanagerDispatcher::forget(const std::string& id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;
  schedule_.erase({it->second.next_send, id});
  if (it->second.alert.kind != AlertKind::fired) --resolved_;
  active_.erase(it);
}

void AlertmanagerDispatcher::report_active() { probe_.active(firing(), resolved_); }

void AlertmanagerDispatcher::accept(Alert alert) {
  const Instant now = clock_.now();
  auto it = active_.find(alert.alert_id);
  if (it == active_.end()) {
    if (active_.size() >= options_.max_active) {
      probe_.dropped("active_full");
      return;
    }
    if (alert.kind != AlertKind::fired && alert.notify.empty() && roles_) {
      for (auto& role : roles_(alert.rule, alert.stage)) alert.notify.push_back(NotifyTarget{std::move(role), ""});
    }
    const std::string id = alert.alert_id;
    it = active_.emplace(id, Entry{std::move(alert), kMinInstant}).first;
    schedule_.insert({kMinInstant, id});
    if (it->second.alert.kind != AlertKind::fired) ++resolved_;
  } else {
    Entry& entry = it->second;
    const bool was_firing = entry.alert.kind == AlertKind::fired;
    // Resolved and retracted events carry no roles: keep the firing event's
    // roles and people, so the same Alertmanager alerts end.
    if (alert.kind != AlertKind::fired && alert.notify.empty()) alert.notify = std::move(entry.alert.notify);
    entry.alert = std::move(alert);
    const bool is_firing = entry.alert.kind == AlertKind::fired;
    if (was_firing && !is_firing) ++resolved_;
    if (!was_firing && is_firing) --resolved_;
  }
  Entry& entry = it->second;
  entry.forget_at = entry.alert.kind == AlertKind::fired ? kMaxInstant : now + options_.resolved_resend_for;
  schedule(entry, it->first, now);  // changed: send at once
  report_active();
}

void AlertmanagerDispatcher::backoff(Instant now) {
  ++failures_;
  Duration wait = options_.retry_initial;
  for (int i = 1; i < failures_ && wait < options_.retry_max; ++i) wait *= 2;
  wait = std::min(wait, options_.retry_max);
  // Jitter: 50-100% of the exponential wait.
  std::uniform_int_distribution<int64_t> jitter(wait.count() / 2, wait.count());
  last_backoff_ = Duration{jitter(random_)};
  backoff_until_ = now + last_backoff_;
}

// Alertmanager flushes a group at once when its alerts started more than
// group_wait ago (a stage that fell due during a backlog), and its inhibitor
// learns of alerts on its own goroutine: a warning posted with its breach
// could be notified before the breach silences it. So each case cycle's most
// advanced stage (latest due) goes in the first round, the next in a second
// round, and so on: an inhibiting stage is known before its targets. A round
// posted right after the one before still lost that race on a loaded machine
// (the inhibitor had not yet read the first post), so run_due posts only the
// first round and the others a settling delay later (inhibitor_settle).
std::vector<std::vector<std::string>> AlertmanagerDispatcher::inhibitors_first(const std::vector<std::string>& batch) const {
  std::unordered_map<std::string_view, std::vector<const std::string*>> by_cycle;  // case/rule/cycle -> ids
  std::vector<std::vector<std::string>> rounds(1);
  for (const auto& id : batch) {
    if (active_.at(id).alert.kind != AlertKind::fired) {
      rounds[0].push_back(id);  // an ended alert silences nothing and is silenced by nothing
      continue;
    }
    const auto slash = id.rfind('/');
    by_cycle[std::string_view(id).substr(0, slash == std::string::npos ? id.size() : slash)].push_back(&id);
  }
  for (auto& [cycle, ids] : by_cycle) {
    // Stable: stages due together keep the schedule's order.
    std::stable_sort(ids.begin(), ids.end(), [&](const std::string* a, const std::string* b) {
      return active_.at(*a).alert.due_at > active_.at(*b).alert.due_at;
    });
    if (rounds.size() < ids.size()) rounds.resize(ids.size());
    for (size_t round = 0; round < ids.size(); ++round) rounds[round].push_back(*ids[round]);
  }
  // Within a round, the schedule's order (deterministic for tests).
  for (auto& round : rounds) {
    std::sort(round.begin(), round.end(), [&](const std::string& a, const std::string& b) {
      return std::pair(active_.at(a).next_send, a) < std::pair(active_.at(b).next_send, b);
    });
  }
  return rounds;
}

size_t AlertmanagerDispatcher::run_due() {
  const Instant now = clock_.now();
  if (now < backoff_until_) return 0;
  size_t accepted = 0;
  std::vector<std::string> batch;
  for (;;) {
    batch.clear();
    std::vector<std::string> expired;
    for (auto it = schedule_.begin(); it != schedule_.end() && it->first <= now && batch.size() < options_.batch;
         ++it) {
      if (now >= active_.at(it->second).forget_at) {
        expired.push_back(it->second);
        continue;
      }
      batch.push_back(it->second);
    }
    for (const auto& id : expired) forget(id);
    if (batch.empty()) break;
    const auto rounds = inhibitors_first(batch);
    for (size_t later = 1; later < rounds.size(); ++later) {
      for (const auto& id : rounds[later]) schedule(active_.at(id), id, now + inhibitor_settle());
    }
    const auto& round = rounds.front();  // the later rounds were put off above
    if (round.empty()) continue;
    nlohmann::json body = nlohmann::json::array();
    for (const auto& id : round) append_alertmanager_alerts(active_.at(id).alert, now, mapping_, body);
    const PostResult result = client_.post(body.dump());
    if (result.outcome == PostResult::Outcome::retry) {
      probe_.failed(result.reason);
      backoff(now);
      if (failures_ == 1 && log_) log_("alertmanager: " + result.message + "; retrying with backoff");
      report_active();
      return accepted;
    }
    if (result.accepted()) {
      probe_.sent(body.size());
      accepted += body.size();
      if (failures_ > 0 && log_) {
        log_("alertmanager: delivering again after " + std::to_string(failures_) + " failed attempt(s)");
      }
      failures_ = 0;
    } else {
      if (log_) log_("alertmanager: rejected " + std::to_string(round.size()) + " alert(s): " + result.message);
      // Sending the same payload again would be refused again; the alerts
      // wait for their next resend (a firing one may be fine by then).
      probe_.failed(result.reason);
      probe_.dropped("rejected", round.size());
    }
    for (const auto& id : round) {
      Entry& entry = active_.at(id);
      const Instant next = now + options_.resend;
      if (entry.alert.kind != AlertKind::fired && next >= entry.forget_at) {
        forget(id);
      } else {
        schedule(entry, id, next);
      }
    }
  }
  report_active();
  return accepted;
}

Instant AlertmanagerDispatcher::next_due() const {
  if (schedule_.empty()) return kMaxInstant;
  return std::max(schedule_.begin()->first, backoff_until_);
}

}  // namespace slawatch
