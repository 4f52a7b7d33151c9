#pragma once
// The typed, validated rule set (contract section 2). Built once by the
// loader, immutable afterwards and shared read-only by the engine.
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <variant>
#include <vector>

#include "calendar/calendar.h"
#include "model/event.h"
#include "model/ids.h"
#include "model/time.h"

namespace slawatch {

// `when: {priority: [urgent, emergency]}`: every listed attribute must have one
// of the listed values. An empty filter matches every case.
struct AttributeFilter {
  std::map<std::string, std::vector<std::string>> allowed;
  bool matches(const CaseAttributes& attributes) const;
  bool matches(const CaseAttributeViews& attributes) const;
};

struct Stage {
  std::string name;
  Duration offset{0};  // elapsed time at which the stage falls due
  int percent = 0;     // > 0 when written as `at: N%` (offset is then target * N / 100)
  std::string severity;
  std::vector<std::string> notify;
};

struct DeadlineRule {
  RuleId id;
  std::string title;
  AttributeFilter when;
  EventTypeSet start, stop, pause, resume;
  Duration target{0};
  std::shared_ptr<const Calendar> calendar;
  std::vector<Stage> stages;  // ascending offsets
};

struct CountRule {
  RuleId id;
  std::string title;
  AttributeFilter when;
  EventTypeSet events;
  int threshold = 0;
  Duration window{0};
  std::string severity;
  std::vector<std::string> notify;
};

inline constexpr std::string_view kCountStageName = "threshold";

struct RuleSet {
  std::vector<DeadlineRule> deadlines;
  std::vector<CountRule> counts;
  std::map<std::string, std::shared_ptr<const Calendar>> calendars;
  std::string version;  // content hash of the files the set was loaded from
};

// One problem found in a rule, calendar or roster file.
struct Diagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string message;
  std::string to_string() const;  // "rules/x.yaml:3:7: unknown key 'tagret'"
};

struct LoadedRules {
  std::shared_ptr<const RuleSet> rules;  // null when diagnostics is not empty
  std::vector<Diagnostic> diagnostics;
  // Legal but surely not meant (a calendar with no working time): said, not refused.
  std::vector<Diagnostic> warnings;
};

// Loads every *.yaml / *.yml file of `path` (a file or a folder, recursively,
// following symlinks, in sorted path order). A file holds one or more YAML
// documents, each a rule (`kind: deadline|count`) or a calendar
// (`kind: calendar`). `extra_calendar_paths` are searched for calendars only.
// Every mistake found is reported; the set is only built when there are none.
LoadedRules load_rules(const std::string& path,
                       const std::vector<std::string>& extra_calendar_paths = {});

// `slawatch rules check PATH`: loads the rules, prints every diagnostic to
// `err` (one per line) and, when there are none, a summary line to `out`:
// "rules OK: 5 rules (3 deadline, 2 count), 1 calendar, version 3f2a9c0d41be".
// Returns the exit code: 0 when the rules are valid, 1 otherwise.
int check_rules_command(const std::string& path, const std::vector<std::string>& calendar_paths,
                        std::ostream& out, std::ostream& err);

}  // namespace slawatch
