#pragma once
// Business calendars: which instants count towards an SLA target.
// Immutable after construction, so one instance is shared by every thread.
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "model/result.h"
#include "model/time.h"

namespace slawatch {

class Calendar {
 public:
  virtual ~Calendar() = default;
  virtual const std::string& name() const = 0;

  // Counted (working) time in [from, to). Zero when to <= from.
  virtual Duration counted(Instant from, Instant to) const = 0;

  // The earliest instant t >= from with counted(from, t) == amount (amount >= 0).
  // If the amount is reached exactly at the end of a working period, that end
  // is the answer (12:00, not 14:30 after lunch).
  virtual Instant advance(Instant from, Duration amount) const = 0;
};

// `always`: every millisecond counts.
std::shared_ptr<const Calendar> make_always_calendar();

// A working-hours calendar in an IANA time zone.
struct WorkingCalendarSpec {
  struct LocalTimeRange {  // minutes after local midnight, [begin, end)
    int begin_minute = 0;
    int end_minute = 0;
  };
  std::string name;
  std::string time_zone;                     // IANA name, e.g. "Asia/Shanghai"
  std::vector<LocalTimeRange> working_hours;  // same on every working day, sorted, disjoint
  std::vector<int> working_weekdays;          // 0 = Sunday ... 6 = Saturday
  std::vector<std::chrono::year_month_day> holidays;        // days off although a working weekday
  std::vector<std::chrono::year_month_day> extra_workdays;  // make-up working days on a weekend
};

// Fails (with a message) on an unknown time zone or a calendar without any
// working time.
Result<std::shared_ptr<const Calendar>> make_working_calendar(WorkingCalendarSpec spec);

}  // namespace slawatch
