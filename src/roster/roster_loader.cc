// load_roster: reads a roster YAML file, reports every mistake with its
// location (the rules component's YAML reader), and builds the immutable
// Roster only when there are none.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <fstream>
#include <optional>
#include <sstream>

#include "roster/roster.h"
#include "rules/yaml_reader.h"
#include "rules/yaml_text.h"

namespace slawatch {
namespace {

using namespace rules_detail;

constexpr std::array<std::string_view, 4> kTopKeys = {"title", "defaults", "city", "departments"};
constexpr std::array<std::string_view, 4> kDefaultKeys = {"time_zone", "handover", "period", "starts"};
constexpr std::array<std::string_view, 6> kRotationKeys = {"order",  "period", "handover",
                                                           "time_zone", "starts", "periods"};
constexpr std::array<std::string_view, 5> kDepartmentKeys = {"id", "name", "head", "duty_officers", "roles"};
constexpr std::array<std::string_view, 4> kPeriodKeys = {"from", "to", "person", "shifts"};
constexpr std::array<std::string_view, 3> kShiftKeys = {"from", "to", "person"};

// "08:30" -> minutes after midnight.
std::optional<int> parse_hhmm(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 2 || text.size() != colon + 3) return std::nullopt;
  int h = 0, m = 0;
  const char* end = text.data() + colon;
  if (std::from_chars(text.data(), end, h).ptr != end) return std::nullopt;
  if (std::from_chars(end + 1, text.data() + text.size(), m).ptr != text.data() + text.size()) return std::nullopt;
  if (h < 0 || h > 23 || m < 0 || m > 59) return std::nullopt;
  return h * 60 + m;
}

// "2026-02-15" -> the local day.
std::optional<date::local_days> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned mo = 0, d = 0;
  if (std::from_chars(text.data(), text.data() + 4, y).ptr != text.data() + 4) return std::nullopt;
  if (std::from_chars(text.data() + 5, text.data() + 7, mo).ptr != text.data() + 7) return std::nullopt;
  if (std::from_chars(text.data() + 8, text.data() + 10, d).ptr != text.data() + 10) return std::nullopt;
  const date::year_month_day ymd{date::year{y}, date::month{mo}, date::day{d}};
  if (!ymd.ok() || y < 1900 || y > 2399) return std::nullopt;
  return date::local_days{ymd};
}

// What a rotation says, before defaults fill the gaps.
struct RotationParts {
  std::optional<std::string> zone_name;
  const date::time_zone* zone = nullptr;
  std::optional<int> handover;  // minutes after local midnight
  std::optional<Duration> period;
  std::optional<date::local_days> starts;
};

struct PeriodDraft {
  std::string from_text, to_text;
  LocalTime from{}, to{};
  Location location;
  std::string person;
  bool valid = false;
};

class RosterReader {
 public:
  RosterReader(std::string file, LoadedRoster& out) : file_(std::move(file)), out_(out), checker_(file_, out.errors) {}

  std::shared_ptr<const Roster> read(const YAML::Node& root) {
    auto top = checker_.mapping(root, kTopKeys, "the roster");
    if (!top) return nullptr;
    if (const Field* f = top->find("title")) checker_.text(*f);
    if (const Field* f = top->find("defaults")) read_defaults(*f);
    std::map<std::string, Assignment, std::less<>> city;
    if (const Field* f = checker_.required(*top, "city", "the roster")) {
      if (auto roles = role_map(*f, "city")) city = std::move(*roles);
    }
    std::map<std::string, DepartmentRoster, std::less<>> departments;
    if (const Field* f = checker_.required(*top, "departments", "the roster")) read_departments(*f, departments);
    if (!out_.errors.empty()) return nullptr;
    return std::make_shared<const Roster>(std::move(departments), std::move(city), file_);
  }

 private:
  void read_defaults(const Field& field) {
    auto mapping = checker_.mapping(field.value, kDefaultKeys, "'defaults'");
    if (mapping) defaults_ = rotation_parts(*mapping);
  }

