#include "roster/roster.h"

#include <algorithm>

namespace slawatch {

Assignment Assignment::fixed(std::string person) {
  Assignment a;
  a.order_.push_back(std::move(person));
  return a;
}

Assignment Assignment::rotation(std::vector<std::string> order, Duration period, LocalTime anchor,
                                const date::time_zone* zone, std::vector<DutyPeriod> periods) {
  Assignment a;
  a.order_ = std::move(order);
  a.period_ = period;
  a.anchor_ = anchor;
  a.zone_ = zone;
  a.periods_ = std::move(periods);
  return a;
}

std::string_view Assignment::person_at(Instant t) const {
  if (!periods_.empty()) {
    // The last period starting at or before t covers it if it has not ended.
    auto after = std::upper_bound(periods_.begin(), periods_.end(), t,
                                  [](Instant value, const DutyPeriod& p) { return value < p.from; });
    if (after != periods_.begin() && t < std::prev(after)->to) return std::prev(after)->person;
  }
  if (order_.empty()) return {};
  if (zone_ == nullptr) return order_.front();
  // Handovers happen at the same local wall-clock time, so the index is
  // counted in local time: a DST change never shifts who is on duty.
  const LocalTime local{zone_->to_local(t).time_since_epoch()};
  if (local < anchor_) return {};
  const auto turns = (local - anchor_) / period_;
  return order_[static_cast<size_t>(turns % static_cast<int64_t>(order_.size()))];
}

std::vector<std::string> Assignment::people() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& person) {
    if (std::find(out.begin(), out.end(), person) == out.end()) out.push_back(person);
  };
  for (const auto& person : order_) add(person);
  for (const auto& period : periods_) add(period.person);
  return out;
}

Roster::Roster(std::map<std::string, DepartmentRoster, std::less<>> departments,
               std::map<std::string, Assignment, std::less<>> city, std::string source)
    : departments_(std::move(departments)), city_(std::move(city)), source_(std::move(source)) {}

const DepartmentRoster* Roster::department(std::string_view id) const {
  auto it = departments_.find(id);
  return it == departments_.end() ? nullptr : &it->second;
}

std::string_view Roster::resolve(std::string_view role, std::string_view department, Instant t) const {
  constexpr std::string_view kDepartment = "department.";
  constexpr std::string_view kCity = "city.";
  const std::map<std::string, Assignment, std::less<>>* holders = nullptr;
  if (role.starts_with(kDepartment)) {
    const DepartmentRoster* d = this->department(department);
    if (d == nullptr) return {};
    holders = &d->roles;
    role.remove_prefix(kDepartment.size());
  } else if (role.starts_with(kCity)) {
    holders = &city_;
    role.remove_prefix(kCity.size());
  } else {
    return {};
  }
  auto it = holders->find(role);
  return it == holders->end() ? std::string_view{} : it->second.person_at(t);
}

void resolve_notify(const Roster& roster, Alert& alert) {
  if (alert.kind != AlertKind::fired) return;
  for (auto& target : alert.notify) target.person = roster.resolve(target.role, alert.department, alert.due_at);
}

}  // namespace slawatch
