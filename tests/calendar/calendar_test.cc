#include "calendar/calendar.h"

#include "calendar/calendar_internal.h"

#include <date/tz.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace slawatch {
namespace {

using namespace std::chrono_literals;
using std::chrono::year_month_day;

constexpr int kSunday = 0, kMonday = 1, kTuesday = 2, kWednesday = 3, kThursday = 4, kFriday = 5,
              kSaturday = 6;

// "2026-03-02T08:00:00+08:00" or "...:00.001+08:00" -> Instant. Parsed here
// so that these tests depend on nothing but the calendar.
Instant at(const char* rfc3339) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, offset_hour = 0, offset_minute = 0;
  double second = 0;
  char sign = 0;
  const int fields = std::sscanf(rfc3339, "%d-%d-%dT%d:%d:%lf%c%d:%d", &year, &month, &day, &hour,
                                 &minute, &second, &sign, &offset_hour, &offset_minute);
  EXPECT_EQ(fields, 9) << "bad test instant " << rfc3339;
  const auto date = std::chrono::year{year} / month / day;
  const Duration local_time = std::chrono::hours{hour} + std::chrono::minutes{minute} +
                              Duration{std::llround(second * 1000)};
  const Duration offset = (sign == '-' ? -1 : 1) *
                          (std::chrono::hours{offset_hour} + std::chrono::minutes{offset_minute});
  return std::chrono::sys_days{date} + local_time - offset;
}

// Local wall time of an instant, so expectations read like the business rule.
std::string local_time_in(const char* zone, Instant t) {
  return date::format("%F %T %Z", date::zoned_time<Duration>{zone, t});
}
std::string shanghai(Instant t) { return local_time_in("Asia/Shanghai", t); }
std::string new_york(Instant t) { return local_time_in("America/New_York", t); }

year_month_day ymd(int y, unsigned m, unsigned d) {
  return std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d};
}

constexpr WorkingCalendarSpec::LocalTimeRange hours(int begin_hour, int begin_minute, int end_hour,
                                                    int end_minute) {
  return {begin_hour * 60 + begin_minute, end_hour * 60 + end_minute};
}

// Haikou-like hotline calendar: Mon-Fri 08:00-12:00 and 14:30-17:30 (7h a
// day), National Day week 2026-10-01..07 off, make-up working days on Sunday
// 2026-09-27 and Saturday 2026-10-10. 2026-10-01 is a Thursday.
WorkingCalendarSpec haikou_spec() {
  WorkingCalendarSpec spec;
  spec.name = "haikou";
  spec.time_zone = "Asia/Shanghai";
  spec.working_hours = {hours(8, 0, 12, 0), hours(14, 30, 17, 30)};
  spec.working_weekdays = {kMonday, kTuesday, kWednesday, kThursday, kFriday};
  for (unsigned day = 1; day <= 7; ++day) spec.holidays.push_back(ymd(2026, 10, day));
  spec.extra_workdays = {ymd(2026, 9, 27), ymd(2026, 10, 10)};
  return spec;
}

std::shared_ptr<const Calendar> build(WorkingCalendarSpec spec) {
  auto calendar = make_working_calendar(std::move(spec));
  EXPECT_TRUE(calendar.ok()) << calendar.error().message;
  return calendar.ok() ? calendar.value() : make_always_calendar();
}

std::string construction_error(WorkingCalendarSpec spec) {
  auto calendar = make_working_calendar(std::move(spec));
  EXPECT_FALSE(calendar.ok());
  return calendar.ok() ? std::string() : calendar.error().message;
}

class HaikouCalendar : public ::testing::Test {
 protected:
  std::shared_ptr<const Calendar> calendar_ = build(haikou_spec());
};

TEST_F(HaikouCalendar, KeepsItsName) { EXPECT_EQ(calendar_->name(), "haikou"); }

TEST_F(HaikouCalendar, CountsAcrossTheLunchBreak) {
  // Monday 11:00 -> 15:00 is 1h before lunch and 30m after.
  EXPECT_EQ(calendar_->counted(at("2026-03-02T11:00:00+08:00"), at("2026-03-02T15:00:00+08:00")),
            90min);
  EXPECT_EQ(calendar_->counted(at("2026-03-02T12:00:00+08:00"), at("2026-03-02T14:30:00+08:00")),
            0ms);
  EXPECT_EQ(calendar_->counted(at("2026-03-02T00:00:00+08:00"), at("2026-03-03T00:00:00+08:00")),
            7h);
}

