#include "calendar/calendar.h"

#include <date/tz.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

namespace slawatch {
namespace {

namespace chr = std::chrono;

constexpr int kMinutesPerDay = 24 * 60;

// Working time is only looked for between these instants: it keeps day
// arithmetic far from overflow (date::days counts in int) when callers pass
// kMinInstant / kMaxInstant as "unbounded".
constexpr Instant kFirstSupported = chr::sys_days{chr::year{1900} / 1 / 1};
constexpr Instant kEndSupported = chr::sys_days{chr::year{2400} / 1 / 1};

// advance() gives up (kMaxInstant) after this many local days without
// reaching the amount, e.g. a calendar whose only working days are a few
// listed make-up days.
constexpr date::days kAdvanceHorizon{20 * 366};

std::string iso_date(const chr::year_month_day& date) {
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

int day_number(const chr::year_month_day& date) {
  return static_cast<int>(chr::sys_days{date}.time_since_epoch().count());
}

// Every millisecond counts. Stateless, so trivially thread-safe.
class AlwaysCalendar final : public Calendar {
 public:
  const std::string& name() const override { return name_; }

  Duration counted(Instant from, Instant to) const override {
    return to > from ? to - from : Duration::zero();
  }

  Instant advance(Instant from, Duration amount) const override {
    if (amount <= Duration::zero()) return from;
    if (from >= kMaxInstant - amount) return kMaxInstant;
    return from + amount;
  }

 private:
  std::string name_ = "always";
};

// Working hours in a time zone. Days are local dates; each working day's
// local ranges become UTC periods through the zone (earliest instant for an
// ambiguous local time, end of the gap for a skipped one), so a period keeps
// its real elapsed length across DST changes. Immutable and cache-free: safe
// to share between threads (date's time_zone initialises itself under
// std::call_once).
class WorkingCalendar final : public Calendar {
 public:
  WorkingCalendar(std::string name, const date::time_zone* zone,
                  std::vector<WorkingCalendarSpec::LocalTimeRange> working_hours,
                  std::uint8_t working_weekday_mask, std::vector<int> holiday_days,
                  std::vector<int> extra_workday_days)
      : name_(std::move(name)),
        zone_(zone),
        working_hours_(std::move(working_hours)),
        working_weekday_mask_(working_weekday_mask),
        holiday_days_(std::move(holiday_days)),
        extra_workday_days_(std::move(extra_workday_days)) {}

  const std::string& name() const override { return name_; }

  Duration counted(Instant from, Instant to) const override {
    from = std::max(from, kFirstSupported);
    to = std::min(to, kEndSupported);
    if (to <= from) return Duration::zero();

    Duration total = Duration::zero();
    // A fall-back across local midnight can make the day after `to`'s local
    // date begin before `to`; that day is visited too.
    const date::local_days last_day = local_day_of(to) + date::days{1};
    for (date::local_days day = local_day_of(from); day <= last_day; day += date::days{1}) {
      const bool reached_to = !visit_periods(day, [&](Instant begin, Instant end) {
        if (begin >= to) return false;
        const Instant overlap_begin = std::max(begin, from);
        const Instant overlap_end = std::min(end, to);
        if (overlap_end > overlap_begin) total += overlap_end - overlap_begin;
        return true;
      });
      if (reached_to) break;
    }
    return total;
  }

  Instant advance(Instant from, Duration amount) const override {
    if (amount <= Duration::zero()) return from;
    if (from >= kEndSupported) return kMaxInstant;
    const Instant start = std::max(from, kFirstSupported);

    // Periods of the days before start's local date all end at or before
    // start (local -> UTC with the earliest choice is monotone), so the walk
    // begins at that date.
    const date::local_days first_day = local_day_of(start);
    const date::local_days last_day =
        std::min(first_day + kAdvanceHorizon, local_day_of(kEndSupported));
    Duration remaining = amount;
    std::optional<Instant> reached;
    for (date::local_days day = first_day; day <= last_day && !reached; day += date::days{1}) {
      visit_periods(day, [&](Instant begin, Instant end) {
        begin = std::max(begin, start);
        if (end <= begin) return true;
        // `<=` so that an amount used up exactly at a period's end answers
        // that end, not the start of the next period.
        if (remaining <= end - begin) {
          reached = begin + remaining;
          return false;
        }
        remaining -= end - begin;
        return true;
      });
    }
    return reached.value_or(kMaxInstant);
  }

 private:
  date::local_days local_day_of(Instant t) const {
    return chr::floor<date::days>(zone_->to_local(t));
  }

  Instant to_instant(date::local_time<chr::minutes> local) const {
    return zone_->to_sys(local, date::choose::earliest);
  }

  bool is_working_day(date::local_days day) const {
    const int number = day.time_since_epoch().count();
    if (std::binary_search(extra_workday_days_.begin(), extra_workday_days_.end(), number)) {
      return true;
    }
    const unsigned weekday = date::weekday{day}.c_encoding();
    return (working_weekday_mask_ & (1u << weekday)) != 0 &&
           !std::binary_search(holiday_days_.begin(), holiday_days_.end(), number);
  }

  // Calls visit(begin, end) for the non-empty working periods of `day` in
  // time order until it returns false; returns false if it was stopped.
  template <class Visit>
  bool visit_periods(date::local_days day, Visit&& visit) const {
    if (!is_working_day(day)) return true;
    for (const auto& range : working_hours_) {
      const Instant begin = to_instant(day + chr::minutes{range.begin_minute});
      const Instant end = to_instant(day + chr::minutes{range.end_minute});
      if (end <= begin) continue;  // entirely inside a DST gap
      if (!visit(begin, end)) return false;
    }
    return true;
  }

  std::string name_;
  const date::time_zone* zone_;  // owned by date's tz database, lives for the process
  std::vector<WorkingCalendarSpec::LocalTimeRange> working_hours_;
  std::uint8_t working_weekday_mask_;  // bit n set: weekday n (0 = Sunday) works
  std::vector<int> holiday_days_;        // sorted days since 1970-01-01
  std::vector<int> extra_workday_days_;  // sorted days since 1970-01-01
};

Result<std::vector<int>> sorted_day_numbers(const std::string& calendar,
                                            const std::vector<chr::year_month_day>& dates,
                                            const char* what) {
  std::vector<int> days;
  days.reserve(dates.size());
  for (const auto& date : dates) {
    if (!date.ok()) {
      return make_error("calendar '" + calendar + "': invalid " + what + " date " +
                        iso_date(date));
    }
    if (date < chr::year{1900} / 1 / 1 || date >= chr::year{2400} / 1 / 1) {
      return make_error("calendar '" + calendar + "': " + what + " " + iso_date(date) +
                        " is outside the supported years 1900-2399");
    }
    days.push_back(day_number(date));
  }
  std::sort(days.begin(), days.end());
  days.erase(std::unique(days.begin(), days.end()), days.end());
  return days;
}

}  // namespace

std::shared_ptr<const Calendar> make_always_calendar() {
  return std::make_shared<const AlwaysCalendar>();
}

Result<std::shared_ptr<const Calendar>> make_working_calendar(WorkingCalendarSpec spec) {
  const std::string prefix = "calendar '" + spec.name + "': ";

  const date::time_zone* zone = nullptr;
  try {
    zone = date::locate_zone(spec.time_zone);
    // Loads the zone's rules now, so an unreadable zone fails here and not
    // on the data path.
    static_cast<void>(zone->get_info(kFirstSupported));
  } catch (const std::exception&) {
    return make_error(prefix + "unknown time zone '" + spec.time_zone + "'");
  }

  if (spec.working_hours.empty()) return make_error(prefix + "no working hours");
  int previous_end = 0;
  for (const auto& range : spec.working_hours) {
    if (range.begin_minute < 0 || range.end_minute > kMinutesPerDay ||
        range.begin_minute >= range.end_minute) {
      return make_error(prefix + "working hours range [" + std::to_string(range.begin_minute) +
                        ", " + std::to_string(range.end_minute) +
                        ") minutes is not within one day or is empty");
    }
    if (range.begin_minute < previous_end) {
      return make_error(prefix + "working hours ranges must be sorted and disjoint");
    }
    previous_end = range.end_minute;
  }

  std::uint8_t weekday_mask = 0;
  for (int weekday : spec.working_weekdays) {
    if (weekday < 0 || weekday > 6) {
      return make_error(prefix + "working weekday " + std::to_string(weekday) +
                        " is not in 0 (Sunday) .. 6 (Saturday)");
    }
    weekday_mask = static_cast<std::uint8_t>(weekday_mask | (1u << weekday));
  }
  if (weekday_mask == 0 && spec.extra_workdays.empty()) {
    return make_error(prefix + "no working weekdays and no extra workdays");
  }

  auto holidays = sorted_day_numbers(spec.name, spec.holidays, "holiday");
  if (!holidays) return holidays.error();
  auto extra_workdays = sorted_day_numbers(spec.name, spec.extra_workdays, "extra workday");
  if (!extra_workdays) return extra_workdays.error();
  for (const auto& date : spec.holidays) {
    if (std::binary_search(extra_workdays->begin(), extra_workdays->end(), day_number(date))) {
      return make_error(prefix + iso_date(date) + " is both a holiday and an extra workday");
    }
  }

  std::shared_ptr<const Calendar> calendar = std::make_shared<const WorkingCalendar>(
      std::move(spec.name), zone, std::move(spec.working_hours), weekday_mask,
      std::move(holidays).value(), std::move(extra_workdays).value());
  return calendar;
}

}  // namespace slawatch
