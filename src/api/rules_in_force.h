#pragma once
// The rule set currently in force, for readers on other threads than the one
// that reloads it (the case API's HTTP threads). The reload path calls set()
// after a reload was applied everywhere; readers take a snapshot that stays
// valid (and unchanged) for as long as they hold it. Thread-safe.
#include <memory>
#include <mutex>
#include <utility>

#include "rules/rules.h"

namespace slawatch {

class RulesInForce {
 public:
  explicit RulesInForce(std::shared_ptr<const RuleSet> rules) : rules_(std::move(rules)) {}

  std::shared_ptr<const RuleSet> get() const {
    std::lock_guard lock(mutex_);
    return rules_;
  }
  void set(std::shared_ptr<const RuleSet> rules) {
    std::lock_guard lock(mutex_);
    rules_ = std::move(rules);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const RuleSet> rules_;
};

}  // namespace slawatch