TEST_F(HaikouCalendar, CountsNothingForAnEmptyOrReversedSpan) {
  const Instant monday_ten = at("2026-03-02T10:00:00+08:00");
  EXPECT_EQ(calendar_->counted(monday_ten, monday_ten), 0ms);
  EXPECT_EQ(calendar_->counted(monday_ten, monday_ten - 1h), 0ms);
}

TEST_F(HaikouCalendar, CountsTheMillisecondsAtPeriodEdges) {
  const Instant last_ms_before_lunch = at("2026-03-02T11:59:59.999+08:00");
  const Instant first_ms_after_lunch = at("2026-03-02T14:30:00.000+08:00");
  EXPECT_EQ(calendar_->counted(last_ms_before_lunch, first_ms_after_lunch + 1ms), 2ms);
  EXPECT_EQ(calendar_->counted(last_ms_before_lunch, first_ms_after_lunch), 1ms);
  const Instant last_ms_before_eight = at("2026-03-02T07:59:59.999+08:00");
  EXPECT_EQ(calendar_->counted(last_ms_before_eight, last_ms_before_eight + 1ms), 0ms);
  EXPECT_EQ(calendar_->counted(last_ms_before_eight, last_ms_before_eight + 2ms), 1ms);
}

TEST_F(HaikouCalendar, AdvanceUsedUpExactlyAtNoonAnswersNoon) {
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-02T08:00:00+08:00"), 4h)),
            "2026-03-02 12:00:00.000 CST");
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-02T10:00:00+08:00"), 2h)),
            "2026-03-02 12:00:00.000 CST");
}

TEST_F(HaikouCalendar, OneMillisecondPastNoonLandsAfterLunch) {
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-02T08:00:00+08:00"), 4h + 1ms)),
            "2026-03-02 14:30:00.001 CST");
}

TEST_F(HaikouCalendar, AdvanceByZeroStaysPutEvenOffHours) {
  const Instant saturday = at("2026-03-07T10:00:00+08:00");
  EXPECT_EQ(shanghai(calendar_->advance(saturday, 0ms)), "2026-03-07 10:00:00.000 CST");
}

TEST_F(HaikouCalendar, StartDuringLunchWaitsForTheAfternoon) {
  const Instant lunch = at("2026-03-02T13:00:00+08:00");
  EXPECT_EQ(shanghai(calendar_->advance(lunch, 1h)), "2026-03-02 15:30:00.000 CST");
  EXPECT_EQ(calendar_->counted(lunch, at("2026-03-02T15:00:00+08:00")), 30min);
}

TEST_F(HaikouCalendar, StartBeforeOfficeHoursWaitsForEight) {
  const Instant early = at("2026-03-02T06:00:00+08:00");
  EXPECT_EQ(shanghai(calendar_->advance(early, 1h)), "2026-03-02 09:00:00.000 CST");
  EXPECT_EQ(calendar_->counted(early, at("2026-03-02T09:00:00+08:00")), 1h);
}

TEST_F(HaikouCalendar, FridayEveningCarriesOverTheWeekend) {
  // 30 minutes left on Friday 2026-03-06, 90 more on Monday morning.
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-06T17:00:00+08:00"), 2h)),
            "2026-03-09 09:30:00.000 CST");
}

TEST_F(HaikouCalendar, WeekendsDoNotCount) {
  EXPECT_EQ(calendar_->counted(at("2026-03-07T00:00:00+08:00"), at("2026-03-09T00:00:00+08:00")),
            0ms);
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-07T10:00:00+08:00"), 1ms)),
            "2026-03-09 08:00:00.001 CST");
  EXPECT_EQ(calendar_->counted(at("2026-03-02T00:00:00+08:00"), at("2026-03-09T00:00:00+08:00")),
            5 * 7h);
}

TEST_F(HaikouCalendar, FiveWorkingDaysAreFiveTimesSevenHours) {
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-02T08:00:00+08:00"), 5 * 7h)),
            "2026-03-06 17:30:00.000 CST");
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-03-02T10:00:00+08:00"), 5 * 7h)),
            "2026-03-09 10:00:00.000 CST");
}

TEST_F(HaikouCalendar, NationalDayHolidaysAreSkipped) {
  // One hour left on Wednesday 2026-09-30, then nothing until Thursday 10-08.
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-09-30T16:30:00+08:00"), 2h)),
            "2026-10-08 09:00:00.000 CST");
  EXPECT_EQ(calendar_->counted(at("2026-09-30T00:00:00+08:00"), at("2026-10-08T00:00:00+08:00")),
            7h);
}

