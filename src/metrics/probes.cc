#include "metrics/probes.h"

namespace slawatch {
namespace {

using prometheus::Labels;

constexpr std::string_view kOutcomes[] = {"applied", "duplicate", "case_full", "conflicting_duplicate", "replaced"};

double seconds(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

template <typename Builder>
auto& build(Builder builder, prometheus::Registry& registry, const std::string& name, const std::string& help) {
  return builder.Name(name).Help(help).Register(registry);
}
auto& counter(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return build(prometheus::BuildCounter(), r, name, help);
}
auto& gauge(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return build(prometheus::BuildGauge(), r, name, help);
}
auto& histogram(prometheus::Registry& r, const std::string& name, const std::string& help) {
  return build(prometheus::BuildHistogram(), r, name, help);
}

std::string str(std::string_view s) { return std::string(s); }

// A shadow's series carry ruleset="shadow"; the active set's carry no such label.
Labels with_ruleset(RuleSetRole role, Labels labels) {
  if (role == RuleSetRole::shadow) labels.emplace("ruleset", "shadow");
  return labels;
}

}  // namespace

std::string BoundedLabelValues::admit(std::string_view value) {
  if (value.empty()) return "unassigned";
  std::lock_guard lock(mutex_);
  if (admitted_.contains(value)) return str(value);
  if (admitted_.size() >= limit_) return "other";
  admitted_.emplace(value);
  return str(value);
}

BusinessProbe::BusinessProbe(prometheus::Registry& registry, size_t department_limit, RuleSetRole role)
    : role_(role),
      departments_(department_limit),
      alerts_(counter(registry, "slawatch_alerts_total",
                      "Alert events produced, by rule, stage, department at due time and kind "
                      "(fired, resolved, retracted).")),
      notifications_(counter(registry, "slawatch_alert_notifications_total",
                             "Fired alerts by notified role (one per role named in the alert).")),
      cases_created_(counter(registry, "slawatch_cases_created_total", "Cases registered, by priority.")),
      returns_(counter(registry, "slawatch_case_returns_total",
                       "Cases sent back as not the department's own, by returning department.")),
      transfers_(counter(registry, "slawatch_case_transfers_total",
                         "Cases dispatched onwards from one department to another, by the department "
                         "the case left.")),
      feedback_(counter(registry, "slawatch_feedback_total",
                        "Satisfaction return visits, by department and satisfied (true, false).")) {}

void BusinessProbe::alert(const Alert& alert) {
  const std::string dept = department(alert.department);
  const std::string rule = std::string(alert.rule.str());
  alerts_
      .Add(labelled(
          {{"rule", rule}, {"stage", alert.stage}, {"department", dept}, {"kind", str(to_string(alert.kind))}}))
      .Increment();
}

prometheus::Labels BusinessProbe::labelled(Labels labels) const { return with_ruleset(role_, std::move(labels)); }

void BusinessProbe::alert_notified(const Alert& alert, std::string_view role) {
  if (shadow()) return;  // a shadow notifies nobody
  notifications_.Add({{"rule", std::string(alert.rule.str())}, {"stage", alert.stage}, {"role", str(role)}})
      .Increment();
}

void BusinessProbe::case_created(std::string_view priority) {
  if (shadow()) return;  // the same under any rule set: counted by the active probe
  const bool known = priority == "normal" || priority == "urgent" || priority == "emergency";
  cases_created_.Add({{"priority", known ? str(priority) : "other"}}).Increment();
}

void BusinessProbe::case_returned(std::string_view department_name) {
  if (shadow()) return;
  returns_.Add({{"department", department(department_name)}}).Increment();
}

void BusinessProbe::case_transferred(std::string_view from_department) {
  if (shadow()) return;
  transfers_.Add({{"department", department(from_department)}}).Increment();
}

void BusinessProbe::feedback(std::string_view department_name, bool satisfied) {
  if (shadow()) return;
  feedback_.Add({{"department", department(department_name)}, {"satisfied", satisfied ? "true" : "false"}})
      .Increment();
}

std::string_view dead_letter_reason_class(std::string_view reason) {
  if (reason.starts_with("record too large")) return "oversize";
  if (reason.starts_with("invalid JSON") || reason.starts_with("record is not a JSON object")) return "json";
  if (reason.find("has reached its event limit") != std::string_view::npos) return "case_full";
  if (reason.starts_with("conflicting duplicate")) return "conflicting_duplicate";
  if (reason.starts_with("field '") && reason.find("': longer than ") != std::string_view::npos) return "attribute";
  if (reason.starts_with("field 'data")) return "data";
  for (std::string_view field : {"type", "subject", "time"}) {
    if (reason.starts_with("field '") && reason.substr(7).starts_with(field) &&
        reason.substr(7 + field.size()).starts_with("'")) {
      return field;
    }
  }
  if (reason.starts_with("field '")) return "attribute";
  return "other";
}

EngineProbe::EngineProbe(prometheus::Registry& registry)
    : events_(counter(registry, "slawatch_events_total",
                      "Case events by type and outcome (applied, duplicate, case_full, dead_lettered).")),
      event_lag_(histogram(registry, "slawatch_event_lag_seconds",
                           "Processing time minus event time of each applied or duplicate event.")
                     // Up to a year, so a backlog or a replayed history still has a readable p50/p99.
                     .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600,
                                                                      21600, 86400, 604800, 2592000, 7776000,
                                                                      31536000})),
      dead_letters_(counter(registry, "slawatch_dead_letters_total",
                            "Records rejected to the dead-letter output, by reason class.")),
      timer_fire_delay_(histogram(registry, "slawatch_timer_fire_delay_seconds",
                                  "Engine clock when an alert fired minus its due time (includes the grace).")
                            // Up to a week: timers due during downtime fire late by that much.
                            .Add({}, prometheus::Histogram::BucketBoundaries{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120,
                                                                             300, 900, 3600, 21600, 86400,
                                                                             604800})),
      timers_fired_(counter(registry, "slawatch_timers_fired_total",
                            "Timers the engine fired: stage timers and closed cases' retention timers.")
                        .Add({})),
      cases_purged_(counter(registry, "slawatch_cases_purged_total",
                            "Closed cases deleted once their retention (retain_closed) passed.")
                        .Add({})),
      commits_(counter(registry, "slawatch_commits_total", "Atomic state commits (batches), by partition.")),
      commit_records_(histogram(registry, "slawatch_commit_batch_records",
                                "Input records per state commit, by partition.")),
      commit_seconds_(histogram(registry, "slawatch_commit_duration_seconds",
                                "Time to commit a batch and deliver its output, by partition.")),
      state_keys_written_(counter(registry, "slawatch_state_keys_written_total",
                                  "Keys (puts and deletes) the state commits wrote, by partition and family.")),
      state_bytes_written_(counter(registry, "slawatch_state_bytes_written_total",
                                   "Bytes of the state commits' RocksDB write batches, by partition.")),
      delivery_failures_(counter(registry, "slawatch_delivery_failures_total",
                                 "Failed output delivery attempts (the records stay in the outbox).")
                             .Add({})),
      outbox_depth_(gauge(registry, "slawatch_outbox_depth",
                          "Output records produced but not yet delivered, by partition.")),
      cached_cases_(gauge(registry, "slawatch_cached_cases", "Case records held in the engine's cache, by partition.")),
      pending_timers_(gauge(registry, "slawatch_pending_timers",
                            "Stage timers waiting to fire (one per case with a pending stage), by partition.")),
      input_lag_(gauge(registry, "slawatch_input_lag_records",
                       "Records available at the input but not yet processed: Kafka consumer lag per "
                       "partition; for file input, records read ahead and queued.")),
      rocksdb_live_bytes_(gauge(registry, "slawatch_rocksdb_live_data_bytes",
                                "Approximate on-disk size of the RocksDB state.")
                              .Add({})),
      rocksdb_write_stalled_(gauge(registry, "slawatch_rocksdb_write_stalled",
                                   "1 while RocksDB delays or stops writes (compaction falling behind).")
                                 .Add({})),
      build_info_(gauge(registry, "slawatch_build_info", "Always 1; the labels name the build and the rules.")) {
  for (size_t type = 0; type < kEventTypeCount; ++type) {
    for (size_t outcome = 0; outcome < std::size(kOutcomes); ++outcome) {
      applied_events_[type][outcome] =
          &events_.Add({{"type", str(to_string(static_cast<EventType>(type)))}, {"outcome", str(kOutcomes[outcome])}});
    }
  }
}

