#pragma once
// Instants are UTC milliseconds since the epoch; durations are milliseconds.
// Everything inside slawatch works in these; time zones only matter to
// business calendars and to display.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/result.h"

namespace slawatch {

using Duration = std::chrono::milliseconds;
using Instant = std::chrono::sys_time<Duration>;

constexpr Instant kMinInstant = Instant{Duration{INT64_MIN / 4}};
constexpr Instant kMaxInstant = Instant{Duration{INT64_MAX / 4}};

inline int64_t to_millis(Instant t) { return t.time_since_epoch().count(); }
inline Instant from_millis(int64_t ms) { return Instant{Duration{ms}}; }

// Strict RFC 3339 date-time: "2026-03-02T09:30:00.000+08:00", "...Z".
// Fractional seconds are optional and truncated to milliseconds; the date is
// checked against the calendar (2026-02-30 is rejected).
Result<Instant> parse_rfc3339(std::string_view text);

// "2026-03-02T01:30:00.000Z"
std::string format_rfc3339_utc(Instant t);
// The same text appended to `out` (no string of its own: encoders call it
// three or four times per alert).
void append_rfc3339_utc(std::string& out, Instant t);
// The same text written at `out` (room for kMaxRfc3339Chars); returns its
// length: 24 for years 0000-9999.
inline constexpr size_t kMaxRfc3339Chars = 64;
size_t write_rfc3339_utc(char* out, Instant t);

// Durations as written in rules: "90s", "30m", "24h", "5d", "250ms".
Result<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);  // "1h30m", "45s", "0s"

// Clock interface at the edge: the engine never reads the wall clock itself.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual Instant now() const = 0;
};

// A clock that only moves when told to; used by tests and by replay.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Instant start = Instant{}) : now_(start) {}
  Instant now() const override { return now_; }
  void set(Instant t) { now_ = t; }
  void advance(Duration d) { now_ += d; }

 private:
  Instant now_;
};

// The process wall clock; only the composition root creates one.
class WallClock final : public Clock {
 public:
  Instant now() const override {
    return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
  }
};

// Elapsed time for cadences and rates (commit every 200 ms, timers per
// second): it never jumps with the wall clock. Tests move a manual one.
class MonotonicClock {
 public:
  virtual ~MonotonicClock() = default;
  virtual Duration elapsed() const = 0;  // since an arbitrary origin
};

class ManualMonotonicClock final : public MonotonicClock {
 public:
  Duration elapsed() const override { return elapsed_; }
  void advance(Duration d) { elapsed_ += d; }

 private:
  Duration elapsed_{0};
};

// The process's steady clock; only the composition root creates one.
class SteadyMonotonicClock final : public MonotonicClock {
 public:
  Duration elapsed() const override {
    return std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch());
  }
};

}  // namespace slawatch