TEST_F(HaikouCalendar, MakeUpWeekendDaysAreWorkingDays) {
  // Sunday 2026-09-27 works, Saturday 09-26 does not.
  EXPECT_EQ(calendar_->counted(at("2026-09-26T00:00:00+08:00"), at("2026-09-28T00:00:00+08:00")),
            7h);
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-10-09T17:00:00+08:00"), 1h)),
            "2026-10-10 08:30:00.000 CST");
}

TEST_F(HaikouCalendar, FiveWorkingDaysAcrossTheHolidayWeek) {
  // Working days: Wed 09-30, Thu 10-08, Fri 10-09, Sat 10-10 (make-up), Mon 10-12.
  EXPECT_EQ(shanghai(calendar_->advance(at("2026-09-30T08:00:00+08:00"), 5 * 7h)),
            "2026-10-12 17:30:00.000 CST");
}

TEST_F(HaikouCalendar, UnboundedSpansStayFinite) {
  EXPECT_GT(calendar_->counted(kMinInstant, kMaxInstant), 100 * 250 * 7h);
  EXPECT_EQ(to_millis(calendar_->advance(kMaxInstant, 1h)), to_millis(kMaxInstant));
}

TEST_F(HaikouCalendar, AdvanceIsTheInverseOfCounted) {
  std::mt19937_64 random(20260302);
  const int64_t year_start = to_millis(at("2026-01-01T00:00:00+08:00"));
  std::uniform_int_distribution<int64_t> offset(0, 366LL * 24 * 3600 * 1000);
  std::uniform_int_distribution<int64_t> amount_ms(0, 60LL * 3600 * 1000);
  for (int i = 0; i < 2000; ++i) {
    const Instant from = from_millis(year_start + offset(random));
    const Duration amount{amount_ms(random)};
    const Instant due = calendar_->advance(from, amount);
    ASSERT_EQ(calendar_->counted(from, due), amount) << shanghai(from) << " + " << amount.count();
    if (amount > 0ms) {  // earliest: the last millisecond before `due` was working time
      ASSERT_EQ(calendar_->counted(due - 1ms, due), 1ms)
          << shanghai(from) << " + " << amount.count();
    }
  }
}

TEST_F(HaikouCalendar, CountedIsAdditive) {
  std::mt19937 random(7);
  const int64_t year_start = to_millis(at("2026-01-01T00:00:00+08:00"));
  std::uniform_int_distribution<int64_t> offset(0, 366LL * 24 * 3600 * 1000);
  for (int i = 0; i < 500; ++i) {
    Instant a = from_millis(year_start + offset(random));
    Instant b = from_millis(year_start + offset(random));
    Instant c = from_millis(year_start + offset(random));
    if (a > b) std::swap(a, b);
    if (b > c) std::swap(b, c);
    if (a > b) std::swap(a, b);
    ASSERT_EQ(calendar_->counted(a, c), calendar_->counted(a, b) + calendar_->counted(b, c));
  }
}

TEST(AlwaysCalendar, CountsEveryMillisecond) {
  const auto always = make_always_calendar();
  const Instant t = at("2026-03-07T23:00:00+08:00");  // a Saturday night
  EXPECT_EQ(always->name(), "always");
  EXPECT_EQ(always->counted(t, t + 5s), 5s);
  EXPECT_EQ(always->counted(t, t - 5s), 0ms);
  EXPECT_EQ(shanghai(always->advance(t, 90min)), "2026-03-08 00:30:00.000 CST");
  EXPECT_EQ(shanghai(always->advance(t, 0ms)), "2026-03-07 23:00:00.000 CST");
  EXPECT_EQ(to_millis(always->advance(kMaxInstant - 1ms, 1h)), to_millis(kMaxInstant));
}

WorkingCalendarSpec new_york_every_day(std::vector<WorkingCalendarSpec::LocalTimeRange> ranges) {
  WorkingCalendarSpec spec;
  spec.name = "nyc";
  spec.time_zone = "America/New_York";
  spec.working_hours = std::move(ranges);
  spec.working_weekdays = {kSunday, kMonday, kTuesday, kWednesday, kThursday, kFriday, kSaturday};
  return spec;
}

