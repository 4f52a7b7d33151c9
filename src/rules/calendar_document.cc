#include "rules/calendar_document.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>

namespace slawatch::rules_detail {
namespace {

constexpr std::array<std::string_view, 9> kCalendarKeys = {
    "id",       "kind",     "title",    "time_zone",          "working_hours",
    "working_days", "holidays", "extra_working_days", "note"};
constexpr std::array<std::string_view, 3> kDateRangeKeys = {"from", "to", "name"};
// Index = weekday number with 0 = Sunday, as WorkingCalendarSpec counts.
constexpr std::array<std::string_view, 7> kWeekdayNames = {"sun", "mon", "tue", "wed",
                                                           "thu", "fri", "sat"};
// The years the calendar component supports.
constexpr std::chrono::year kFirstYear{1900};
constexpr std::chrono::year kLastYear{2399};
// Longer spans are almost certainly a typo in the year.
constexpr int kMaxDateRangeDays = 366;

bool parse_number(std::string_view text, int& out) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && end == text.data() + text.size();
}

bool all_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// "YYYY-MM-DD", a real date.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int year = 0, month = 0, day = 0;
  if (!all_digits(text.substr(0, 4)) || !all_digits(text.substr(5, 2)) ||
      !all_digits(text.substr(8, 2)) || !parse_number(text.substr(0, 4), year) ||
      !parse_number(text.substr(5, 2), month) || !parse_number(text.substr(8, 2), day)) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok()) return std::nullopt;
  return date;
}

// "HH:MM", minutes after midnight; 24:00 is allowed as the end of a day.
std::optional<int> parse_clock_time(std::string_view text) {
  int hours = 0, minutes = 0;
  if (text.size() != 5 || text[2] != ':' || !all_digits(text.substr(0, 2)) ||
      !all_digits(text.substr(3, 2)) || !parse_number(text.substr(0, 2), hours) ||
      !parse_number(text.substr(3, 2), minutes) || minutes > 59) {
    return std::nullopt;
  }
  const int total = hours * 60 + minutes;
  if (total > 24 * 60) return std::nullopt;
  return total;
}

std::string format_clock_time(int minutes) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minutes / 60, minutes % 60);
  return buffer;
}

std::string format_date(const std::chrono::year_month_day& date) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return buffer;
}

struct DatedEntry {
  std::chrono::year_month_day date;
  Location location;
};

class CalendarReader {
 public:
  explicit CalendarReader(DocumentChecker& checker) : checker_(checker) {}

  std::shared_ptr<const Calendar> read(const YAML::Node& document) {
    const size_t errors_before = checker_.error_count();
    std::optional<Mapping> mapping = checker_.mapping(document, kCalendarKeys, "");
    if (!mapping) return nullptr;

    std::string id;
    if (const Field* field = checker_.required(*mapping, "id", "calendar")) {
      if (std::optional<std::string> name = checker_.name(*field)) {
        if (*name == "always") {
          checker_.error(field->value_location(),
                         "calendar id 'always' is reserved for the built-in calendar");
        }
        id = *name;
      }
    }
    if (const Field* title = mapping->find("title")) (void)checker_.text(*title);
    if (const Field* note = mapping->find("note")) (void)checker_.text(*note);

    WorkingCalendarSpec spec;
    spec.name = id;
    const Field* time_zone = checker_.required(*mapping, "time_zone", "calendar");
    if (time_zone) {
      if (std::optional<std::string> zone = checker_.text(*time_zone)) spec.time_zone = *zone;
    }
    if (const Field* hours = checker_.required(*mapping, "working_hours", "calendar")) {
      read_working_hours(*hours, spec);
    }
    if (const Field* days = checker_.required(*mapping, "working_days", "calendar")) {
      read_working_days(*days, spec);
    }
    std::vector<DatedEntry> holidays, extra_days;
    if (const Field* field = mapping->find("holidays")) read_dates(*field, holidays);
    if (const Field* field = mapping->find("extra_working_days")) read_dates(*field, extra_days);
    for (const DatedEntry& extra : extra_days) {
      const bool clash = std::any_of(holidays.begin(), holidays.end(), [&](const DatedEntry& h) {
        return h.date == extra.date;
      });
      if (clash) {
        checker_.error(extra.location, "date " + format_date(extra.date) +
                                           " is both a holiday and an extra working day");
      }
    }
    for (const DatedEntry& entry : holidays) spec.holidays.push_back(entry.date);
    for (const DatedEntry& entry : extra_days) spec.extra_workdays.push_back(entry.date);

    if (checker_.error_count() != errors_before) return nullptr;
    Result<std::shared_ptr<const Calendar>> calendar = make_working_calendar(std::move(spec));
    if (!calendar) {
      // Everything else was checked above, so what is left is the time zone.
      checker_.error(time_zone->value_location(), calendar.error().message);
      return nullptr;
    }
    warn_of_years_without_working_time(**calendar, holidays);
    return std::move(calendar.value());
  }

