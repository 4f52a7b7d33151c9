#pragma once
// Internals of the calendar component shared with its tests and benchmarks
// only: the span the precomputed period table covers, the advance() horizon,
// and the day-walking reference implementation the table must agree with.
#include <chrono>
#include <memory>

#include "calendar/calendar.h"
#include "model/result.h"

namespace slawatch::calendar_internal {

// A working calendar precomputes its working periods for the local dates
// [kTableFirstDate, kTableEndDate); instants outside are answered by walking
// local days through the time zone (correct, only slower).
inline constexpr std::chrono::year_month_day kTableFirstDate{
    std::chrono::year{2000}, std::chrono::January, std::chrono::day{1}};
inline constexpr std::chrono::year_month_day kTableEndDate{
    std::chrono::year{2100}, std::chrono::January, std::chrono::day{1}};

// advance() looks for working time on at most this many local days after the
// start's local date (that date included), then answers kMaxInstant.
inline constexpr int kAdvanceHorizonDays = 20 * 366;

// Same validation and results as make_working_calendar, but without the
// table: every call walks local days through the time zone. The reference
// the fast calendar is tested and benchmarked against.
Result<std::shared_ptr<const Calendar>> make_day_walking_calendar(WorkingCalendarSpec spec);

}  // namespace slawatch::calendar_internal