// New York local midnights around the 2026 changes: clocks spring forward on
// Sunday 03-08 (02:00 EST -> 03:00 EDT) and fall back on Sunday 11-01
// (02:00 EDT -> 01:00 EST).
class DaylightSavingTime : public ::testing::Test {
 protected:
  const Instant march_7_ = at("2026-03-07T00:00:00-05:00");
  const Instant march_8_ = at("2026-03-08T00:00:00-05:00");
  const Instant march_9_ = at("2026-03-09T00:00:00-04:00");
  const Instant november_1_ = at("2026-11-01T00:00:00-04:00");
  const Instant november_2_ = at("2026-11-02T00:00:00-05:00");
};

TEST_F(DaylightSavingTime, OfficeHoursKeepEightHoursAcrossBothChanges) {
  const auto calendar = build(new_york_every_day({hours(9, 0, 17, 0)}));
  EXPECT_EQ(calendar->counted(march_8_, march_9_), 8h);
  EXPECT_EQ(calendar->counted(november_1_, november_2_), 8h);
  // 16:00 EST Saturday + 2h: one hour on Saturday, one on Sunday (now EDT).
  EXPECT_EQ(new_york(calendar->advance(at("2026-03-07T16:00:00-05:00"), 2h)),
            "2026-03-08 10:00:00.000 EDT");
  EXPECT_EQ(new_york(calendar->advance(at("2026-10-31T16:00:00-04:00"), 2h)),
            "2026-11-01 10:00:00.000 EST");
}

TEST_F(DaylightSavingTime, WholeDayRangeCountsTheRealLengthOfTheDay) {
  const auto calendar = build(new_york_every_day({hours(0, 0, 24, 0)}));
  EXPECT_EQ(calendar->counted(march_8_, march_9_), 23h);
  EXPECT_EQ(calendar->counted(november_1_, november_2_), 25h);
  EXPECT_EQ(new_york(calendar->advance(march_8_, 24h)), "2026-03-09 01:00:00.000 EDT");
  EXPECT_EQ(new_york(calendar->advance(november_1_, 24h)), "2026-11-01 23:00:00.000 EST");
  // Every millisecond counts, as with `always`.
  const Instant from = at("2026-02-20T13:17:00-05:00");
  const Instant to = at("2026-11-20T08:00:00-05:00");
  EXPECT_EQ(calendar->counted(from, to), to - from);
  EXPECT_EQ(to_millis(calendar->advance(from, to - from)), to_millis(to));
}

TEST_F(DaylightSavingTime, SkippedLocalTimesMapToTheEndOfTheGap) {
  // 02:00-03:00 does not exist on 2026-03-08: 01:30-02:30 is 01:30 EST to 03:00 EDT.
  const auto calendar = build(new_york_every_day({hours(1, 30, 2, 30)}));
  EXPECT_EQ(calendar->counted(march_8_, march_9_), 30min);
  EXPECT_EQ(new_york(calendar->advance(march_8_, 30min)), "2026-03-08 03:00:00.000 EDT");
  // 01:00-02:00 happens twice on 2026-11-01: 01:30 is its first occurrence (EDT).
  EXPECT_EQ(calendar->counted(november_1_, november_2_), 2h);
  EXPECT_EQ(new_york(calendar->advance(november_1_, 2h)), "2026-11-01 02:30:00.000 EST");
}

TEST_F(DaylightSavingTime, RangeEntirelyInsideTheGapIsEmptyThatDay) {
  const auto calendar = build(new_york_every_day({hours(2, 0, 2, 30), hours(9, 0, 10, 0)}));
  EXPECT_EQ(calendar->counted(march_8_, march_9_), 1h);
  EXPECT_EQ(calendar->counted(march_7_, march_8_), 90min);
  EXPECT_EQ(new_york(calendar->advance(at("2026-03-07T23:00:00-05:00"), 1ms)),
            "2026-03-08 09:00:00.001 EDT");
}

TEST_F(DaylightSavingTime, AdvanceIsTheInverseOfCountedAroundTheChanges) {
  const auto calendar = build(
      new_york_every_day({hours(0, 0, 1, 30), hours(1, 45, 2, 30), hours(9, 0, 17, 0)}));
  std::mt19937 random(11);
  const int64_t march = to_millis(at("2026-03-06T00:00:00-05:00"));
  const int64_t november = to_millis(at("2026-10-30T00:00:00-04:00"));
  std::uniform_int_distribution<int64_t> offset(0, 4LL * 24 * 3600 * 1000);
  std::uniform_int_distribution<int64_t> amount_ms(0, 30LL * 3600 * 1000);
  for (int i = 0; i < 1000; ++i) {
    const Instant from = from_millis((i % 2 == 0 ? march : november) + offset(random));
    const Duration amount{amount_ms(random)};
    const Instant due = calendar->advance(from, amount);
    ASSERT_EQ(calendar->counted(from, due), amount) << new_york(from) << " + " << amount.count();
    if (amount > 0ms) {
      ASSERT_EQ(calendar->counted(due - 1ms, due), 1ms)
          << new_york(from) << " + " << amount.count();
    }
  }
}