  // Holidays can cover every working day of a year (a calendar working only on
  // Mondays, with every Monday a holiday): a deadline started then would not
  // come due before the next year. Legal, but surely not meant.
  void warn_of_years_without_working_time(const Calendar& calendar, const std::vector<DatedEntry>& holidays) {
    std::set<int> years;
    for (const DatedEntry& holiday : holidays) years.insert(static_cast<int>(holiday.date.year()));
    for (const int year : years) {
      const Instant begin = std::chrono::sys_days{std::chrono::year{year} / 1 / 1};
      const Instant end = std::chrono::sys_days{std::chrono::year{year + 1} / 1 / 1};
      if (calendar.counted(begin, end) != Duration::zero()) continue;
      const auto first = std::find_if(holidays.begin(), holidays.end(), [&](const DatedEntry& h) {
        return static_cast<int>(h.date.year()) == year;
      });
      checker_.warning(first->location, "calendar '" + calendar.name() + "' has no working time in " +
                                            std::to_string(year) +
                                            ": its holidays cover every working day, so a deadline on it "
                                            "never comes due that year");
    }
  }

 private:
  void read_working_hours(const Field& field, WorkingCalendarSpec& spec) {
    std::optional<std::vector<YAML::Node>> items = checker_.list(field, false);
    if (!items) return;
    struct Range {
      WorkingCalendarSpec::LocalTimeRange minutes;
      Location location;
    };
    std::vector<Range> ranges;
    for (const YAML::Node& item : *items) {
      std::optional<std::string> text = checker_.text_item(item, "a working-hours range");
      if (!text) continue;
      const size_t dash = text->find('-');
      std::optional<int> begin, end;
      if (dash != std::string::npos) {
        begin = parse_clock_time(std::string_view(*text).substr(0, dash));
        end = parse_clock_time(std::string_view(*text).substr(dash + 1));
      }
      if (!begin || !end || *begin >= *end) {
        checker_.error(location_of(item), "bad working hours '" + *text +
                                              "': write HH:MM-HH:MM with the start before "
                                              "the end, e.g. 08:00-12:00");
        continue;
      }
      ranges.push_back(Range{{*begin, *end}, location_of(item)});
    }
    std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
      return a.minutes.begin_minute < b.minutes.begin_minute;
    });
    for (size_t i = 1; i < ranges.size(); ++i) {
      const auto& previous = ranges[i - 1].minutes;
      const auto& current = ranges[i].minutes;
      if (current.begin_minute < previous.end_minute) {
        checker_.error(ranges[i].location,
                       "working hours " + format_clock_time(current.begin_minute) + "-" +
                           format_clock_time(current.end_minute) + " overlap " +
                           format_clock_time(previous.begin_minute) + "-" +
                           format_clock_time(previous.end_minute));
      }
    }
    for (const Range& range : ranges) spec.working_hours.push_back(range.minutes);
  }

  void read_working_days(const Field& field, WorkingCalendarSpec& spec) {
    std::optional<std::vector<YAML::Node>> items = checker_.list(field, false);
    if (!items) return;
    for (const YAML::Node& item : *items) {
      std::optional<std::string> text = checker_.text_item(item, "a working day");
      if (!text) continue;
      const auto found = std::find(kWeekdayNames.begin(), kWeekdayNames.end(), *text);
      if (found == kWeekdayNames.end()) {
        checker_.error(location_of(item), "bad working day '" + *text + "'" +
                                              did_you_mean(*text, kWeekdayNames) +
                                              ": use mon, tue, wed, thu, fri, sat, sun");
        continue;
      }
      const int weekday = static_cast<int>(found - kWeekdayNames.begin());
      if (std::find(spec.working_weekdays.begin(), spec.working_weekdays.end(), weekday) ==
          spec.working_weekdays.end()) {
        spec.working_weekdays.push_back(weekday);
      }
    }
    std::sort(spec.working_weekdays.begin(), spec.working_weekdays.end());
  }

  std::optional<std::chrono::year_month_day> read_date(const std::optional<std::string>& text,
                                                       Location location) {
    if (!text) return std::nullopt;
    std::optional<std::chrono::year_month_day> date = parse_date(*text);
    if (!date) {
      checker_.error(location, "bad date '" + *text + "': write a real date as YYYY-MM-DD");
    } else if (date->year() < kFirstYear || date->year() > kLastYear) {
      checker_.error(location, "bad date '" + *text + "': the year must be from " +
                                   std::to_string(static_cast<int>(kFirstYear)) + " to " +
                                   std::to_string(static_cast<int>(kLastYear)));
      return std::nullopt;
    }
    return date;
  }

  // Each entry is a date or a range {from: date, to: date, name: text}.
  void read_dates(const Field& field, std::vector<DatedEntry>& out) {
    std::optional<std::vector<YAML::Node>> items = checker_.list(field, true);
    if (!items) return;
    for (const YAML::Node& item : *items) {
      if (!item.IsMap()) {
        if (auto date = read_date(checker_.text_item(item, "a date"), location_of(item))) {
          out.push_back(DatedEntry{*date, location_of(item)});
        }
        continue;
      }
      std::optional<Mapping> range = checker_.mapping(item, kDateRangeKeys, "a date range");
      if (!range) continue;
      const Field* from_field = checker_.required(*range, "from", "a date range");
      const Field* to_field = checker_.required(*range, "to", "a date range");
      if (const Field* name = range->find("name")) (void)checker_.text(*name);
      if (!from_field || !to_field) continue;
      const auto from = read_date(checker_.text(*from_field), from_field->value_location());
      const auto to = read_date(checker_.text(*to_field), to_field->value_location());
      if (!from || !to) continue;
      const std::chrono::sys_days first{*from};
      const std::chrono::sys_days last{*to};
      if (last < first) {
        checker_.error(to_field->value_location(),
                       "date range ends (" + format_date(*to) + ") before it starts (" +
                           format_date(*from) + ")");
        continue;
      }
      if ((last - first).count() >= kMaxDateRangeDays) {
        checker_.error(to_field->value_location(),
                       "date range " + format_date(*from) + " to " + format_date(*to) +
                           " is longer than a year; is the year right?");
        continue;
      }
      for (std::chrono::sys_days day = first; day <= last; day += std::chrono::days{1}) {
        out.push_back(DatedEntry{std::chrono::year_month_day{day}, location_of(item)});
      }
    }
  }

  DocumentChecker& checker_;
};

}  // namespace

std::shared_ptr<const Calendar> read_calendar_document(DocumentChecker& checker,
                                                       const YAML::Node& document) {
  return CalendarReader(checker).read(document);
}

}  // namespace slawatch::rules_detail
