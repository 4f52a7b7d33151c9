// Micro-benchmarks of the working calendar on the calls the engine makes per
// event: the day-walking reference against the precomputed period table, and
// what building the table costs once per calendar.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "calendar/calendar.h"
#include "calendar/calendar_internal.h"

namespace slawatch {
namespace {

using namespace std::chrono_literals;

// Haikou hotline hours: Mon-Fri 08:00-12:00 and 14:30-17:30, a holiday week
// and two make-up days, as in the product's sample calendar.
WorkingCalendarSpec haikou_spec() {
  using std::chrono::year;
  WorkingCalendarSpec spec;
  spec.name = "haikou";
  spec.time_zone = "Asia/Shanghai";
  spec.working_hours = {{8 * 60, 12 * 60}, {14 * 60 + 30, 17 * 60 + 30}};
  spec.working_weekdays = {1, 2, 3, 4, 5};
  for (unsigned day = 1; day <= 7; ++day) {
    spec.holidays.push_back(year{2026} / 10 / std::chrono::day{day});
  }
  spec.extra_workdays = {year{2026} / 9 / 27, year{2026} / 10 / 10};
  return spec;
}

enum class Implementation { kDayWalking, kTable };

std::shared_ptr<const Calendar> make_calendar(Implementation implementation) {
  auto calendar = implementation == Implementation::kTable
                      ? make_working_calendar(haikou_spec())
                      : calendar_internal::make_day_walking_calendar(haikou_spec());
  if (!calendar.ok()) std::abort();
  return calendar.value();
}

// Instants spread over 2026 (fixed seed), so successive calls do not all
// touch the same part of the table.
std::vector<Instant> starts_in_2026() {
  constexpr int64_t kYearStart = 1767196800000;  // 2026-01-01T00:00:00+08:00
  std::mt19937_64 random(2026);
  std::uniform_int_distribution<int64_t> offset(0, 365LL * 24 * 3600 * 1000);
  std::vector<Instant> starts(4096);
  for (Instant& start : starts) start = from_millis(kYearStart + offset(random));
  return starts;
}

void BM_Advance(benchmark::State& state, Implementation implementation, Duration amount) {
  const auto calendar = make_calendar(implementation);
  const std::vector<Instant> starts = starts_in_2026();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(calendar->advance(starts[next], amount));
    next = (next + 1) % starts.size();
  }
}

void BM_CountedWeek(benchmark::State& state, Implementation implementation) {
  const auto calendar = make_calendar(implementation);
  const std::vector<Instant> starts = starts_in_2026();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(calendar->counted(starts[next], starts[next] + 7 * 24h));
    next = (next + 1) % starts.size();
  }
}

void BM_MakeCalendar(benchmark::State& state, Implementation implementation) {
  for (auto _ : state) benchmark::DoNotOptimize(make_calendar(implementation));
}

BENCHMARK_CAPTURE(BM_Advance, 2h_day_walking, Implementation::kDayWalking, Duration{2h});
BENCHMARK_CAPTURE(BM_Advance, 2h_table, Implementation::kTable, Duration{2h});
BENCHMARK_CAPTURE(BM_Advance, 35h_day_walking, Implementation::kDayWalking, Duration{35h});
BENCHMARK_CAPTURE(BM_Advance, 35h_table, Implementation::kTable, Duration{35h});
BENCHMARK_CAPTURE(BM_CountedWeek, day_walking, Implementation::kDayWalking);
BENCHMARK_CAPTURE(BM_CountedWeek, table, Implementation::kTable);
BENCHMARK_CAPTURE(BM_MakeCalendar, day_walking, Implementation::kDayWalking)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_MakeCalendar, table, Implementation::kTable)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace slawatch