TEST(WorkingCalendarOnlyOnExtraDays, WorksThoseDaysAndGivesUpAfterTheHorizon) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.working_weekdays.clear();
  spec.holidays.clear();
  const auto calendar = build(spec);
  const Instant september = at("2026-09-01T00:00:00+08:00");
  EXPECT_EQ(calendar->counted(september, at("2026-11-01T00:00:00+08:00")), 14h);
  EXPECT_EQ(shanghai(calendar->advance(september, 8h)), "2026-10-10 09:00:00.000 CST");
  EXPECT_EQ(to_millis(calendar->advance(september, 14h + 1ms)), to_millis(kMaxInstant));
}

TEST(WorkingCalendarConstruction, RejectsAnUnknownTimeZone) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.time_zone = "Mars/Olympus_Mons";
  const std::string error = construction_error(spec);
  EXPECT_NE(error.find("unknown time zone 'Mars/Olympus_Mons'"), std::string::npos) << error;
}

TEST(WorkingCalendarConstruction, RejectsADayThatIsBothHolidayAndExtraWorkday) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.extra_workdays.push_back(ymd(2026, 10, 3));
  const std::string error = construction_error(spec);
  EXPECT_NE(error.find("2026-10-03"), std::string::npos) << error;
  EXPECT_NE(error.find("haikou"), std::string::npos) << error;
}

TEST(WorkingCalendarConstruction, RejectsACalendarWithoutWorkingTime) {
  WorkingCalendarSpec no_hours = haikou_spec();
  no_hours.working_hours.clear();
  EXPECT_NE(construction_error(no_hours).find("no working hours"), std::string::npos);

  WorkingCalendarSpec no_days = haikou_spec();
  no_days.working_weekdays.clear();
  no_days.extra_workdays.clear();
  EXPECT_NE(construction_error(no_days).find("no working weekdays"), std::string::npos);
}

TEST(WorkingCalendarConstruction, RejectsMalformedRanges) {
  for (auto bad : std::vector<std::vector<WorkingCalendarSpec::LocalTimeRange>>{
           {hours(8, 0, 8, 0)},                      // empty
           {hours(12, 0, 8, 0)},                     // reversed
           {{-1, 60}},                               // before midnight
           {{0, 24 * 60 + 1}},                       // past the next midnight
           {hours(14, 30, 17, 30), hours(8, 0, 12, 0)},  // unsorted
           {hours(8, 0, 12, 0), hours(11, 0, 13, 0)},    // overlapping
       }) {
    WorkingCalendarSpec spec = haikou_spec();
    spec.working_hours = bad;
    EXPECT_NE(construction_error(spec).find("working hours"), std::string::npos);
  }
}

TEST(WorkingCalendarConstruction, AcceptsTouchingRanges) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.working_hours = {hours(8, 0, 12, 0), hours(12, 0, 13, 0)};
  const auto calendar = build(spec);
  EXPECT_EQ(shanghai(calendar->advance(at("2026-03-02T11:00:00+08:00"), 90min)),
            "2026-03-02 12:30:00.000 CST");
}

TEST(WorkingCalendarConstruction, RejectsBadWeekdaysAndDates) {
  WorkingCalendarSpec weekday = haikou_spec();
  weekday.working_weekdays.push_back(7);
  EXPECT_NE(construction_error(weekday).find("weekday 7"), std::string::npos);

  WorkingCalendarSpec date = haikou_spec();
  date.holidays.push_back(ymd(2026, 2, 30));
  EXPECT_NE(construction_error(date).find("2026-02-30"), std::string::npos);
}

// ---------------------------------------------------------------------------
// The precomputed period table against the day-walking reference.

std::shared_ptr<const Calendar> build_day_walking(WorkingCalendarSpec spec) {
  auto calendar = calendar_internal::make_day_walking_calendar(std::move(spec));
  EXPECT_TRUE(calendar.ok()) << calendar.error().message;
  return calendar.ok() ? calendar.value() : make_always_calendar();
}

// A window of instants that `from` is drawn from.
struct Window {
  const char* first;  // RFC 3339
  const char* end;
};