void EngineProbe::event(EventType type, ApplyOutcome outcome) {
  applied_events_[static_cast<size_t>(type)][static_cast<size_t>(outcome)]->Increment();
}

void EngineProbe::event_lag(Duration lag) { event_lag_.Observe(seconds(lag)); }

void EngineProbe::dead_letter(std::string_view reason) {
  const auto reason_class = dead_letter_reason_class(reason);
  dead_letters_.Add({{"reason", str(reason_class)}}).Increment();
  // A full case's event and a conflicting duplicate are counted by event() with their own type and outcome.
  if (reason_class != "case_full" && reason_class != "conflicting_duplicate") events_.Add({{"type", "invalid"}, {"outcome", "dead_lettered"}}).Increment();
}

void EngineProbe::timer_fire_delay(Duration delay) { timer_fire_delay_.Observe(seconds(delay)); }

void EngineProbe::timers_fired(uint64_t count) { timers_fired_.Increment(static_cast<double>(count)); }
void EngineProbe::cases_purged(uint64_t count) { cases_purged_.Increment(static_cast<double>(count)); }

void EngineProbe::commit(std::string_view partition, uint64_t records, double took_seconds) {
  const Labels labels{{"partition", str(partition)}};
  commits_.Add(labels).Increment();
  commit_records_
      .Add(labels, prometheus::Histogram::BucketBoundaries{0, 1, 10, 100, 500, 1000, 2000, 5000, 10000, 50000})
      .Observe(static_cast<double>(records));
  commit_seconds_
      .Add(labels, prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                           0.25, 0.5, 1, 2.5})
      .Observe(took_seconds);
}

