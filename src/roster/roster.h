#pragma once
// The duty roster: who holds each notify role (`department.head`,
// `department.duty_officer`, `city.hotline_office`, ...) at an instant.
// Loaded once from YAML (docs/escalation.md, "Duty roster"), validated, then
// immutable and shared read-only by every thread. Lookups are pure: a map
// lookup for the department, a binary search over explicit periods and
// arithmetic for the rotation index, so resolving a role costs O(log n).
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <date/tz.h>

#include "model/alert.h"
#include "model/time.h"
#include "rules/rules.h"

namespace slawatch {

// A local wall-clock time in a rotation's time zone, in milliseconds.
using LocalTime = date::local_time<Duration>;

// An explicit duty period (a holiday schedule): `person` holds the role in
// [from, to), whatever the rotation says.
struct DutyPeriod {
  Instant from;
  Instant to;
  std::string person;
};

// Who holds one role. A fixed person is a rotation of one without a zone;
// a rotation hands over every `period` from the anchor (`starts` at the
// handover time, local time in `zone`), in `order`. Before the anchor nobody
// is on duty.
class Assignment {
 public:
  static Assignment fixed(std::string person);
  // `periods` must be sorted and disjoint (the loader checks).
  static Assignment rotation(std::vector<std::string> order, Duration period, LocalTime anchor,
                             const date::time_zone* zone, std::vector<DutyPeriod> periods);

  // The person on duty at `t`; empty when nobody is.
  std::string_view person_at(Instant t) const;

  bool is_fixed() const { return zone_ == nullptr; }
  const std::vector<std::string>& order() const { return order_; }
  const std::vector<DutyPeriod>& periods() const { return periods_; }
  Duration period() const { return period_; }
  // Every person named, in order then periods (with repeats removed).
  std::vector<std::string> people() const;

 private:
  std::vector<std::string> order_;
  Duration period_{0};
  LocalTime anchor_{};
  const date::time_zone* zone_ = nullptr;  // owned by date's tz database; null when fixed
  std::vector<DutyPeriod> periods_;        // sorted by `from`, disjoint
};

struct DepartmentRoster {
  std::string id;    // as in events' data.department
  std::string name;  // display name, may be empty
  // Role name (the part after "department.") -> who holds it.
  std::map<std::string, Assignment, std::less<>> roles;
};

class Roster {
 public:
  Roster(std::map<std::string, DepartmentRoster, std::less<>> departments,
         std::map<std::string, Assignment, std::less<>> city, std::string source);

  // `role` as written in rules: "department.<role>" (of `department`) or
  // "city.<role>". Empty when the roster has no such role, department or
  // person on duty at `t`.
  std::string_view resolve(std::string_view role, std::string_view department, Instant t) const;

  const DepartmentRoster* department(std::string_view id) const;
  const std::map<std::string, DepartmentRoster, std::less<>>& departments() const { return departments_; }
  const std::map<std::string, Assignment, std::less<>>& city() const { return city_; }
  const std::string& source() const { return source_; }  // the file it was loaded from

 private:
  std::map<std::string, DepartmentRoster, std::less<>> departments_;
  std::map<std::string, Assignment, std::less<>> city_;
  std::string source_;
};

// Names the person behind each notify role of a fired alert, as on duty at
// its due time for its department (contract section 3). Other alert kinds
// carry no notify list and are left alone.
void resolve_notify(const Roster& roster, Alert& alert);

struct LoadedRoster {
  std::shared_ptr<const Roster> roster;  // null when errors is not empty
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;  // do not stop the roster from loading
};

// Reads and validates a roster file; every mistake as file:line:column.
LoadedRoster load_roster(const std::string& path);

// Thrown by load_roster_or_throw (start-up only).
class RosterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
// For composition roots: the roster, or RosterError whose message lists
// every error, one `file:line:column: message` per line.
std::shared_ptr<const Roster> load_roster_or_throw(const std::string& path);

// Cross-checks a roster against a rule set's files (the departments named
// in `when: {department: [...]}` and the notify roles): appended to `out`.
// Errors: a department or role the rules name but the roster lacks
// entirely. Warnings: departments lacking a `department.*` role the rules
// notify. Diagnostics point into the rule files.
void check_roster_against_rules(const Roster& roster, const std::string& rules_path, LoadedRoster& out);

// `slawatch roster check --roster PATH [--rules PATH]`: prints errors and
// warnings to `err` and a summary to `out`; 0 when there is no error, else 1.
int check_roster_command(const std::string& roster_path, const std::string& rules_path, std::ostream& out,
                         std::ostream& err);

}  // namespace slawatch
