#include "rules/rules.h"

#include <algorithm>

namespace slawatch {
namespace {

std::string count_of(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

template <class Attributes>
bool filter_matches(const std::map<std::string, std::vector<std::string>>& allowed, const Attributes& attributes) {
  for (const auto& [name, values] : allowed) {
    const auto* value = attributes.get(name);
    if (value == nullptr) return false;
    if (std::find(values.begin(), values.end(), *value) == values.end()) return false;
  }
  return true;
}

}  // namespace

bool AttributeFilter::matches(const CaseAttributes& attributes) const { return filter_matches(allowed, attributes); }

bool AttributeFilter::matches(const CaseAttributeViews& attributes) const { return filter_matches(allowed, attributes); }

std::string Diagnostic::to_string() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

int check_rules_command(const std::string& path, const std::vector<std::string>& calendar_paths,
                        std::ostream& out, std::ostream& err) {
  const LoadedRules loaded = load_rules(path, calendar_paths);
  for (const Diagnostic& diagnostic : loaded.diagnostics) err << diagnostic.to_string() << '\n';
  for (const Diagnostic& warning : loaded.warnings) err << warning.to_string() << '\n';
  if (!loaded.rules) {
    err << "rules check failed: " << count_of(loaded.diagnostics.size(), "error") << '\n';
    return 1;
  }
  const RuleSet& rules = *loaded.rules;
  // The built-in `always` calendar is not counted: the user did not write it.
  const size_t calendars = rules.calendars.size() - (rules.calendars.contains("always") ? 1 : 0);
  out << "rules OK: " << count_of(rules.deadlines.size() + rules.counts.size(), "rule") << " ("
      << rules.deadlines.size() << " deadline, " << rules.counts.size() << " count), "
      << count_of(calendars, "calendar") << ", version " << rules.version << '\n';
  return 0;
}

}  // namespace slawatch