namespace {

// The `family` label values of slawatch_state_keys_written_total, in StoreFamily order.
constexpr std::array<std::string_view, kStoreFamilyCount> kStateFamilies = {"cases", "timers", "outbox", "meta",
                                                                            "alert_index"};

}  // namespace

void EngineProbe::state_writes(std::string_view partition, const CommitTotals& written) {
  for (size_t i = 0; i < kStoreFamilyCount; ++i) {
    state_keys_written_.Add({{"partition", str(partition)}, {"family", str(kStateFamilies[i])}})
        .Increment(static_cast<double>(written.family_keys[i]));
  }
  state_bytes_written_.Add({{"partition", str(partition)}}).Increment(static_cast<double>(written.bytes));
}

void EngineProbe::delivery_failures(uint64_t count) { delivery_failures_.Increment(static_cast<double>(count)); }

void EngineProbe::outbox_depth(std::string_view partition, size_t depth) {
  outbox_depth_.Add({{"partition", str(partition)}}).Set(static_cast<double>(depth));
}

void EngineProbe::cached_cases(std::string_view partition, size_t cases) {
  cached_cases_.Add({{"partition", str(partition)}}).Set(static_cast<double>(cases));
}

void EngineProbe::pending_timers(std::string_view partition, uint64_t timers) {
  pending_timers_.Add({{"partition", str(partition)}}).Set(static_cast<double>(timers));
}

void EngineProbe::input_lag(std::string_view partition, int64_t records) {
  input_lag_.Add({{"partition", str(partition)}}).Set(static_cast<double>(records));
}

namespace {

template <typename Metric, typename... Args>
void remove_series(prometheus::Family<Metric>& family, const Labels& labels, Args&&... args) {
  // Add() of existing labels hands back that series (its arguments unused).
  if (family.Has(labels)) family.Remove(&family.Add(labels, std::forward<Args>(args)...));
}

}  // namespace

