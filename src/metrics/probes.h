#pragma once
// The metrics slawatch exports, one probe per area (business, engine). A probe
// owns its metric families in the registry it was built on and offers one
// method per thing that happens; it knows nothing about where the data comes
// from (see metrics_hub.h). Thread-safe: prometheus-cpp metrics are atomic or
// locked, and the label-value limiter has its own lock, so several pipeline
// threads may share one probe while HTTP threads serialize the registry.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "engine/engine.h"
#include "model/alert.h"
#include "model/event.h"
#include "model/time.h"
#include "state/store.h"

namespace slawatch {

// Label values that come from input data (departments) are capped: the first
// `limit` distinct values are kept, later ones become "other", and an empty
// value is "unassigned" (the word alerts use too). Keeps a misbehaving feed from exploding the series count.
class BoundedLabelValues {
 public:
  explicit BoundedLabelValues(size_t limit) : limit_(limit) {}
  std::string admit(std::string_view value);

 private:
  size_t limit_;
  std::mutex mutex_;
  std::set<std::string, std::less<>> admitted_;
};

// Which rule set a probe's alert and cycle series come from. The active set's
// series carry no `ruleset` label (dashboards select `ruleset!="shadow"`); a
// candidate run beside it (shadow rules) labels its series `ruleset="shadow"`.
enum class RuleSetRole { active, shadow };

// City-level counts of what happened: alert events and the case events that
// do not depend on the rules (registrations, returns, transfers, feedback).
// Overdue stages and cycles are state, exported by StateMetrics. A shadow
// probe shares the active probe's metric families and records only alert
// events (labelled ruleset="shadow"); the case-level series are counted once,
// by the active probe.
class BusinessProbe {
 public:
  explicit BusinessProbe(prometheus::Registry& registry, size_t department_limit = 500,
                         RuleSetRole role = RuleSetRole::active);

  void alert(const Alert& alert);  // fired / resolved / retracted
  void alert_notified(const Alert& alert, std::string_view role);
  void case_created(std::string_view priority);
  void case_returned(std::string_view department);
  void case_transferred(std::string_view from_department);
  void feedback(std::string_view department, bool satisfied);

 private:
  std::string department(std::string_view value) { return departments_.admit(value); }
  // Adds the `ruleset` label of a shadow probe.
  prometheus::Labels labelled(prometheus::Labels labels) const;
  bool shadow() const { return role_ == RuleSetRole::shadow; }

  RuleSetRole role_;
  BoundedLabelValues departments_;
  prometheus::Family<prometheus::Counter>& alerts_;
  prometheus::Family<prometheus::Counter>& notifications_;
  prometheus::Family<prometheus::Counter>& cases_created_;
  prometheus::Family<prometheus::Counter>& returns_;
  prometheus::Family<prometheus::Counter>& transfers_;
  prometheus::Family<prometheus::Counter>& feedback_;
};

// The reason class of a dead letter: a small fixed set (json, oversize,
// attribute, type, subject, time, data, case_full, other) from the reason text.
std::string_view dead_letter_reason_class(std::string_view reason);

// How the engine is doing: what the operators' dashboard shows. Per-partition
// series carry a `partition` label (the file input is partition "0").
class EngineProbe {
 public:
  explicit EngineProbe(prometheus::Registry& registry);

  void event(EventType type, ApplyOutcome outcome);
  void event_lag(Duration lag);
  void dead_letter(std::string_view reason);
  void timer_fire_delay(Duration delay);
  void timers_fired(uint64_t count);
  void cases_purged(uint64_t count);
  void commit(std::string_view partition, uint64_t records, double seconds);
  // What commits wrote to the state since the last call: keys by family, bytes.
  void state_writes(std::string_view partition, const CommitTotals& written);
  void delivery_failures(uint64_t count);
  void outbox_depth(std::string_view partition, size_t depth);
  void cached_cases(std::string_view partition, size_t cases);
  void pending_timers(std::string_view partition, uint64_t timers);
  void input_lag(std::string_view partition, int64_t records);
  // Drops every series labelled with `partition` (it was revoked: another
  // instance exports it now, and a frozen copy here would double it).
  void forget_partition(std::string_view partition);
  void rocksdb(uint64_t live_data_bytes, bool write_stalled);
  void build_info(std::string_view version, std::string_view rules_version);

 private:
  prometheus::Family<prometheus::Counter>& events_;
  // Every (type, outcome) pair exists from the start, so the hot path does no lookups.
  std::array<std::array<prometheus::Counter*, 5>, kEventTypeCount> applied_events_{};
  prometheus::Histogram& event_lag_;
  prometheus::Family<prometheus::Counter>& dead_letters_;
  prometheus::Histogram& timer_fire_delay_;
  prometheus::Counter& timers_fired_;
  prometheus::Counter& cases_purged_;
  prometheus::Family<prometheus::Counter>& commits_;
  prometheus::Family<prometheus::Histogram>& commit_records_;
  prometheus::Family<prometheus::Histogram>& commit_seconds_;
  prometheus::Family<prometheus::Counter>& state_keys_written_;
  prometheus::Family<prometheus::Counter>& state_bytes_written_;
  prometheus::Counter& delivery_failures_;
  prometheus::Family<prometheus::Gauge>& outbox_depth_;
  prometheus::Family<prometheus::Gauge>& cached_cases_;
  prometheus::Family<prometheus::Gauge>& pending_timers_;
  prometheus::Family<prometheus::Gauge>& input_lag_;
  prometheus::Gauge& rocksdb_live_bytes_;
  prometheus::Gauge& rocksdb_write_stalled_;
  prometheus::Family<prometheus::Gauge>& build_info_;
  prometheus::Gauge* current_build_info_ = nullptr;  // replaced when the rules change
  std::mutex build_info_mutex_;
};

// Rule reloads: whether a new set was taken, and what repairing the open
// cases under it cost. Thread-safe like the other probes.
class RulesProbe {
 public:
  explicit RulesProbe(prometheus::Registry& registry, RuleSetRole role = RuleSetRole::active);
  // result: accepted, rejected or unchanged.
  void reload(std::string_view result);
  void repaired(double seconds, uint64_t cases, uint64_t changed);

 private:
  RuleSetRole role_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Gauge& repair_seconds_;
  prometheus::Gauge& repair_cases_;
  prometheus::Gauge& repair_changed_;
};

// The standby copies this instance keeps (kafka.standby_replicas): how many,
// how far each is behind its changelog, and what they applied. Called by the
// standby tailer under its own lock, so not locked itself.
class StandbyProbe {
 public:
  struct Copy {
    uint16_t partition = 0;
    int64_t lag = 0;  // changelog records behind the end
  };
  explicit StandbyProbe(prometheus::Registry& registry);

  void records_applied(uint64_t count);
  // The copies held now: series of copies no longer held are removed.
  void copies_held(std::span<const Copy> copies);
  // The partition's copy became its lane's store: its series goes.
  void copy_handed_over(uint16_t partition);

 private:
  prometheus::Gauge& held_;
  prometheus::Counter& applied_;
  prometheus::Family<prometheus::Gauge>& lag_family_;
  std::map<uint16_t, prometheus::Gauge*> lag_;  // one series per copy held
};

}  // namespace slawatch
