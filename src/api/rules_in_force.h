#pragma once
// What is in force (the rule set, the duty roster), for readers on other
// threads than the one that reloads it (the case API's HTTP threads). The
// reload path calls set() after a reload was applied everywhere; readers take
// a snapshot that stays valid (and unchanged) for as long as they hold it.
// Thread-safe.
#include <memory>
#include <mutex>
#include <utility>

#include "roster/roster.h"
#include "rules/rules.h"

namespace slawatch {

template <class T>
class InForce {
 public:
  explicit InForce(std::shared_ptr<const T> value) : value_(std::move(value)) {}

  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void set(std::shared_ptr<const T> value) {
    std::lock_guard lock(mutex_);
    value_ = std::move(value);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

using RulesInForce = InForce<RuleSet>;
using RosterInForce = InForce<Roster>;  // null: no roster configured

}  // namespace slawatch
