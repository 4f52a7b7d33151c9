// load_rules: reads rule and calendar documents, reports every mistake with
// its location, and builds the immutable RuleSet only when there are none.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <limits>
#include <map>
#include <optional>

#include "rules/calendar_document.h"
#include "rules/rules.h"
#include "rules/source_files.h"
#include "rules/yaml_reader.h"
#include "rules/yaml_text.h"

namespace slawatch {
namespace {

using namespace rules_detail;

constexpr std::array<std::string_view, 11> kDeadlineKeys = {
    "id", "kind", "title", "when", "start", "stop", "pause", "resume", "target", "calendar", "stages"};
constexpr std::array<std::string_view, 9> kCountKeys = {
    "id", "kind", "title", "when", "events", "threshold", "window", "severity", "notify"};
constexpr std::array<std::string_view, 5> kStageKeys = {"name", "at", "after", "severity",
                                                        "notify"};
constexpr std::array<std::string_view, 3> kKinds = {"deadline", "count", "calendar"};
constexpr std::array<std::string_view, 5> kWhenAttributes = {"category", "priority", "channel",
                                                             "district", "department"};
constexpr std::array<std::string_view, 3> kPriorities = {"normal", "urgent", "emergency"};
constexpr std::array<std::string_view, 4> kSeverities = {"info", "minor", "major", "critical"};
constexpr std::string_view kAlwaysCalendar = "always";
// A stage at more than 100 times the target is surely a typo, and the bound
// keeps target * percent far from overflow.
constexpr int kMaxPercent = 10000;

struct Origin {
  std::string file;
  Location location;
  std::string to_string() const {
    return file + ":" + std::to_string(location.line) + ":" + std::to_string(location.column);
  }
};

// An event type list entry, kept with its place for later cross-list checks.
struct ListedEvent {
  EventType type;
  Location location;
};

struct NamedEventList {
  std::string key;
  std::vector<ListedEvent> events;
};

// A deadline rule waiting for every calendar to be known.
struct PendingDeadline {
  DeadlineRule rule;
  std::string calendar_name;
  Origin calendar_origin;
};

struct ParsedStage {
  Stage stage;
  Location offset_location;
  bool offset_known = false;  // `at` needs the target, `after` does not
};

std::vector<std::string_view> event_type_names() {
  std::vector<std::string_view> names;
  for (size_t i = 0; i < kEventTypeCount; ++i) names.push_back(to_string(static_cast<EventType>(i)));
  return names;
}

std::string joined(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

bool is_valid_role(std::string_view role) {
  const size_t dot = role.find('.');
  if (dot == std::string_view::npos) return false;
  const std::string_view scope = role.substr(0, dot);
  const std::string_view name = role.substr(dot + 1);
  if (scope != "department" && scope != "city") return false;
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

class RuleSetLoader {
 public:
  LoadedRules load(const std::string& path, const std::vector<std::string>& calendar_paths);

 private:
  void read_file(const SourceFile& file);
  void read_document(const SourceFile& file, const YAML::Node& document);
  bool count_rule(DocumentChecker& checker, const YAML::Node& document);
  void read_deadline(DocumentChecker& checker, const YAML::Node& document);
  void read_count(DocumentChecker& checker, const YAML::Node& document);
  void read_calendar(DocumentChecker& checker, const YAML::Node& document);

  std::optional<RuleId> read_rule_id(DocumentChecker& checker, const Mapping& mapping);
  AttributeFilter read_filter(DocumentChecker& checker, const Field& field);
  std::optional<NamedEventList> read_event_list(DocumentChecker& checker, const Field& field);
  std::optional<std::string> read_severity(DocumentChecker& checker, const Field& field);
  std::vector<std::string> read_roles(DocumentChecker& checker, const Field& field);
  std::vector<ParsedStage> read_stages(DocumentChecker& checker, const Field& field);
  std::optional<ParsedStage> read_stage(DocumentChecker& checker, const YAML::Node& node,
                                        size_t position);
  void check_stage_order(DocumentChecker& checker, std::vector<ParsedStage>& stages,
                         std::optional<Duration> target);
  void resolve_calendars(RuleSet& set);
  void sort_diagnostics(const std::vector<SourceFile>& files);

  std::vector<Diagnostic> diagnostics_;
  std::vector<Diagnostic> warnings_;
  std::vector<PendingDeadline> deadlines_;
  std::vector<CountRule> counts_;
  std::map<std::string, std::shared_ptr<const Calendar>> calendars_;
  std::map<std::string, Origin> rule_origins_;
  std::map<std::string, Origin> calendar_origins_;  // also holds calendars with mistakes
  size_t rule_documents_ = 0;
};

LoadedRules RuleSetLoader::load(const std::string& path,
                                const std::vector<std::string>& calendar_paths) {
  SourceCollector collector(diagnostics_);
  const size_t found = collector.add(path, false);
  if (found == 0 && diagnostics_.empty()) {
    diagnostics_.push_back(Diagnostic{path, 0, 0, "no rule files (*.yaml, *.yml) found"});
  }
  for (const std::string& calendar_path : calendar_paths) collector.add(calendar_path, true);

  for (const SourceFile& file : collector.files()) read_file(file);

  // Only said when nothing else is wrong: a broken rule is not a missing one.
  if (found > 0 && rule_documents_ == 0 && diagnostics_.empty()) {
    diagnostics_.push_back(
        Diagnostic{path, 0, 0, "no rules found (a rule has 'kind: deadline' or 'kind: count')"});
  }

  auto set = std::make_shared<RuleSet>();
  resolve_calendars(*set);
  sort_diagnostics(collector.files());
  if (!diagnostics_.empty()) return LoadedRules{nullptr, std::move(diagnostics_), std::move(warnings_)};

  for (PendingDeadline& pending : deadlines_) set->deadlines.push_back(std::move(pending.rule));
  set->counts = std::move(counts_);
  set->version = content_version(collector.files());
  return LoadedRules{std::move(set), {}, std::move(warnings_)};
}

void RuleSetLoader::read_file(const SourceFile& file) {
  ParsedYaml parsed = parse_yaml_documents(file.content);
  if (parsed.mistake) {
    diagnostics_.push_back(Diagnostic{file.display_name, parsed.mistake->line, parsed.mistake->column,
                                      "YAML syntax error: " + parsed.mistake->what});
    return;
  }
  for (const YAML::Node& document : parsed.documents) read_document(file, document);
}

void RuleSetLoader::read_document(const SourceFile& file, const YAML::Node& document) {
  if (document.IsNull()) return;  // an empty document, e.g. after a trailing `---`
  DocumentChecker checker(file.display_name, diagnostics_, &warnings_);
  if (!document.IsMap()) {
    if (!file.calendars_only) {
      checker.error(location_of(document),
                    "expected a rule or calendar (a mapping with 'kind:'), got " +
                        describe_node(document));
    }
    return;
  }
  std::optional<YAML::Node> kind_node;
  for (auto it = document.begin(); it != document.end() && !kind_node; ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "kind") kind_node = it->second;
  }
  if (!kind_node) {
    if (!file.calendars_only) {
      checker.error(location_of(document),
                    "missing required key 'kind' (deadline, count or calendar)");
    }
    return;
  }
  const std::string kind = kind_node->IsScalar() ? kind_node->Scalar() : "";
  if (file.calendars_only && kind != "calendar") return;  // other config shares those folders
  if (!kind_node->IsScalar()) {
    checker.error(location_of(*kind_node),
                  "'kind' must be deadline, count or calendar, got " + describe_node(*kind_node));
    return;
  }
  if (kind == "deadline") {
    read_deadline(checker, document);
  } else if (kind == "count") {
    read_count(checker, document);
  } else if (kind == "calendar") {
    read_calendar(checker, document);
  } else {
    checker.error(location_of(*kind_node), "unknown kind '" + kind + "'" +
                                               did_you_mean(kind, kKinds) +
                                               ": use deadline, count or calendar");
  }
}

std::optional<RuleId> RuleSetLoader::read_rule_id(DocumentChecker& checker,
                                                  const Mapping& mapping) {
  const Field* field = checker.required(mapping, "id", "");
  if (field == nullptr) return std::nullopt;
  std::optional<std::string> id = checker.name(*field);
  if (!id) return std::nullopt;
  const Origin origin{checker.file(), field->value_location()};
  const auto [existing, inserted] = rule_origins_.emplace(*id, origin);
  if (!inserted) {
    checker.error(origin.location, "duplicate rule id '" + *id + "' (first defined at " +
                                       existing->second.to_string() + ")");
  }
  return RuleId(*id);
}

// Counts a rule document; false (reported) past the limit of rules per set.
bool RuleSetLoader::count_rule(DocumentChecker& checker, const YAML::Node& document) {
  if (++rule_documents_ == kMaxRulesPerSet + 1) {
    checker.error(location_of(document), "more than " + std::to_string(kMaxRulesPerSet) + " rules in the set");
  }
  return rule_documents_ <= kMaxRulesPerSet;
}

void RuleSetLoader::read_deadline(DocumentChecker& checker, const YAML::Node& document) {
  if (!count_rule(checker, document)) return;
  std::optional<Mapping> mapping = checker.mapping(document, kDeadlineKeys, "");
  if (!mapping) return;
  PendingDeadline pending;
  DeadlineRule& rule = pending.rule;
  if (std::optional<RuleId> id = read_rule_id(checker, *mapping)) rule.id = *id;
  if (const Field* title = checker.required(*mapping, "title", "")) {
    rule.title = checker.text(*title).value_or("");
  }
  if (const Field* when = mapping->find("when")) rule.when = read_filter(checker, *when);

  // Read in this order so a type listed twice is reported where it is listed second.
  std::vector<NamedEventList> lists;
  for (std::string_view key : {"start", "stop", "pause", "resume"}) {
    const bool required = key == "start" || key == "stop";
    const Field* field = required ? checker.required(*mapping, key, "") : mapping->find(key);
    if (field == nullptr) continue;
    if (std::optional<NamedEventList> list = read_event_list(checker, *field)) {
      lists.push_back(std::move(*list));
    }
  }
  const Field* pause = mapping->find("pause");
  const Field* resume = mapping->find("resume");
  if (pause != nullptr && resume == nullptr) {
    checker.error(location_of(pause->key_node),
                  "'pause' without 'resume': say which events restart the clock");
  }
  if (resume != nullptr && pause == nullptr) {
    checker.error(location_of(resume->key_node),
                  "'resume' without 'pause': say which events stop the clock");
  }
  for (size_t later = 0; later < lists.size(); ++later) {
    for (const ListedEvent& event : lists[later].events) {
      for (size_t earlier = 0; earlier < later; ++earlier) {
        const auto& others = lists[earlier].events;
        const bool clash = std::any_of(others.begin(), others.end(),
                                       [&](const ListedEvent& o) { return o.type == event.type; });
        if (clash) {
          checker.error(event.location, "event type '" + std::string(to_string(event.type)) +
                                            "' is in both '" + lists[earlier].key + "' and '" +
                                            lists[later].key +
                                            "': an event type can play only one part");
          break;
        }
      }
    }
  }
  for (const NamedEventList& list : lists) {
    EventTypeSet& set = list.key == "start"  ? rule.start
                        : list.key == "stop" ? rule.stop
                        : list.key == "pause" ? rule.pause
                                              : rule.resume;
    for (const ListedEvent& event : list.events) set.insert(event.type);
  }

  std::optional<Duration> target;
  if (const Field* field = checker.required(*mapping, "target", "")) {
    target = checker.positive_duration(*field);
    if (target) rule.target = *target;
  }

  pending.calendar_name = std::string(kAlwaysCalendar);
  pending.calendar_origin = Origin{checker.file(), mapping->location()};
  if (const Field* field = mapping->find("calendar")) {
    std::optional<std::string> name = checker.text(*field);
    pending.calendar_name = name.value_or(std::string(kAlwaysCalendar));
    pending.calendar_origin.location = field->value_location();
  }

  if (const Field* field = checker.required(*mapping, "stages", "")) {
    std::vector<ParsedStage> stages = read_stages(checker, *field);
    check_stage_order(checker, stages, target);
    for (ParsedStage& parsed : stages) rule.stages.push_back(std::move(parsed.stage));
  }
  deadlines_.push_back(std::move(pending));
}

void RuleSetLoader::read_count(DocumentChecker& checker, const YAML::Node& document) {
  if (!count_rule(checker, document)) return;
  std::optional<Mapping> mapping = checker.mapping(document, kCountKeys, "");
  if (!mapping) return;
  CountRule rule;
  if (std::optional<RuleId> id = read_rule_id(checker, *mapping)) rule.id = *id;
  if (const Field* title = checker.required(*mapping, "title", "")) {
    rule.title = checker.text(*title).value_or("");
  }
  if (const Field* when = mapping->find("when")) rule.when = read_filter(checker, *when);
  if (const Field* field = checker.required(*mapping, "events", "")) {
    if (std::optional<NamedEventList> list = read_event_list(checker, *field)) {
      for (const ListedEvent& event : list->events) rule.events.insert(event.type);
    }
  }
  if (const Field* field = checker.required(*mapping, "threshold", "")) {
    const std::string written = field->value.IsScalar() ? field->value.Scalar() : "";
    int threshold = 0;
    const auto [end, error] =
        std::from_chars(written.data(), written.data() + written.size(), threshold);
    if (written.empty() || error != std::errc() || end != written.data() + written.size() ||
        threshold < 2) {
      checker.error(field->value_location(),
                    "'threshold' must be a whole number of at least 2, got " +
                        describe_node(field->value));
    } else {
      rule.threshold = threshold;
    }
  }
  if (const Field* field = checker.required(*mapping, "window", "")) {
    if (std::optional<Duration> window = checker.positive_duration(*field)) rule.window = *window;
  }
  if (const Field* field = checker.required(*mapping, "severity", "")) {
    rule.severity = read_severity(checker, *field).value_or("");
  }
  if (const Field* field = mapping->find("notify")) rule.notify = read_roles(checker, *field);
  counts_.push_back(std::move(rule));
}

void RuleSetLoader::read_calendar(DocumentChecker& checker, const YAML::Node& document) {
  // Register the id even when the calendar has mistakes, so that rules naming
  // it are not also told the calendar does not exist.
  std::string id;
  Location id_location = location_of(document);
  for (auto it = document.begin(); it != document.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "id") {
      if (it->second.IsScalar()) {
        id = it->second.Scalar();
        id_location = location_of(it->second);
      }
      break;
    }
  }
  std::shared_ptr<const Calendar> calendar = read_calendar_document(checker, document);
  if (id.empty()) return;
  const Origin origin{checker.file(), id_location};
  const auto [existing, inserted] = calendar_origins_.emplace(id, origin);
  if (!inserted) {
    checker.error(id_location, "duplicate calendar id '" + id + "' (first defined at " +
                                   existing->second.to_string() + ")");
    return;
  }
  if (calendar) calendars_.emplace(id, std::move(calendar));
}

AttributeFilter RuleSetLoader::read_filter(DocumentChecker& checker, const Field& field) {
  AttributeFilter filter;
  if (!field.value.IsMap()) {
    checker.error(field.value_location(),
                  "'when' must map case attributes to allowed values, e.g. "
                  "{priority: [urgent, emergency]}, got " +
                      describe_node(field.value));
    return filter;
  }
  std::optional<Mapping> attributes = checker.mapping(field.value, kWhenAttributes, "'when'");
  if (!attributes) return filter;
  for (const Field& attribute : attributes->fields()) {
    std::optional<std::vector<YAML::Node>> items = checker.list(attribute, false);
    if (!items) continue;
    std::vector<std::string>& allowed = filter.allowed[attribute.key];
    for (const YAML::Node& item : *items) {
      std::optional<std::string> value = checker.text_item(item, "a '" + attribute.key + "' value");
      if (!value) continue;
      if (attribute.key == "priority" &&
          std::find(kPriorities.begin(), kPriorities.end(), *value) == kPriorities.end()) {
        checker.error(location_of(item), "bad priority '" + *value + "'" +
                                             did_you_mean(*value, kPriorities) +
                                             ": use normal, urgent or emergency");
        continue;
      }
      allowed.push_back(*value);
    }
  }
  return filter;
}

std::optional<NamedEventList> RuleSetLoader::read_event_list(DocumentChecker& checker,
                                                            const Field& field) {
  std::optional<std::vector<YAML::Node>> items = checker.list(field, false, kMaxEventTypesPerList);
  if (!items) return std::nullopt;
  const std::vector<std::string_view> names = event_type_names();
  NamedEventList list{field.key, {}};
  for (const YAML::Node& item : *items) {
    std::optional<std::string> written = checker.text_item(item, "an event type");
    if (!written) continue;
    std::string_view name = *written;
    if (name.starts_with(kEventTypePrefix)) name.remove_prefix(kEventTypePrefix.size());
    std::optional<EventType> type = event_type_from_name(name);
    if (!type) {
      checker.error(location_of(item), "unknown event type '" + *written + "' in '" + field.key +
                                           "'" + did_you_mean(name, names) +
                                           "; valid types: " + joined(names));
      continue;
    }
    list.events.push_back(ListedEvent{*type, location_of(item)});
  }
  return list;
}

std::optional<std::string> RuleSetLoader::read_severity(DocumentChecker& checker,
                                                        const Field& field) {
  std::optional<std::string> severity = checker.text(field);
  if (!severity) return std::nullopt;
  if (std::find(kSeverities.begin(), kSeverities.end(), *severity) == kSeverities.end()) {
    checker.error(field.value_location(), "bad severity '" + *severity + "'" +
                                              did_you_mean(*severity, kSeverities) +
                                              ": use info, minor, major or critical");
    return std::nullopt;
  }
  return severity;
}

std::vector<std::string> RuleSetLoader::read_roles(DocumentChecker& checker, const Field& field) {
  std::vector<std::string> roles;
  std::optional<std::vector<YAML::Node>> items = checker.list(field, true);
  if (!items) return roles;
  for (const YAML::Node& item : *items) {
    std::optional<std::string> role = checker.text_item(item, "a role");
    if (!role) continue;
    if (!is_valid_role(*role)) {
      checker.error(location_of(item),
                    "bad role '" + *role +
                        "': write department.<role> or city.<role> in lower case, e.g. "
                        "department.duty_officer or city.hotline_office");
      continue;
    }
    roles.push_back(*role);
  }
  return roles;
}

std::vector<ParsedStage> RuleSetLoader::read_stages(DocumentChecker& checker, const Field& field) {
  std::vector<ParsedStage> stages;
  if (!field.value.IsSequence()) {
    checker.error(field.value_location(),
                  "'stages' must be a list of stages, got " + describe_node(field.value));
    return stages;
  }
  if (field.value.size() == 0) {
    checker.error(field.value_location(), "empty 'stages' list: at least one stage is needed");
    return stages;
  }
  std::map<std::string, int> first_line_of_name;
  size_t position = 0;
  for (const YAML::Node& node : field.value) {
    ++position;
    if (position > kMaxStagesPerRule) {
      checker.error(location_of(node), "more than " + std::to_string(kMaxStagesPerRule) + " stages in one rule");
      break;
    }
    std::optional<ParsedStage> stage = read_stage(checker, node, position);
    if (!stage) continue;
    if (!stage->stage.name.empty()) {
      const auto [existing, inserted] =
          first_line_of_name.emplace(stage->stage.name, location_of(node).line);
      if (!inserted) {
        checker.error(location_of(node), "duplicate stage name '" + stage->stage.name +
                                             "' (first at line " +
                                             std::to_string(existing->second) + ")");
      }
    }
    stages.push_back(std::move(*stage));
  }
  return stages;
}

std::optional<ParsedStage> RuleSetLoader::read_stage(DocumentChecker& checker,
                                                     const YAML::Node& node, size_t position) {
  std::string context = "stage " + std::to_string(position);
  if (node.IsMap()) {
    // A missing key gives an invalid node, which throws on any question but IsDefined.
    const YAML::Node name = node["name"];
    if (name.IsDefined() && name.IsScalar()) context = "stage '" + name.Scalar() + "'";
  }
  std::optional<Mapping> mapping = checker.mapping(node, kStageKeys, context);
  if (!mapping) return std::nullopt;
  ParsedStage parsed;
  parsed.offset_location = mapping->location();
  Stage& stage = parsed.stage;
  if (const Field* name = checker.required(*mapping, "name", context)) {
    stage.name = checker.name(*name).value_or("");
  }
  const Field* at = mapping->find("at");
  const Field* after = mapping->find("after");
  if (at != nullptr && after != nullptr) {
    checker.error(location_of(after->key_node),
                  context + " has both 'at' and 'after': give one of them");
  } else if (at == nullptr && after == nullptr) {
    checker.error(mapping->location(),
                  context + " needs 'at: N%' (of the target) or 'after: <duration>'");
  } else if (at != nullptr) {
    parsed.offset_location = at->value_location();
    const std::string written = at->value.IsScalar() ? at->value.Scalar() : "";
    int percent = 0;
    const char* begin = written.data();
    const char* percent_sign = begin + written.size() - 1;
    const bool ends_with_percent = written.size() >= 2 && written.back() == '%';
    const auto [end, error] =
        ends_with_percent ? std::from_chars(begin, percent_sign, percent)
                          : std::from_chars_result{begin, std::errc::invalid_argument};
    if (!ends_with_percent || error != std::errc() || end != percent_sign || percent <= 0 ||
        percent > kMaxPercent) {
      checker.error(parsed.offset_location,
                    "bad percent " + (written.empty() ? describe_node(at->value) : "'" + written + "'") +
                        " for 'at': write a whole number from 1 to " + std::to_string(kMaxPercent) +
                        " followed by %, e.g. 80%");
    } else {
      stage.percent = percent;
    }
  } else {
    parsed.offset_location = after->value_location();
    if (std::optional<Duration> offset = checker.positive_duration(*after)) {
      stage.offset = *offset;
      parsed.offset_known = true;
    }
  }
  if (const Field* severity = checker.required(*mapping, "severity", context)) {
    stage.severity = read_severity(checker, *severity).value_or("");
  }
  if (const Field* notify = mapping->find("notify")) stage.notify = read_roles(checker, *notify);
  return parsed;
}

void RuleSetLoader::check_stage_order(DocumentChecker& checker, std::vector<ParsedStage>& stages,
                                      std::optional<Duration> target) {
  if (target) {
    for (ParsedStage& parsed : stages) {
      if (parsed.stage.percent == 0) continue;
      if (target->count() > std::numeric_limits<int64_t>::max() / parsed.stage.percent) {
        checker.error(parsed.offset_location, "stage '" + parsed.stage.name +
                                                  "' falls due too far after the start");
        continue;
      }
      // Integer milliseconds, rounded down, so a due time is never late.
      parsed.stage.offset = Duration{target->count() * parsed.stage.percent / 100};
      parsed.offset_known = true;
    }
  }
  const ParsedStage* previous = nullptr;
  for (const ParsedStage& parsed : stages) {
    if (!parsed.offset_known) continue;
    if (previous != nullptr && parsed.stage.offset <= previous->stage.offset) {
      checker.error(parsed.offset_location,
                    "stages out of order: '" + parsed.stage.name + "' (" +
                        format_duration(parsed.stage.offset) + ") is not after '" +
                        previous->stage.name + "' (" + format_duration(previous->stage.offset) +
                        ")");
    }
    previous = &parsed;
  }
}

void RuleSetLoader::resolve_calendars(RuleSet& set) {
  std::shared_ptr<const Calendar> always = make_always_calendar();
  std::vector<std::string_view> known = {kAlwaysCalendar};
  for (const auto& [name, origin] : calendar_origins_) known.push_back(name);
  for (PendingDeadline& pending : deadlines_) {
    if (pending.calendar_name == kAlwaysCalendar) {
      pending.rule.calendar = always;
      continue;
    }
    if (auto found = calendars_.find(pending.calendar_name); found != calendars_.end()) {
      pending.rule.calendar = found->second;
      continue;
    }
    // A calendar that exists but has mistakes of its own is already reported.
    if (calendar_origins_.contains(pending.calendar_name)) continue;
    diagnostics_.push_back(Diagnostic{
        pending.calendar_origin.file, pending.calendar_origin.location.line,
        pending.calendar_origin.location.column,
        "unknown calendar '" + pending.calendar_name + "'" +
            did_you_mean(pending.calendar_name, known) + "; known calendars: " + joined(known)});
  }
  set.calendars.emplace(std::string(kAlwaysCalendar), always);
  for (const auto& [name, calendar] : calendars_) set.calendars.emplace(name, calendar);
}

// File order first, then position in the file, so a user reads the report
// top to bottom next to the files.
void RuleSetLoader::sort_diagnostics(const std::vector<SourceFile>& files) {
  auto rank = [&](const Diagnostic& d) {
    for (size_t i = 0; i < files.size(); ++i) {
      if (files[i].display_name == d.file) return static_cast<long>(i);
    }
    return -1L;
  };
  std::stable_sort(diagnostics_.begin(), diagnostics_.end(),
                   [&](const Diagnostic& a, const Diagnostic& b) {
                     return std::tuple(rank(a), a.line, a.column) <
                            std::tuple(rank(b), b.line, b.column);
                   });
}

}  // namespace

LoadedRules load_rules(const std::string& path,
                       const std::vector<std::string>& extra_calendar_paths) {
  return RuleSetLoader().load(path, extra_calendar_paths);
}

}  // namespace slawatch