// Draws from/to/amount in each window and checks that the table-based
// calendar answers exactly what the day-walking reference answers. Half of
// the instants fall on whole quarter hours, so period ends, midnights and
// the table's own edges are hit exactly, not only nearby.
void expect_table_matches_day_walking(const WorkingCalendarSpec& spec, const char* zone,
                                      std::uint64_t seed, const std::vector<Window>& windows) {
  const auto fast = build(spec);
  const auto reference = build_day_walking(spec);
  std::mt19937_64 random(seed);
  std::uniform_int_distribution<int> coin(0, 1);
  std::uniform_int_distribution<int64_t> span_ms(0, 10LL * 24 * 3600 * 1000);
  std::uniform_int_distribution<int64_t> amount_ms(0, 60LL * 3600 * 1000);
  const auto draw_instant = [&](Instant first, Instant end) {
    std::uniform_int_distribution<int64_t> offset(0, to_millis(end) - to_millis(first) - 1);
    const Instant t = first + Duration{offset(random)};
    return coin(random) == 0 ? std::chrono::floor<std::chrono::minutes>(t) -
                                   std::chrono::floor<std::chrono::minutes>(t).time_since_epoch() %
                                       15min
                             : t;
  };
  const auto draw_duration = [&](std::uniform_int_distribution<int64_t>& distribution) {
    const Duration d{distribution(random)};
    return coin(random) == 0 ? std::chrono::floor<std::chrono::minutes>(d) -
                                   std::chrono::floor<std::chrono::minutes>(d) % 15min
                             : d;
  };
  for (const Window& window : windows) {
    const Instant first = at(window.first);
    const Instant end = at(window.end);
    for (int i = 0; i < 1000; ++i) {
      const Instant from = draw_instant(first, end);
      const Instant to = from + draw_duration(span_ms);
      const Duration amount = draw_duration(amount_ms);
      ASSERT_EQ(fast->counted(from, to), reference->counted(from, to))
          << local_time_in(zone, from) << " .. " << local_time_in(zone, to);
      ASSERT_EQ(to_millis(fast->advance(from, amount)), to_millis(reference->advance(from, amount)))
          << local_time_in(zone, from) << " + " << amount.count() << "ms";
    }
  }
}

const std::vector<Window> kWindowsAroundTheTable = {
    {"2026-01-01T00:00:00+00:00", "2027-01-01T00:00:00+00:00"},  // well inside
    {"1999-12-20T00:00:00+00:00", "2000-01-10T00:00:00+00:00"},  // across its first day
    {"2099-12-20T00:00:00+00:00", "2100-01-10T00:00:00+00:00"},  // across its end
    {"1899-12-20T00:00:00+00:00", "2400-01-10T00:00:00+00:00"},  // anywhere, supported or not
};

TEST(PeriodTable, HaikouMatchesTheDayWalkingReference) {
  expect_table_matches_day_walking(haikou_spec(), "Asia/Shanghai", 2026, kWindowsAroundTheTable);
}

TEST(PeriodTable, NewYorkMatchesTheDayWalkingReferenceAroundDaylightSavingChanges) {
  WorkingCalendarSpec spec =
      new_york_every_day({hours(0, 0, 1, 30), hours(1, 45, 2, 30), hours(9, 0, 17, 0)});
  spec.working_weekdays = {kSunday, kMonday, kTuesday, kWednesday, kThursday, kFriday};
  spec.holidays = {ymd(2026, 3, 8), ymd(2026, 11, 2)};
  spec.extra_workdays = {ymd(2026, 10, 31)};
  std::vector<Window> windows = kWindowsAroundTheTable;
  windows.push_back({"2026-03-01T00:00:00-05:00", "2026-03-15T00:00:00-04:00"});
  windows.push_back({"2026-10-25T00:00:00-04:00", "2026-11-08T00:00:00-05:00"});
  expect_table_matches_day_walking(spec, "America/New_York", 311, windows);
}

TEST(PeriodTable, TouchingWholeDayPeriodsMatchTheDayWalkingReference) {
  // Every period ends where the next begins, so amounts used up exactly at
  // an end are everywhere.
  expect_table_matches_day_walking(new_york_every_day({hours(0, 0, 24, 0)}), "America/New_York",
                                   24, kWindowsAroundTheTable);
}

