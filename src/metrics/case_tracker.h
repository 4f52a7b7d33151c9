#pragma once
// Follows recent cases through the applied event stream so the business probe
// can measure what the engine does not report: response times, cycles opened
// and met, returns and transfers, feedback by department.
//
// An approximation, by design: it sees events in arrival order and keeps at
// most `capacity` cases (least recently used are forgotten). A time is only
// measured when its pair arrives in order (dispatch before acknowledgement),
// and cases opened before a restart or forgotten are not measured. The
// engine's alerts stay the exact record; these metrics show the trend.
// Single-threaded: one tracker per pipeline.
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "metrics/probes.h"
#include "model/alert.h"
#include "model/event.h"
#include "rules/rules.h"

namespace slawatch {

class CaseTracker {
 public:
  // Keeps `rules` alive: a rule reload replaces the tracker, not the set under it.
  CaseTracker(std::shared_ptr<const RuleSet> rules, BusinessProbe& probe, size_t capacity = 100000);
  ~CaseTracker();
  CaseTracker(const CaseTracker&) = delete;
  CaseTracker& operator=(const CaseTracker&) = delete;

  // After a rule reload: the open cycles followed so far are forgotten (the
  // new set decides what a cycle is), while what does not depend on the rules
  // (dispatches waiting for a first response, open emergencies) is kept, so
  // a response after the reload is still measured.
  void replace_rules(std::shared_ptr<const RuleSet> rules);

  void on_event(const CaseEvent& event);  // applied events only
  void on_alert(const Alert& alert);
  size_t tracked_cases() const { return cases_.size(); }

 private:
  struct OpenCycle {
    bool open = false;
    bool breached = false;
    std::string department;
  };
  struct Track {
    CaseAttributes attributes;
    std::optional<Instant> dispatched_at;  // waiting for the first response
    std::string dispatched_to;
    std::optional<Instant> emergency_since;
    std::vector<OpenCycle> cycles;  // one per deadline rule, by index
    std::list<CaseId>::iterator recency;
  };

  Track& touch(const CaseId& id);
  void forget(Track& track);
  void close_cycle(size_t rule, OpenCycle& cycle);
  void use_rules(std::shared_ptr<const RuleSet> rules);
  const RuleSet& rules() const { return *rules_ptr_; }

  std::shared_ptr<const RuleSet> rules_ptr_;
  BusinessProbe& probe_;
  size_t capacity_;
  // Per deadline rule: the breach stage's name (first stage at or after 100%).
  std::vector<std::string> breach_stage_;
  std::unordered_map<CaseId, Track> cases_;
  std::list<CaseId> recency_;  // most recent first
};

}  // namespace slawatch