  RotationParts rotation_parts(const Mapping& mapping) {
    RotationParts parts;
    if (const Field* f = mapping.find("time_zone")) {
      if (auto name = checker_.text(*f)) {
        try {
          parts.zone = date::locate_zone(*name);
          parts.zone_name = *name;
        } catch (const std::exception&) {
          checker_.error(f->value_location(), "unknown time zone '" + *name +
                                                  "': use an IANA name such as Asia/Shanghai");
        }
      }
    }
    if (const Field* f = mapping.find("handover")) {
      if (auto text = checker_.text(*f)) {
        parts.handover = parse_hhmm(*text);
        if (!parts.handover) {
          checker_.error(f->value_location(), "bad handover '" + *text + "': write HH:MM between 00:00 and 23:59, e.g. \"08:30\"");
        }
      }
    }
    if (const Field* f = mapping.find("period")) {
      if (auto period = checker_.positive_duration(*f)) {
        if (*period % std::chrono::minutes{1} != Duration::zero()) {
          checker_.error(f->value_location(), "bad period '" + f->value.Scalar() + "': use whole minutes, e.g. 12h, 1d or 7d");
        } else {
          parts.period = *period;
        }
      }
    }
    if (const Field* f = mapping.find("starts")) {
      if (auto text = checker_.text(*f)) {
        parts.starts = parse_day(*text);
        if (!parts.starts) checker_.error(f->value_location(), "bad date '" + *text + "': write YYYY-MM-DD");
      }
    }
    return parts;
  }

  // A `city:` or `roles:` mapping of role name -> person or rotation.
  std::optional<std::map<std::string, Assignment, std::less<>>> role_map(const Field& field, std::string_view context) {
    if (!field.value.IsMap()) {
      checker_.error(field.value_location(), "'" + field.key + "' must be a mapping of role name to a person or a rotation, got " +
                                                 describe_node(field.value));
      return std::nullopt;
    }
    std::map<std::string, Assignment, std::less<>> roles;
    std::map<std::string, Location> seen;
    for (auto it = field.value.begin(); it != field.value.end(); ++it) {
      const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
      const Location where = location_of(it->first);
      if (!is_role_name(name)) {
        checker_.error(where, "bad role name '" + name + "' in '" + field.key + "': use lower-case letters, digits and '_'");
        continue;
      }
      if (auto s = seen.find(name); s != seen.end()) {
        checker_.error(where, "duplicate role '" + name + "' (first given at line " + std::to_string(s->second.line) + ")");
        continue;
      }
      seen.emplace(name, where);
      if (auto a = assignment(Field{name, it->first, it->second}, std::string(context) + "." + name)) {
        roles.emplace(name, std::move(*a));
      }
    }
    return roles;
  }