TEST(PeriodTable, UnboundedAndHugeInputsMatchTheDayWalkingReference) {
  const auto fast = build(haikou_spec());
  const auto reference = build_day_walking(haikou_spec());
  const Instant monday = at("2026-03-02T10:00:00+08:00");
  EXPECT_EQ(fast->counted(kMinInstant, kMaxInstant), reference->counted(kMinInstant, kMaxInstant));
  EXPECT_EQ(fast->counted(kMinInstant, monday), reference->counted(kMinInstant, monday));
  EXPECT_EQ(fast->counted(monday, kMaxInstant), reference->counted(monday, kMaxInstant));
  // 21 years of working time: more than the horizon holds.
  const Duration too_much = 21 * 52 * 5 * 7h;
  EXPECT_EQ(to_millis(fast->advance(monday, too_much)), to_millis(kMaxInstant));
  EXPECT_EQ(to_millis(reference->advance(monday, too_much)), to_millis(kMaxInstant));
  // 19 years: found, and found at the same instant.
  const Duration a_lot = 19 * 52 * 5 * 7h;
  EXPECT_LT(to_millis(fast->advance(monday, a_lot)), to_millis(kMaxInstant));
  EXPECT_EQ(to_millis(fast->advance(monday, a_lot)), to_millis(reference->advance(monday, a_lot)));
}

TEST_F(HaikouCalendar, CountsAndAdvancesAcrossTheFirstDayOfTheTable) {
  // Friday 1999-12-31 is walked, Monday 2000-01-03 is in the table.
  EXPECT_EQ(shanghai(calendar_->advance(at("1999-12-31T17:00:00+08:00"), 1h)),
            "2000-01-03 08:30:00.000 CST");
  EXPECT_EQ(calendar_->counted(at("1999-12-31T17:00:00+08:00"), at("2000-01-03T08:30:00+08:00")),
            1h);
  EXPECT_EQ(calendar_->counted(at("1999-12-31T17:29:59.999+08:00"),
                               at("2000-01-03T08:00:00.001+08:00")),
            2ms);
  // Exactly at the table's first instant.
  EXPECT_EQ(shanghai(calendar_->advance(at("2000-01-01T00:00:00+08:00"), 1ms)),
            "2000-01-03 08:00:00.001 CST");
  EXPECT_EQ(calendar_->counted(at("1999-12-31T00:00:00+08:00"), at("2000-01-01T00:00:00+08:00")),
            7h);
}

TEST_F(HaikouCalendar, CountsAndAdvancesAcrossTheEndOfTheTable) {
  // Thursday 2099-12-31 is the table's last day, Friday 2100-01-01 is walked.
  const Instant thursday_five = at("2099-12-31T17:00:00+08:00");
  EXPECT_EQ(shanghai(calendar_->advance(thursday_five, 30min)), "2099-12-31 17:30:00.000 CST");
  EXPECT_EQ(shanghai(calendar_->advance(thursday_five, 30min + 1ms)),
            "2100-01-01 08:00:00.001 CST");
  EXPECT_EQ(shanghai(calendar_->advance(thursday_five, 2h)), "2100-01-01 09:30:00.000 CST");
  EXPECT_EQ(calendar_->counted(thursday_five, at("2100-01-01T09:00:00+08:00")), 90min);
  EXPECT_EQ(calendar_->counted(at("2099-12-31T17:29:59.999+08:00"),
                               at("2100-01-01T08:00:00.001+08:00")),
            2ms);
  // Exactly at the table's end.
  EXPECT_EQ(shanghai(calendar_->advance(at("2100-01-01T00:00:00+08:00"), 1ms)),
            "2100-01-01 08:00:00.001 CST");
  EXPECT_EQ(calendar_->counted(at("2100-01-01T00:00:00+08:00"), at("2100-01-02T00:00:00+08:00")),
            7h);
}

// Only the listed make-up days work, so advance() runs into its horizon:
// it searches 20 * 366 local days after the start's date, that date included.
WorkingCalendarSpec only_extra_days(std::vector<year_month_day> days) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.working_weekdays.clear();
  spec.holidays.clear();
  spec.extra_workdays = std::move(days);
  return spec;
}

// Checks advance(from, amount) against the expectation and the reference.
void expect_advance(const WorkingCalendarSpec& spec, const char* from, Duration amount,
                    const std::string& expected) {
  const Instant due = build(spec)->advance(at(from), amount);
  EXPECT_EQ(to_millis(due), to_millis(build_day_walking(spec)->advance(at(from), amount)))
      << from << " + " << amount.count() << "ms";
  EXPECT_EQ(due == kMaxInstant ? "never" : shanghai(due), expected)
      << from << " + " << amount.count() << "ms";
}

