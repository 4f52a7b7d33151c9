#include "calendar/calendar.h"

#include <date/tz.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <utility>

#include "calendar/calendar_internal.h"

namespace slawatch {
namespace {

namespace chr = std::chrono;

constexpr int kMinutesPerDay = 24 * 60;
constexpr Duration kDay = date::days{1};

// Working time is only looked for between these instants: it keeps day
// arithmetic far from overflow (date::days counts in int) when callers pass
// kMinInstant / kMaxInstant as "unbounded".
constexpr Instant kFirstSupported = chr::sys_days{chr::year{1900} / 1 / 1};
constexpr Instant kEndSupported = chr::sys_days{chr::year{2400} / 1 / 1};

// advance() gives up (kMaxInstant) after this many local days without
// reaching the amount, e.g. a calendar whose only working days are a few
// listed make-up days.
constexpr date::days kAdvanceHorizon{calendar_internal::kAdvanceHorizonDays};

// An answer this close to the start is within the horizon whatever the zone:
// the horizon ends more than kAdvanceHorizon minus one day (the start's own
// local date) minus the largest UTC offset change (under 2 days) later.
constexpr Duration kSurelyWithinHorizon = kAdvanceHorizon - date::days{3};

std::string iso_date(const chr::year_month_day& date) {
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

int day_number(const chr::year_month_day& date) {
  return static_cast<int>(chr::sys_days{date}.time_since_epoch().count());
}

date::local_days local_date(const chr::year_month_day& date) {
  return date::local_days{chr::sys_days{date}.time_since_epoch()};
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

// The working-hours rules of a calendar, evaluated one local day at a time
// through the time zone. Each working day's local ranges become UTC periods
// (earliest instant for an ambiguous local time, end of the gap for a skipped
// one), so a period keeps its real elapsed length across DST changes.
// Local -> UTC with those choices never goes backwards, so the periods of
// successive days are sorted and disjoint.
// This is the reference implementation: obviously right but slow (two zone
// look-ups per period). Immutable; safe to share between threads (date's
// time_zone initialises itself under std::call_once).
class DayWalker {
 public:
  // What advance's walk over a range of days found: the instant the amount
  // was used up, or the amount still missing after the last day.
  struct Walk {
    std::optional<Instant> reached;
    Duration remaining;
  };

  DayWalker(const date::time_zone* zone,
            std::vector<WorkingCalendarSpec::LocalTimeRange> working_hours,
            std::uint8_t working_weekday_mask, std::vector<int> holiday_days,
            std::vector<int> extra_workday_days)
      : zone_(zone),
        working_hours_(std::move(working_hours)),
        working_weekday_mask_(working_weekday_mask),
        holiday_days_(std::move(holiday_days)),
        extra_workday_days_(std::move(extra_workday_days)) {}

  Duration counted(Instant from, Instant to) const {
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

  Instant advance(Instant from, Duration amount) const {
    if (amount <= Duration::zero()) return from;
    if (from >= kEndSupported) return kMaxInstant;
    const Instant start = std::max(from, kFirstSupported);
    // Periods of the days before start's local date all end at or before
    // start, so the walk begins at that date.
    const date::local_days first_day = local_day_of(start);
    return walk(start, amount, first_day, last_day_to_search(first_day))
        .reached.value_or(kMaxInstant);
  }

  // Uses up `amount` of the working time at or after `start` in the periods
  // of the local days [first_day, last_day].
  Walk walk(Instant start, Duration amount, date::local_days first_day,
            date::local_days last_day) const {
    Walk progress{std::nullopt, amount};
    for (date::local_days day = first_day; day <= last_day && !progress.reached;
         day += date::days{1}) {
      visit_periods(day, [&](Instant begin, Instant end) {
        begin = std::max(begin, start);
        if (end <= begin) return true;
        // `<=` so that an amount used up exactly at a period's end answers
        // that end, not the start of the next period.
        if (progress.remaining <= end - begin) {
          progress.reached = begin + progress.remaining;
          return false;
        }
        progress.remaining -= end - begin;
        return true;
      });
    }
    return progress;
  }

  // The last local day advance() searches when it starts on `first_day`.
  date::local_days last_day_to_search(date::local_days first_day) const {
    return std::min(first_day + kAdvanceHorizon, local_day_of(kEndSupported));
  }

  date::local_days local_day_of(Instant t) const {
    return chr::floor<date::days>(zone_->to_local(t));
  }

  // Where `day` begins: no period of an earlier day ends after it, no period
  // of `day` or later begins before it.
  Instant start_of(date::local_days day) const { return to_instant(day + chr::minutes{0}); }

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

  std::size_t periods_per_day() const { return working_hours_.size(); }

 private:
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

  const date::time_zone* zone_;  // owned by date's tz database, lives for the process
  std::vector<WorkingCalendarSpec::LocalTimeRange> working_hours_;
  std::uint8_t working_weekday_mask_;  // bit n set: weekday n (0 = Sunday) works
  std::vector<int> holiday_days_;        // sorted days since 1970-01-01
  std::vector<int> extra_workday_days_;  // sorted days since 1970-01-01
};

// The working periods of the local days [first_day(), end_day()) in UTC,
// sorted, with the working time accumulated up to the end of each period.
// Answers "working time before t" and its inverse by binary search, for t in
// [span_begin(), span_end()]. An index by UTC day narrows the first search to
// one day's periods; the inverse searches forward from there, as answers are
// usually a few periods ahead. Immutable after build; safe to share.
class PeriodTable {
 public:
  // Where an instant falls: how many periods have begun by then, and how
  // much working time lies before it.
  struct Position {
    std::size_t periods_begun;
    Duration worked;
  };

  // Empty (nullopt) if the zone ever mapped local time backwards, which would
  // make the periods overlap; the caller then walks days instead.
  static std::optional<PeriodTable> build(const DayWalker& walker, date::local_days first_day,
                                          date::local_days end_day) {
    PeriodTable table;
    table.first_day_ = first_day;
    table.end_day_ = end_day;
    table.span_begin_ = walker.start_of(first_day);
    table.span_end_ = walker.start_of(end_day);
    const auto days = static_cast<std::size_t>((end_day - first_day).count());
    table.begins_.reserve(days * walker.periods_per_day());
    table.ends_.reserve(days * walker.periods_per_day());
    table.worked_through_.reserve(days * walker.periods_per_day());

    bool sorted = true;
    Instant previous_end = table.span_begin_;
    Duration worked = Duration::zero();
    for (date::local_days day = first_day; day < end_day && sorted; day += date::days{1}) {
      walker.visit_periods(day, [&](Instant begin, Instant end) {
        sorted = begin >= previous_end && end <= table.span_end_;
        if (!sorted) return false;
        worked += end - begin;
        table.begins_.push_back(begin);
        table.ends_.push_back(end);
        table.worked_through_.push_back(worked);
        previous_end = end;
        return true;
      });
    }
    if (!sorted) return std::nullopt;

    // periods_begun_by_day_[d]: periods begun by the d-th UTC day boundary
    // after span_begin, up to one boundary at or past span_end.
    const auto index_days =
        static_cast<std::size_t>((table.span_end_ - table.span_begin_) / kDay) + 2;
    table.periods_begun_by_day_.reserve(index_days);
    std::size_t begun = 0;
    for (std::size_t day = 0; day < index_days; ++day) {
      const Instant boundary = table.span_begin_ + static_cast<int64_t>(day) * kDay;
      while (begun < table.begins_.size() && table.begins_[begun] <= boundary) ++begun;
      table.periods_begun_by_day_.push_back(begun);
    }
    return table;
  }

  date::local_days first_day() const { return first_day_; }
  date::local_days end_day() const { return end_day_; }
  Instant span_begin() const { return span_begin_; }
  Instant span_end() const { return span_end_; }
  bool covers(Instant t) const { return t >= span_begin_ && t <= span_end_; }

  // Working time in [span_begin(), span_end()).
  Duration total() const {
    return worked_through_.empty() ? Duration::zero() : worked_through_.back();
  }

  // Where t falls; t must be covered.
  Position locate(Instant t) const {
    // The periods begun by t's UTC day boundary have begun by t; those begun
    // only after the next boundary have not.
    const auto day = static_cast<std::size_t>((t - span_begin_) / kDay);
    const auto after = std::upper_bound(begins_.begin() + periods_begun_by_day_[day],
                                        begins_.begin() + periods_begun_by_day_[day + 1], t);
    const auto begun = static_cast<std::size_t>(after - begins_.begin());
    if (begun == 0) return {0, Duration::zero()};
    const std::size_t last = begun - 1;
    // Minus the part of the last period begun that still lies after t.
    return {begun, worked_through_[last] - std::max(ends_[last] - t, Duration::zero())};
  }

  // Working time in [span_begin(), t); t must be covered.
  Duration worked_before(Instant t) const { return locate(t).worked; }

  // The earliest instant t with worked_before(t) == from.worked + amount, for
  // 0 < amount <= total() - from.worked. It lies inside a period or at its
  // end, never in a gap: the first period whose accumulated time reaches the
  // target holds it.
  Instant advance(const Position& from, Duration amount) const {
    const Duration target = from.worked + amount;
    // The answer is in the last period begun by `from` or a later one. Gallop
    // forward until worked_through_[high] reaches the target (the last period
    // always does), then search low..high.
    std::size_t low = from.periods_begun == 0 ? 0 : from.periods_begun - 1;
    std::size_t high = low;
    for (std::size_t step = 1; high < worked_through_.size() && worked_through_[high] < target;
         step *= 2) {
      low = high + 1;
      high = low + step;
    }
    high = std::min(high + 1, worked_through_.size());
    const auto period = static_cast<std::size_t>(
        std::lower_bound(worked_through_.begin() + low, worked_through_.begin() + high, target) -
        worked_through_.begin());
    return ends_[period] - (worked_through_[period] - target);
  }

 private:
  PeriodTable() = default;

  date::local_days first_day_;
  date::local_days end_day_;
  Instant span_begin_;
  Instant span_end_;
  // Parallel arrays (one entry per period) keep each binary search on one
  // dense array.
  std::vector<Instant> begins_;
  std::vector<Instant> ends_;
  std::vector<Duration> worked_through_;
  std::vector<std::size_t> periods_begun_by_day_;  // see build()
};

// Working hours in a time zone (see DayWalker for how local ranges become UTC
// periods). Inside the table's span counted() and advance() are a couple of
// binary searches; outside it, or when the table is absent, they walk days
// with the same results. Immutable and cache-free: safe to share between
// threads.
class WorkingCalendar final : public Calendar {
 public:
  WorkingCalendar(std::string name, DayWalker walker, std::optional<PeriodTable> table)
      : name_(std::move(name)), walker_(std::move(walker)), table_(std::move(table)) {}

  const std::string& name() const override { return name_; }

  Duration counted(Instant from, Instant to) const override {
    if (!table_) return walker_.counted(from, to);
    from = std::max(from, kFirstSupported);
    to = std::min(to, kEndSupported);
    if (to <= from) return Duration::zero();
    if (table_->covers(from) && table_->covers(to)) {
      return table_->worked_before(to) - table_->worked_before(from);
    }
    return counted_in_pieces(from, to);
  }

  Instant advance(Instant from, Duration amount) const override {
    if (!table_) return walker_.advance(from, amount);
    if (amount <= Duration::zero()) return from;
    if (from >= kEndSupported) return kMaxInstant;
    const Instant start = std::max(from, kFirstSupported);
    if (table_->covers(start)) {
      const PeriodTable::Position position = table_->locate(start);
      if (amount <= table_->total() - position.worked) {
        const Instant due = table_->advance(position, amount);
        if (due - start <= kSurelyWithinHorizon) return due;
      }
    }
    return advance_in_pieces(start, amount);
  }

 private:
  // Working time is additive: walk the parts of [from, to) outside the table.
  Duration counted_in_pieces(Instant from, Instant to) const {
    Duration total = Duration::zero();
    if (from < table_->span_begin()) {
      total += walker_.counted(from, std::min(to, table_->span_begin()));
    }
    const Instant inner_from = std::max(from, table_->span_begin());
    const Instant inner_to = std::min(to, table_->span_end());
    if (inner_from < inner_to) {
      total += table_->worked_before(inner_to) - table_->worked_before(inner_from);
    }
    if (to > table_->span_end()) {
      total += walker_.counted(std::max(from, table_->span_end()), to);
    }
    return total;
  }

  // The reference walk, with the table standing in for the days it covers:
  // days before the table, the table, days after it, all within the same
  // horizon of days as DayWalker::advance.
  Instant advance_in_pieces(Instant start, Duration amount) const {
    const date::local_days first_day = walker_.local_day_of(start);
    const date::local_days last_day = walker_.last_day_to_search(first_day);
    Duration remaining = amount;
    Instant position = start;
    if (position < table_->span_begin()) {
      const DayWalker::Walk before = walker_.walk(
          position, remaining, first_day, std::min(last_day, table_->first_day() - date::days{1}));
      if (before.reached) return *before.reached;
      remaining = before.remaining;
      position = table_->span_begin();
    }
    if (position <= table_->span_end()) {
      const PeriodTable::Position located = table_->locate(position);
      const Duration worked = located.worked;
      if (remaining <= table_->total() - worked) {
        const Instant due = table_->advance(located, remaining);
        // Periods of the days after last_day begin at or after this instant,
        // and `due` lies after its period's begin.
        return due <= walker_.start_of(last_day + date::days{1}) ? due : kMaxInstant;
      }
      remaining -= table_->total() - worked;
      position = table_->span_end();
    }
    return walker_.walk(position, remaining, std::max(first_day, table_->end_day()), last_day)
        .reached.value_or(kMaxInstant);
  }

  std::string name_;
  DayWalker walker_;
  std::optional<PeriodTable> table_;  // absent: the day-walking reference only
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

// Validates the spec (errors as values) and builds the calendar, with its
// period table unless asked for the bare day-walking reference.
Result<std::shared_ptr<const Calendar>> build_working_calendar(WorkingCalendarSpec spec,
                                                               bool with_table) {
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

  DayWalker walker(zone, std::move(spec.working_hours), weekday_mask, std::move(holidays).value(),
                   std::move(extra_workdays).value());
  std::optional<PeriodTable> table;
  if (with_table) {
    table = PeriodTable::build(walker, local_date(calendar_internal::kTableFirstDate),
                               local_date(calendar_internal::kTableEndDate));
  }
  std::shared_ptr<const Calendar> calendar = std::make_shared<const WorkingCalendar>(
      std::move(spec.name), std::move(walker), std::move(table));
  return calendar;
}

}  // namespace

std::shared_ptr<const Calendar> make_always_calendar() {
  return std::make_shared<const AlwaysCalendar>();
}

Result<std::shared_ptr<const Calendar>> make_working_calendar(WorkingCalendarSpec spec) {
  return build_working_calendar(std::move(spec), /*with_table=*/true);
}

namespace calendar_internal {

Result<std::shared_ptr<const Calendar>> make_day_walking_calendar(WorkingCalendarSpec spec) {
  return build_working_calendar(std::move(spec), /*with_table=*/false);
}

}  // namespace calendar_internal

}  // namespace slawatch