void EngineProbe::forget_partition(std::string_view partition) {
  const Labels labels{{"partition", str(partition)}};
  remove_series(commits_, labels);
  remove_series(commit_records_, labels, prometheus::Histogram::BucketBoundaries{});
  remove_series(commit_seconds_, labels, prometheus::Histogram::BucketBoundaries{});
  for (const auto family : kStateFamilies) {
    remove_series(state_keys_written_, Labels{{"partition", str(partition)}, {"family", str(family)}});
  }
  remove_series(state_bytes_written_, labels);
  remove_series(outbox_depth_, labels);
  remove_series(cached_cases_, labels);
  remove_series(pending_timers_, labels);
  remove_series(input_lag_, labels);
}

void EngineProbe::rocksdb(uint64_t live_data_bytes, bool write_stalled) {
  rocksdb_live_bytes_.Set(static_cast<double>(live_data_bytes));
  rocksdb_write_stalled_.Set(write_stalled ? 1 : 0);
}

void EngineProbe::build_info(std::string_view version, std::string_view rules_version) {
  std::lock_guard lock(build_info_mutex_);
  if (current_build_info_ != nullptr) build_info_.Remove(current_build_info_);
  current_build_info_ = &build_info_.Add({{"version", str(version)}, {"rules_version", str(rules_version)}});
  current_build_info_->Set(1);
}

RulesProbe::RulesProbe(prometheus::Registry& registry, RuleSetRole role)
    : role_(role),
      reloads_(counter(registry, "slawatch_rules_reloads_total",
                       "Rule reload attempts by result: accepted (a new set is in force), rejected (invalid, "
                       "the old set stays), unchanged (same content).")),
      repair_seconds_(gauge(registry, "slawatch_rules_repair_duration_seconds",
                            "Time the last accepted reload took to repair the stored cases.")
                          .Add(with_ruleset(role, {}))),
      repair_cases_(gauge(registry, "slawatch_rules_repair_cases",
                          "Cases the last accepted reload examined.")
                        .Add(with_ruleset(role, {}))),
      repair_changed_(gauge(registry, "slawatch_rules_repair_changed_cases",
                            "Cases whose alerts or timer the last accepted reload changed.")
                          .Add(with_ruleset(role, {}))) {
  for (const char* result : {"accepted", "rejected", "unchanged"}) reloads_.Add({{"result", result}});
}

void RulesProbe::reload(std::string_view result) {
  reloads_.Add(with_ruleset(role_, {{"result", str(result)}})).Increment();
}

void RulesProbe::repaired(double seconds, uint64_t cases, uint64_t changed) {
  repair_seconds_.Set(seconds);
  repair_cases_.Set(static_cast<double>(cases));
  repair_changed_.Set(static_cast<double>(changed));
}

StandbyProbe::StandbyProbe(prometheus::Registry& registry)
    : held_(gauge(registry, "slawatch_standby_partitions",
                  "Partitions this instance keeps a standby copy of (kafka.standby_replicas).")
                .Add({})),
      applied_(counter(registry, "slawatch_standby_records_applied_total",
                       "Changelog records applied to standby copies.")
                   .Add({})),
      lag_family_(gauge(registry, "slawatch_standby_lag_records",
                        "Changelog records a standby copy is behind the changelog's end, by partition.")) {}

void StandbyProbe::records_applied(uint64_t count) { applied_.Increment(static_cast<double>(count)); }

void StandbyProbe::copies_held(std::span<const Copy> copies) {
  std::map<uint16_t, prometheus::Gauge*> still_held;
  for (const Copy& copy : copies) {
    prometheus::Gauge*& series = lag_[copy.partition];
    if (series == nullptr) series = &lag_family_.Add({{"partition", std::to_string(copy.partition)}});
    series->Set(static_cast<double>(copy.lag));
    still_held[copy.partition] = series;
  }
  for (const auto& [partition, series] : lag_) {
    if (!still_held.contains(partition)) lag_family_.Remove(series);
  }
  lag_ = std::move(still_held);
  held_.Set(static_cast<double>(lag_.size()));
}

void StandbyProbe::copy_handed_over(uint16_t partition) {
  if (auto it = lag_.find(partition); it != lag_.end()) {
    lag_family_.Remove(it->second);
    lag_.erase(it);
  }
  held_.Set(static_cast<double>(lag_.size()));
}

}  // namespace slawatch
