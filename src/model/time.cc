#include "model/time.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>

namespace slawatch {
namespace {

// Inputs come from the outside world; an error quotes at most this much of one
// so a hostile 60 KB "time" cannot blow up a dead-letter reason.
constexpr size_t kMaxQuoted = 64;

std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(std::min(text.size(), kMaxQuoted) + 5);
  out += '\'';
  if (text.size() <= kMaxQuoted) {
    out += text;
  } else {
    // Cut on a UTF-8 character boundary so the message stays valid UTF-8.
    size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out += text.substr(0, cut);
    out += "...";
  }
  out += '\'';
  return out;
}

Error time_error(std::string_view text, std::string_view problem) {
  std::string message = "bad time ";
  message += quoted(text);
  message += ": ";
  message += problem;
  return Error{std::move(message)};
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `Count` digits at `pos`; false if any of them is not a digit.
// A template so the loop unrolls: this runs for every event on the intake path.
template <size_t Count>
bool read_fixed_digits(std::string_view text, size_t pos, int& out) {
  if (pos + Count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + Count; ++i) {
    if (!is_digit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

// Gregorian calendar date for a count of days since 1970-01-01, valid over the
// whole Instant range. std::chrono::year_month_day only covers years
// -32767..32767, which kMinInstant/kMaxInstant lie far outside of.
struct CivilDate {
  int64_t year;
  unsigned month;
  unsigned day;
};

CivilDate civil_from_days(int64_t days) {
  // Howard Hinnant's algorithm (http://howardhinnant.github.io/date_algorithms.html).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto day_of_era = static_cast<uint64_t>(days - era * 146097);
  const uint64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const uint64_t mp = (5 * day_of_year + 2) / 153;
  const auto day = static_cast<unsigned>(day_of_year - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

struct UnitInfo {
  std::string_view name;
  int64_t millis;
};

// Ordered from largest to smallest; a compound duration must follow this order.
constexpr std::array<UnitInfo, 5> kUnits = {{
    {"d", 86'400'000},
    {"h", 3'600'000},
    {"m", 60'000},
    {"s", 1'000},
    {"ms", 1},
}};

// Durations are added to instants everywhere (start + target, due + grace);
// capping them at the Instant range keeps every such sum far from overflow.
constexpr int64_t kMaxDurationMillis = kMaxInstant.time_since_epoch().count();

Error duration_error(std::string_view text, std::string_view problem) {
  std::string message = "bad duration ";
  message += quoted(text);
  message += ": ";
  message += problem;
  return Error{std::move(message)};
}

}  // namespace

Result<Instant> parse_rfc3339(std::string_view text) {
  // Layout: YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)
  //         0    5  8  11 14 17 19
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_fixed_digits<4>(text, 0, year) || text.size() < 5 || text[4] != '-' ||
      !read_fixed_digits<2>(text, 5, month) || text.size() < 8 || text[7] != '-' ||
      !read_fixed_digits<2>(text, 8, day)) {
    return time_error(text, "expected a date YYYY-MM-DD");
  }
  if (text.size() < 11 || (text[10] != 'T' && text[10] != 't')) {
    return time_error(text, "expected 'T' between date and time");
  }
  if (!read_fixed_digits<2>(text, 11, hour) || text.size() < 14 || text[13] != ':' ||
      !read_fixed_digits<2>(text, 14, minute) || text.size() < 17 || text[16] != ':' ||
      !read_fixed_digits<2>(text, 17, second)) {
    return time_error(text, "expected a time HH:MM:SS");
  }

  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) {
    return time_error(text, "invalid date " + std::string(text.substr(0, 10)));
  }
  if (hour > 23 || minute > 59) {
    return time_error(text, "invalid time of day " + std::string(text.substr(11, 8)));
  }
  if (second == 60) {
    // Leap seconds cannot be placed on a millisecond UTC axis without
    // inventing an instant, and case systems do not emit them.
    return time_error(text, "leap second :60 is not supported");
  }
  if (second > 59) {
    return time_error(text, "invalid time of day " + std::string(text.substr(11, 8)));
  }

  size_t pos = 19;
  int64_t millis = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t fraction_start = pos;
    while (pos < text.size() && is_digit(text[pos])) ++pos;
    const size_t fraction_digits = pos - fraction_start;
    if (fraction_digits == 0) return time_error(text, "expected digits after '.'");
    if (fraction_digits > 9) return time_error(text, "more than 9 fractional digits");
    for (size_t i = 0; i < 3; ++i) {
      const int digit = i < fraction_digits ? text[fraction_start + i] - '0' : 0;
      millis = millis * 10 + digit;
    }
  }

  if (pos >= text.size()) return time_error(text, "missing time zone offset");
  int64_t offset_minutes = 0;
  const char zone = text[pos];
  if (zone == 'Z' || zone == 'z') {
    ++pos;
  } else if (zone == '+' || zone == '-') {
    int offset_hour = 0, offset_minute = 0;
    if (!read_fixed_digits<2>(text, pos + 1, offset_hour) || text.size() < pos + 4 ||
        text[pos + 3] != ':' || !read_fixed_digits<2>(text, pos + 4, offset_minute)) {
      return time_error(text, "expected a time zone offset +HH:MM or -HH:MM");
    }
    if (offset_hour > 23 || offset_minute > 59) {
      return time_error(text, "invalid time zone offset " + std::string(text.substr(pos, 6)));
    }
    offset_minutes = (offset_hour * 60 + offset_minute) * (zone == '-' ? -1 : 1);
    pos += 6;
  } else {
    return time_error(text, "missing time zone offset");
  }
  if (pos != text.size()) return time_error(text, "unexpected characters after the time zone offset");

  const std::chrono::sys_days days{date};
  const Instant local = Instant{days} + std::chrono::hours{hour} + std::chrono::minutes{minute} +
                        std::chrono::seconds{second} + Duration{millis};
  return local - std::chrono::minutes{offset_minutes};
}

std::string format_rfc3339_utc(Instant t) {
  std::string out;
  append_rfc3339_utc(out, t);
  return out;
}

size_t write_rfc3339_utc(char* out, Instant t) {
  const int64_t ms = to_millis(t);
  constexpr int64_t kMillisPerDay = 86'400'000;
  // Floor division so instants before 1970 land on the right day.
  int64_t days = ms / kMillisPerDay;
  int64_t ms_of_day = ms % kMillisPerDay;
  if (ms_of_day < 0) {
    ms_of_day += kMillisPerDay;
    --days;
  }
  const CivilDate date = civil_from_days(days);
  const auto hour = static_cast<int>(ms_of_day / 3'600'000);
  const auto minute = static_cast<int>(ms_of_day / 60'000 % 60);
  const auto second = static_cast<int>(ms_of_day / 1'000 % 60);
  const auto millis = static_cast<int>(ms_of_day % 1'000);

  if (date.year >= 0 && date.year <= 9999) {
    // The common case, written digit by digit: alerts carry three or four
    // timestamps each, and snprintf was a visible share of replay's profile.
    char* text = out;
    auto digits = [&](size_t at, int64_t value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) text[at + static_cast<size_t>(i)] = static_cast<char>('0' + value % 10);
    };
    digits(0, date.year, 4);
    text[4] = '-';
    digits(5, date.month, 2);
    text[7] = '-';
    digits(8, date.day, 2);
    text[10] = 'T';
    digits(11, hour, 2);
    text[13] = ':';
    digits(14, minute, 2);
    text[16] = ':';
    digits(17, second, 2);
    text[19] = '.';
    digits(20, millis, 3);
    text[23] = 'Z';
    return 24;
  }
  // Years outside 0000-9999 cannot be written in RFC 3339; they are written
  // ISO 8601 style (sign, more digits) rather than silently wrapped.
  const int n = std::snprintf(out, kMaxRfc3339Chars, "%s%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ",
                              date.year < 0 ? "-" : "",
                              static_cast<long long>(date.year < 0 ? -date.year : date.year),
                              date.month, date.day, hour, minute, second, millis);
  return std::min(static_cast<size_t>(std::max(n, 0)), kMaxRfc3339Chars - 1);
}

void append_rfc3339_utc(std::string& out, Instant t) {
  char text[kMaxRfc3339Chars];
  out.append(text, write_rfc3339_utc(text, t));
}


Result<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return duration_error(text, "empty (write e.g. 90s, 30m, 24h, 5d, 250ms)");
  if (text.front() == '-') return duration_error(text, "negative durations are not allowed");

  int64_t total = 0;
  size_t next_allowed_unit = 0;  // index into kUnits: each unit at most once, largest first
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t number_start = pos;
    int64_t number = 0;
    while (pos < text.size() && is_digit(text[pos])) {
      const int digit = text[pos] - '0';
      if (number > (std::numeric_limits<int64_t>::max() - digit) / 10) {
        return duration_error(text, "too large");
      }
      number = number * 10 + digit;
      ++pos;
    }
    if (pos == number_start) {
      return duration_error(text, "expected a number at " + quoted(text.substr(pos)));
    }
    const size_t unit_start = pos;
    while (pos < text.size() && !is_digit(text[pos])) ++pos;
    const std::string_view unit_name = text.substr(unit_start, pos - unit_start);
    if (unit_name.empty()) {
      return duration_error(text, "missing unit after " +
                                      std::string(text.substr(number_start, pos - number_start)) +
                                      " (use ms, s, m, h or d)");
    }
    size_t unit_index = kUnits.size();
    for (size_t i = 0; i < kUnits.size(); ++i) {
      if (kUnits[i].name == unit_name) unit_index = i;
    }
    if (unit_index == kUnits.size()) {
      return duration_error(text, "unknown unit " + quoted(unit_name) + " (use ms, s, m, h or d)");
    }
    if (unit_index < next_allowed_unit) {
      return duration_error(text, "units must go from largest to smallest, each at most once");
    }
    next_allowed_unit = unit_index + 1;

    const int64_t unit_millis = kUnits[unit_index].millis;
    if (number > (kMaxDurationMillis - total) / unit_millis) {
      return duration_error(text, "too large");
    }
    total += number * unit_millis;
  }
  return Duration{total};
}

std::string format_duration(Duration d) {
  int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  // Work on the magnitude as unsigned so INT64_MIN does not overflow.
  uint64_t rest = ms < 0 ? 0 - static_cast<uint64_t>(ms) : static_cast<uint64_t>(ms);
  if (ms < 0) out += '-';
  for (const UnitInfo& unit : kUnits) {
    const auto unit_millis = static_cast<uint64_t>(unit.millis);
    const uint64_t count = rest / unit_millis;
    if (count == 0) continue;
    rest -= count * unit_millis;
    out += std::to_string(count);
    out += unit.name;
  }
  return out;
}

}  // namespace slawatch
