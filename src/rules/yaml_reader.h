#pragma once
// Reading one YAML document of a rule file while collecting diagnostics.
// Every accessor reports what is wrong at the node's file:line:column and
// returns nothing, so the loader keeps going and reports every mistake in one
// run. Internal to the rules component; one instance per document, one thread.
#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/time.h"
#include "rules/rules.h"

namespace slawatch::rules_detail {

struct Location {
  int line = 0;    // 1-based, 0 when unknown
  int column = 0;  // 1-based, 0 when unknown
};

// yaml-cpp marks are 0-based; a node without a mark gives {0, 0}.
Location location_of(const YAML::Node& node);

// "a list", "a mapping", "a text value", "nothing".
std::string describe_node(const YAML::Node& node);

// The candidate closest to `word` when it is a likely typo, else empty.
std::string closest_match(std::string_view word, std::span<const std::string_view> candidates);

// " (did you mean 'target'?)" or "".
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

// "a, b or c"
std::string join_alternatives(std::span<const std::string_view> words);

// One `key: value` of a mapping.
struct Field {
  std::string key;
  YAML::Node key_node;
  YAML::Node value;
  // A missing value (`title:`) has no useful mark of its own: point at the key.
  Location value_location() const;
};

// The known keys of a mapping, in document order, each at most once.
class Mapping {
 public:
  Mapping(Location location, std::vector<Field> fields)
      : location_(location), fields_(std::move(fields)) {}
  const Field* find(std::string_view key) const;
  const std::vector<Field>& fields() const { return fields_; }
  Location location() const { return location_; }

 private:
  Location location_;
  std::vector<Field> fields_;
};

// Size limits of rule and calendar documents (docs/rules.md). Evaluation cost
// grows with the stage count (4,000 stages took 49 s for one case), and names
// end up in alert ids, metric labels and logs.
inline constexpr size_t kMaxTextBytes = 1024;  // any text value: titles, roles, filter values
inline constexpr size_t kMaxNameBytes = 64;    // rule, stage and calendar names
inline constexpr size_t kMaxListItems = 1000;  // any list: filter values, roles, holidays
inline constexpr size_t kMaxEventTypesPerList = 32;
inline constexpr size_t kMaxStagesPerRule = 20;
inline constexpr size_t kMaxRulesPerSet = 1000;

class DocumentChecker {
 public:
  DocumentChecker(std::string file, std::vector<Diagnostic>& diagnostics,
                  std::vector<Diagnostic>* warnings = nullptr)
      : file_(std::move(file)), diagnostics_(diagnostics), warnings_(warnings) {}

  const std::string& file() const { return file_; }
  void error(Location where, std::string message);
  // Legal but surely not meant; "warning: " is prepended. Dropped without a warnings list.
  void warning(Location where, std::string message);
  // Errors reported through this checker so far; compare before and after a
  // step to know whether the step was clean.
  size_t error_count() const { return error_count_; }

  // Reads a mapping. Unknown keys (with a suggestion) and repeated keys are
  // reported and left out. `context` names the mapping in messages, e.g.
  // "stage 'warning'"; empty for a whole document.
  std::optional<Mapping> mapping(const YAML::Node& node,
                                 std::span<const std::string_view> known_keys,
                                 std::string_view context);

  // Reports a missing key at the mapping's location.
  const Field* required(const Mapping& mapping, std::string_view key, std::string_view context);

  // A non-empty scalar of at most kMaxTextBytes.
  std::optional<std::string> text(const Field& field);
  std::optional<std::string> text_item(const YAML::Node& item, std::string_view what);

  // A sequence of scalars; a single scalar is taken as a list of one.
  // Empty lists are reported when `allow_empty` is false, lists longer than
  // `max_items` at their first item too many.
  std::optional<std::vector<YAML::Node>> list(const Field& field, bool allow_empty,
                                              size_t max_items = kMaxListItems);

  // A duration longer than zero: "90s", "30m", "24h", "5d".
  std::optional<Duration> positive_duration(const Field& field);

  // `[a-z0-9-]+` of at most kMaxNameBytes, used for rule, stage and calendar names.
  std::optional<std::string> name(const Field& field);

 private:
  std::string file_;
  std::vector<Diagnostic>& diagnostics_;
  std::vector<Diagnostic>* warnings_;
  size_t error_count_ = 0;
};

bool is_valid_name(std::string_view name);

}  // namespace slawatch::rules_detail
