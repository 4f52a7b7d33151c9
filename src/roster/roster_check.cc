// `slawatch roster check`: the roster file's own mistakes, then what the
// rules name (departments in `when`, notify roles) that the roster cannot
// resolve. The rule files are read again as YAML here because the RuleSet
// keeps no source locations, and every finding should point at its line.
#include <yaml-cpp/yaml.h>

#include <ostream>
#include <set>

#include "roster/roster.h"
#include "rules/source_files.h"
#include "rules/yaml_reader.h"
#include "rules/yaml_text.h"

namespace slawatch {
namespace {

using namespace rules_detail;

struct Reference {
  std::string value;  // a department id or a role
  std::string rule;
  std::string file;
  Location location;
};

struct RuleReferences {
  std::vector<Reference> departments;
  std::vector<Reference> roles;
};

void collect_items(const YAML::Node& node, const std::string& rule, const std::string& file,
                   std::vector<Reference>& out) {
  auto add = [&](const YAML::Node& item) {
    if (item.IsScalar()) out.push_back(Reference{item.Scalar(), rule, file, location_of(item)});
  };
  if (node.IsSequence()) {
    for (const auto& item : node) add(item);
  } else {
    add(node);
  }
}

RuleReferences collect_references(const std::string& rules_path, std::vector<Diagnostic>& diagnostics) {
  RuleReferences refs;
  SourceCollector collector(diagnostics);
  collector.add(rules_path, false);
  for (const auto& file : collector.files()) {
    const ParsedYaml parsed = parse_yaml_documents(file.content);
    if (parsed.mistake) continue;  // load_rules reports it
    for (const auto& doc : parsed.documents) {
      if (!doc.IsMap()) continue;
      const std::string rule = doc["id"] && doc["id"].IsScalar() ? doc["id"].Scalar() : "?";
      if (const auto when = doc["when"]; when && when.IsMap() && when["department"]) {
        collect_items(when["department"], rule, file.display_name, refs.departments);
      }
      if (const auto notify = doc["notify"]) collect_items(notify, rule, file.display_name, refs.roles);
      if (const auto stages = doc["stages"]; stages && stages.IsSequence()) {
        for (const auto& stage : stages) {
          if (stage.IsMap() && stage["notify"]) collect_items(stage["notify"], rule, file.display_name, refs.roles);
        }
      }
    }
  }
  return refs;
}

std::string roster_name(const Roster& roster) { return "the roster (" + roster.source() + ")"; }

}  // namespace

void check_roster_against_rules(const Roster& roster, const std::string& rules_path, LoadedRoster& out) {
  LoadedRules rules = load_rules(rules_path);
  out.errors.insert(out.errors.end(), rules.diagnostics.begin(), rules.diagnostics.end());
  std::vector<Diagnostic> ignored;  // file problems are already in rules.diagnostics
  const RuleReferences refs = collect_references(rules_path, ignored);

  std::vector<std::string> ids;
  for (const auto& [id, d] : roster.departments()) ids.push_back(id);
  const std::vector<std::string_view> id_views(ids.begin(), ids.end());
  for (const auto& ref : refs.departments) {
    if (roster.department(ref.value) != nullptr) continue;
    out.errors.push_back(Diagnostic{ref.file, ref.location.line, ref.location.column,
                                    "rule '" + ref.rule + "' names department '" + ref.value + "' that " +
                                        roster_name(roster) + " does not list" + did_you_mean(ref.value, id_views)});
  }

  std::set<std::string> reported;  // one finding per role
  for (const auto& ref : refs.roles) {
    if (!reported.insert(ref.value).second) continue;
    const auto dot = ref.value.find('.');
    if (dot == std::string::npos) continue;  // load_rules reports bad roles
    const std::string scope = ref.value.substr(0, dot);
    const std::string name = ref.value.substr(dot + 1);
    auto at = [&](std::string message) {
      return Diagnostic{ref.file, ref.location.line, ref.location.column, std::move(message)};
    };
    if (scope == "city") {
      if (!roster.city().contains(name)) {
        out.errors.push_back(at("rule '" + ref.rule + "' notifies '" + ref.value + "' but " + roster_name(roster) +
                                " has no 'city." + name + "'"));
      }
    } else if (scope == "department") {
      std::vector<std::string> lacking;
      for (const auto& [id, d] : roster.departments()) {
        if (!d.roles.contains(name)) lacking.push_back(id);
      }
      if (lacking.empty()) continue;
      std::string listed;
      for (size_t i = 0; i < lacking.size() && i < 5; ++i) listed += (i ? ", " : "") + lacking[i];
      if (lacking.size() > 5) listed += ", ...";
      if (lacking.size() == roster.departments().size()) {
        out.errors.push_back(at("rule '" + ref.rule + "' notifies '" + ref.value + "' but no department in " +
                                roster_name(roster) + " has that role"));
      } else {
        out.warnings.push_back(at("rule '" + ref.rule + "' notifies '" + ref.value + "' but " +
                                  std::to_string(lacking.size()) + " department(s) of " + roster_name(roster) +
                                  " have nobody in that role: " + listed));
      }
    }
  }
}

int check_roster_command(const std::string& roster_path, const std::string& rules_path, std::ostream& out,
                         std::ostream& err) {
  LoadedRoster loaded = load_roster(roster_path);
  if (loaded.roster && !rules_path.empty()) check_roster_against_rules(*loaded.roster, rules_path, loaded);
  for (const auto& d : loaded.errors) err << d.to_string() << "\n";
  for (const auto& d : loaded.warnings) {
    Diagnostic w = d;
    w.message = "warning: " + w.message;
    err << w.to_string() << "\n";
  }
  if (!loaded.errors.empty()) {
    err << "roster check: " << loaded.errors.size() << " error(s), " << loaded.warnings.size() << " warning(s)\n";
    return 1;
  }
  std::set<std::string> people;
  size_t rotations = 0;
  auto count = [&](const Assignment& a) {
    for (auto& p : a.people()) people.insert(p);
    if (!a.is_fixed()) ++rotations;
  };
  for (const auto& [id, d] : loaded.roster->departments()) {
    for (const auto& [role, a] : d.roles) count(a);
  }
  for (const auto& [role, a] : loaded.roster->city()) count(a);
  out << "roster OK: " << loaded.roster->departments().size() << " departments, " << loaded.roster->city().size()
      << " city roles, " << rotations << " rotations, " << people.size() << " people"
      << (rules_path.empty() ? "" : ", checked against " + rules_path);
  if (!loaded.warnings.empty()) out << " (" << loaded.warnings.size() << " warning(s))";
  out << "\n";
  return 0;
}

}  // namespace slawatch