TEST(AdvanceHorizon, EndsInsideTheTable) {
  // From 2026-09-01 the last day searched is 2046-09-16.
  const auto spec = only_extra_days({ymd(2026, 9, 27), ymd(2046, 9, 16), ymd(2046, 9, 17)});
  expect_advance(spec, "2026-09-01T00:00:00+08:00", 7h + 1ms, "2046-09-16 08:00:00.001 CST");
  expect_advance(spec, "2026-09-01T00:00:00+08:00", 14h, "2046-09-16 17:30:00.000 CST");
  expect_advance(spec, "2026-09-01T00:00:00+08:00", 14h + 1ms, "never");
  // One day later the horizon reaches 2046-09-17.
  expect_advance(spec, "2026-09-02T00:00:00+08:00", 14h + 1ms, "2046-09-17 08:00:00.001 CST");
}

TEST(AdvanceHorizon, StartsBeforeTheTable) {
  // From 1990-01-01 the last day searched is 2010-01-16.
  const auto spec = only_extra_days({ymd(1999, 12, 31), ymd(2010, 1, 16), ymd(2010, 1, 17)});
  expect_advance(spec, "1990-01-01T00:00:00+08:00", 7h, "1999-12-31 17:30:00.000 CST");
  expect_advance(spec, "1990-01-01T00:00:00+08:00", 10h, "2010-01-16 11:00:00.000 CST");
  expect_advance(spec, "1990-01-01T00:00:00+08:00", 14h, "2010-01-16 17:30:00.000 CST");
  expect_advance(spec, "1990-01-01T00:00:00+08:00", 14h + 1ms, "never");
}

TEST(AdvanceHorizon, EndsAfterTheTable) {
  // From 2090-06-01 the last day searched is 2110-06-17.
  const auto spec = only_extra_days({ymd(2099, 12, 31), ymd(2110, 6, 17), ymd(2110, 6, 18)});
  expect_advance(spec, "2090-06-01T00:00:00+08:00", 7h, "2099-12-31 17:30:00.000 CST");
  expect_advance(spec, "2090-06-01T00:00:00+08:00", 7h + 1ms, "2110-06-17 08:00:00.001 CST");
  expect_advance(spec, "2090-06-01T00:00:00+08:00", 14h, "2110-06-17 17:30:00.000 CST");
  expect_advance(spec, "2090-06-01T00:00:00+08:00", 14h + 1ms, "never");
}

TEST(PeriodTable, WithoutAnyWorkingTimeInsideTheTableCalendarsStillWorkAroundIt) {
  // 1999-12-31 is a Friday before the table, 2100-01-04 a Monday after it.
  const auto spec = only_extra_days({ymd(1999, 12, 31), ymd(2100, 1, 4)});
  const auto fast = build(spec);
  const auto reference = build_day_walking(spec);
  const Instant first = at("1999-01-01T00:00:00+08:00");
  const Instant end = at("2101-01-01T00:00:00+08:00");
  EXPECT_EQ(fast->counted(first, end), 14h);
  EXPECT_EQ(fast->counted(at("2000-01-01T00:00:00+08:00"), at("2100-01-01T00:00:00+08:00")), 0ms);
  EXPECT_EQ(fast->counted(at("1999-12-31T16:00:00+08:00"), at("2100-01-04T09:00:00+08:00")),
            reference->counted(at("1999-12-31T16:00:00+08:00"), at("2100-01-04T09:00:00+08:00")));
  EXPECT_EQ(fast->counted(at("1999-12-31T16:00:00+08:00"), at("2100-01-04T09:00:00+08:00")),
            2h + 30min);
  expect_advance(spec, "2099-06-01T00:00:00+08:00", 1h, "2100-01-04 09:00:00.000 CST");
  expect_advance(spec, "1999-12-31T16:00:00+08:00", 90min, "1999-12-31 17:30:00.000 CST");
  expect_advance(spec, "1999-12-31T16:00:00+08:00", 90min + 1ms, "never");  // 2100 is too far
}

TEST(DayWalkingCalendar, ValidatesLikeTheFastOne) {
  WorkingCalendarSpec spec = haikou_spec();
  spec.time_zone = "Mars/Olympus_Mons";
  auto calendar = calendar_internal::make_day_walking_calendar(spec);
  ASSERT_FALSE(calendar.ok());
  EXPECT_NE(calendar.error().message.find("unknown time zone"), std::string::npos);
}

}  // namespace
}  // namespace slawatch