  static bool is_role_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
  }

  // A person (text) or a rotation (mapping).
  std::optional<Assignment> assignment(const Field& field, const std::string& role) {
    if (field.value.IsScalar()) {
      auto person = checker_.text(field);
      if (!person) return std::nullopt;
      return Assignment::fixed(*person);
    }
    if (!field.value.IsMap()) {
      checker_.error(field.value_location(), "'" + role + "' must be a person's name or a rotation (order, period, ...), got " +
                                                 describe_node(field.value));
      return std::nullopt;
    }
    const size_t errors_before = checker_.error_count();
    auto mapping = checker_.mapping(field.value, kRotationKeys, "rotation '" + role + "'");
    if (!mapping) return std::nullopt;
    std::vector<std::string> order;
    if (const Field* f = checker_.required(*mapping, "order", "rotation '" + role + "'")) {
      if (f->value.IsSequence() && f->value.size() == 0) {
        checker_.error(f->value_location(), "empty rotation '" + role + "': 'order' needs at least one person");
      } else if (auto items = checker_.list(*f, false)) {
        for (const auto& item : *items) {
          if (auto person = checker_.text_item(item, "a person in 'order'")) order.push_back(*person);
        }
      }
    }
    RotationParts parts = rotation_parts(*mapping);
    auto missing = [&](std::string_view key) {
      checker_.error(mapping->location(), "rotation '" + role + "' needs '" + std::string(key) + "' (here or in 'defaults')");
    };
    if (!parts.zone) parts.zone = defaults_.zone;
    if (!parts.handover) parts.handover = defaults_.handover;
    if (!parts.period) parts.period = defaults_.period;
    if (!parts.starts) parts.starts = defaults_.starts;
    if (!parts.zone && !mapping->find("time_zone")) missing("time_zone");
    if (!parts.handover && !mapping->find("handover")) missing("handover");
    if (!parts.period && !mapping->find("period")) missing("period");
    if (!parts.starts && !mapping->find("starts")) missing("starts");
    if (checker_.error_count() != errors_before) return std::nullopt;
    const LocalTime anchor{date::local_days{*parts.starts} + std::chrono::minutes{*parts.handover}};
    std::vector<DutyPeriod> periods;
    if (const Field* f = mapping->find("periods")) {
      periods = duty_periods(*f, role, parts);
      if (checker_.error_count() != errors_before) return std::nullopt;
    }
    return Assignment::rotation(std::move(order), *parts.period, anchor, parts.zone, std::move(periods));
  }

  // "2026-02-15" (at the handover time) or "2026-02-15T20:00" / "2026-02-15 20:00", local time.
  std::optional<LocalTime> local_time(const Field& field, const RotationParts& parts) {
    auto text = checker_.text(field);
    if (!text) return std::nullopt;
    const std::string_view s = *text;
    if (auto day = parse_day(s.substr(0, 10))) {
      if (s.size() == 10) return LocalTime{*day + std::chrono::minutes{*parts.handover}};
      if (s.size() > 11 && (s[10] == 'T' || s[10] == ' ')) {
        if (auto minutes = parse_hhmm(s.substr(11))) return LocalTime{*day + std::chrono::minutes{*minutes}};
      }
    }
    checker_.error(field.value_location(), "bad '" + field.key + "' '" + *text +
                                               "': write a date (YYYY-MM-DD, at the handover time) or a local time YYYY-MM-DDTHH:MM");
    return std::nullopt;
  }

  static std::string describe(const PeriodDraft& p) { return p.from_text + " .. " + p.to_text; }

  std::optional<PeriodDraft> period_draft(const YAML::Node& node, std::span<const std::string_view> keys,
                                          const std::string& context, const RotationParts& parts,
                                          std::optional<Mapping>& mapping) {
    mapping = checker_.mapping(node, keys, context);
    if (!mapping) return std::nullopt;
    PeriodDraft draft;
    draft.location = mapping->location();
    const Field* from = checker_.required(*mapping, "from", context);
    const Field* to = checker_.required(*mapping, "to", context);
    std::optional<LocalTime> f, t;
    if (from) f = local_time(*from, parts);
    if (to) t = local_time(*to, parts);
    if (!f || !t) return std::nullopt;
    draft.from = *f;
    draft.to = *t;
    draft.from_text = from->value.Scalar();
    draft.to_text = to->value.Scalar();
    if (draft.to <= draft.from) {
      checker_.error(to->value_location(), "empty " + context + " " + describe(draft) + ": 'to' must be after 'from'");
      return std::nullopt;
    }
    draft.valid = true;
    return draft;
  }

  // Sorted by start; reports overlaps (and gaps when `tile_from`/`tile_to`
  // is a span the drafts must cover exactly).
  void check_sequence(std::vector<PeriodDraft>& drafts, const std::string& what,
                      const PeriodDraft* span) {
    std::stable_sort(drafts.begin(), drafts.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
    for (size_t i = 1; i < drafts.size(); ++i) {
      const auto& a = drafts[i - 1];
      const auto& b = drafts[i];
      if (b.from < a.to) {
        checker_.error(b.location, what + " " + describe(b) + " overlaps the one at line " +
                                       std::to_string(a.location.line) + " (" + describe(a) + ")");
      } else if (span != nullptr && b.from > a.to) {
        checker_.error(b.location, "gap in the shifts of the period at line " + std::to_string(span->location.line) +
                                       ": nobody from " + a.to_text + " to " + b.from_text);
      }
    }
    if (span != nullptr && !drafts.empty()) {
      if (drafts.front().from != span->from) {
        checker_.error(drafts.front().location, "gap in the shifts of the period at line " + std::to_string(span->location.line) +
                                                    ": nobody from " + span->from_text + " to " + drafts.front().from_text);
      }
      if (drafts.back().to != span->to) {
        checker_.error(drafts.back().location, "shifts of the period at line " + std::to_string(span->location.line) +
                                                   " end at " + drafts.back().to_text + ", not at its end " + span->to_text);
      }
    }
  }

  std::vector<DutyPeriod> duty_periods(const Field& field, const std::string& role, const RotationParts& parts) {
    std::vector<DutyPeriod> out;
    if (!field.value.IsSequence()) {
      checker_.error(field.value_location(), "'periods' must be a list of {from, to, person} or {from, to, shifts}, got " +
                                                 describe_node(field.value));
      return out;
    }
    std::vector<PeriodDraft> periods;   // the declared spans
    std::vector<PeriodDraft> assigned;  // who is on duty, one entry per person stretch
    for (const auto& node : field.value) {
      std::optional<Mapping> mapping;
      auto period = period_draft(node, kPeriodKeys, "period", parts, mapping);
      if (!mapping) continue;
      const Field* person = mapping->find("person");
      const Field* shifts = mapping->find("shifts");
      if ((person == nullptr) == (shifts == nullptr)) {
        checker_.error(mapping->location(), "a period of '" + role + "' needs either 'person' or 'shifts'");
        continue;
      }
      if (!period) continue;
      periods.push_back(*period);
      if (person != nullptr) {
        if (auto name = checker_.text(*person)) {
          period->person = *name;
          assigned.push_back(*period);
        }
        continue;
      }
      auto items = checker_.list(*shifts, false);
      if (!items) continue;
      std::vector<PeriodDraft> inner;
      for (const auto& item : *items) {
        std::optional<Mapping> shift_mapping;
        auto shift = period_draft(item, kShiftKeys, "shift", parts, shift_mapping);
        if (!shift_mapping) continue;
        const Field* shift_person = checker_.required(*shift_mapping, "person", "shift");
        if (!shift || shift_person == nullptr) continue;
        if (auto name = checker_.text(*shift_person)) {
          shift->person = *name;
          inner.push_back(*shift);
        }
      }
      check_sequence(inner, "shift", &*period);
      assigned.insert(assigned.end(), inner.begin(), inner.end());
    }
    check_sequence(periods, "period", nullptr);
    std::stable_sort(assigned.begin(), assigned.end(), [](const auto& a, const auto& b) { return a.from < b.from; });
    for (const auto& p : assigned) {
      out.push_back(DutyPeriod{parts.zone->to_sys(date::local_time<Duration>{p.from.time_since_epoch()}, date::choose::earliest),
                               parts.zone->to_sys(date::local_time<Duration>{p.to.time_since_epoch()}, date::choose::earliest),
                               p.person});
    }
    return out;
  }

  void read_departments(const Field& field, std::map<std::string, DepartmentRoster, std::less<>>& departments) {
    if (!field.value.IsSequence() || field.value.size() == 0) {
      checker_.error(field.value_location(), "'departments' must be a non-empty list of {id, head, duty_officers}, got " +
                                                 describe_node(field.value));
      return;
    }
    std::map<std::string, Location> seen;
    for (const auto& node : field.value) {
      auto mapping = checker_.mapping(node, kDepartmentKeys, "a department");
      if (!mapping) continue;
      const Field* id_field = checker_.required(*mapping, "id", "a department");
      if (id_field == nullptr) continue;
      auto id = checker_.text(*id_field);
      if (!id) continue;
      const std::string context = "department '" + *id + "'";
      if (auto s = seen.find(*id); s != seen.end()) {
        checker_.error(id_field->value_location(), "duplicate department '" + *id + "' (first listed at line " +
                                                       std::to_string(s->second.line) + ")");
        continue;
      }
      seen.emplace(*id, id_field->value_location());
      DepartmentRoster d;
      d.id = *id;
      if (const Field* f = mapping->find("name")) d.name = checker_.text(*f).value_or("");
      const size_t errors_before_roles = checker_.error_count();
      if (const Field* f = mapping->find("head")) {
        if (auto a = assignment(*f, *id + ".head")) d.roles.emplace("head", std::move(*a));
      }
      if (const Field* f = mapping->find("duty_officers")) {
        if (auto a = assignment(*f, *id + ".duty_officers")) d.roles.emplace("duty_officer", std::move(*a));
      }
      if (const Field* f = mapping->find("roles")) {
        if (auto roles = role_map(*f, *id)) {
          for (auto& [name, a] : *roles) {
            if (d.roles.contains(name) || name == "head" || name == "duty_officer") {
              checker_.error(f->value_location(), "role '" + name + "' of " + context +
                                                      " is given by its own key ('head' or 'duty_officers'), not under 'roles'");
              continue;
            }
            d.roles.emplace(name, std::move(a));
          }
        }
      }
      if (d.roles.empty()) {
        // A role that was given but wrong has been reported already.
        if (checker_.error_count() == errors_before_roles) checker_.error(mapping->location(), context + " names nobody: give 'head', 'duty_officers' or 'roles'");
        continue;
      }
      departments.emplace(d.id, std::move(d));
    }
  }

  std::string file_;
  LoadedRoster& out_;
  DocumentChecker checker_;
  RotationParts defaults_;
};

}  // namespace

LoadedRoster load_roster(const std::string& path) {
  LoadedRoster out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.errors.push_back(Diagnostic{path, 0, 0, "cannot read the roster file"});
    return out;
  }
  std::stringstream content;
  content << in.rdbuf();
  ParsedYaml parsed = parse_single_yaml_document(content.str());
  if (parsed.mistake) {
    out.errors.push_back(Diagnostic{path, parsed.mistake->line, parsed.mistake->column, "bad YAML: " + parsed.mistake->what});
    return out;
  }
  const YAML::Node root = parsed.documents.front();
  RosterReader reader(path, out);
  out.roster = reader.read(root);
  return out;
}

std::shared_ptr<const Roster> load_roster_or_throw(const std::string& path) {
  LoadedRoster loaded = load_roster(path);
  if (loaded.roster) return loaded.roster;
  std::string message;
  for (const auto& d : loaded.errors) message += (message.empty() ? "" : "\n") + d.to_string();
  throw RosterError(message);
}

}  // namespace slawatch
