#include "rules/yaml_reader.h"

#include <algorithm>
#include <map>

namespace slawatch::rules_detail {
namespace {

// Optimal string alignment distance: Levenshtein plus adjacent swaps, so
// "tagret" is one edit away from "target".
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitution = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + substitution});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

}  // namespace

Location location_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return {};
  return {mark.line + 1, mark.column + 1};
}

std::string describe_node(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Scalar:
      return "the text '" + node.Scalar() + "'";
    default:
      return "nothing";
  }
}

std::string closest_match(std::string_view word, std::span<const std::string_view> candidates) {
  const size_t limit = word.size() <= 3 ? 1 : 2;
  std::string best;
  size_t best_distance = limit + 1;
  for (std::string_view candidate : candidates) {
    const size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = std::string(candidate);
    }
  }
  return best;
}

std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates) {
  const std::string match = closest_match(word, candidates);
  return match.empty() ? "" : " (did you mean '" + match + "'?)";
}

std::string join_alternatives(std::span<const std::string_view> words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out += i + 1 == words.size() ? " or " : ", ";
    out += words[i];
  }
  return out;
}

bool is_valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

Location Field::value_location() const {
  return value.IsNull() ? location_of(key_node) : location_of(value);
}

const Field* Mapping::find(std::string_view key) const {
  for (const Field& field : fields_) {
    if (field.key == key) return &field;
  }
  return nullptr;
}

void DocumentChecker::error(Location where, std::string message) {
  ++error_count_;
  diagnostics_.push_back(Diagnostic{file_, where.line, where.column, std::move(message)});
}

void DocumentChecker::warning(Location where, std::string message) {
  if (warnings_ != nullptr) warnings_->push_back(Diagnostic{file_, where.line, where.column, "warning: " + message});
}

std::optional<Mapping> DocumentChecker::mapping(const YAML::Node& node,
                                                std::span<const std::string_view> known_keys,
                                                std::string_view context) {
  const std::string in = context.empty() ? "" : " in " + std::string(context);
  if (!node.IsMap()) {
    error(location_of(node), "expected a mapping of keys" + in + ", got " + describe_node(node));
    return std::nullopt;
  }
  std::vector<Field> fields;
  std::map<std::string, Location, std::less<>> first_seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    const YAML::Node key = it->first;
    const Location key_location = location_of(key);
    if (!key.IsScalar()) {
      error(key_location, "a key must be a plain name" + in + ", got " + describe_node(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(known_keys.begin(), known_keys.end(), name) == known_keys.end()) {
      error(key_location, "unknown key '" + name + "'" + in + did_you_mean(name, known_keys));
      continue;
    }
    if (auto seen = first_seen.find(name); seen != first_seen.end()) {
      error(key_location, "duplicate key '" + name + "'" + in + " (first given at line " +
                              std::to_string(seen->second.line) + ")");
      continue;
    }
    first_seen.emplace(name, key_location);
    fields.push_back(Field{name, key, it->second});
  }
  return Mapping(location_of(node), std::move(fields));
}

const Field* DocumentChecker::required(const Mapping& mapping, std::string_view key,
                                       std::string_view context) {
  const Field* field = mapping.find(key);
  if (field == nullptr) {
    error(mapping.location(), "missing required key '" + std::string(key) + "'" +
                                  (context.empty() ? "" : " in " + std::string(context)));
  }
  return field;
}

std::optional<std::string> DocumentChecker::text(const Field& field) {
  if (field.value.IsNull()) {
    error(field.value_location(), "'" + field.key + "' needs a value");
    return std::nullopt;
  }
  return text_item(field.value, "'" + field.key + "'");
}

std::optional<std::string> DocumentChecker::text_item(const YAML::Node& item,
                                                      std::string_view what) {
  if (!item.IsScalar() || item.Scalar().empty()) {
    error(location_of(item), std::string(what) + " needs a text value, got " + describe_node(item));
    return std::nullopt;
  }
  if (item.Scalar().size() > kMaxTextBytes) {
    error(location_of(item), std::string(what) + " is too long (" + std::to_string(item.Scalar().size()) +
                                 " bytes, limit " + std::to_string(kMaxTextBytes) + ")");
    return std::nullopt;
  }
  return item.Scalar();
}

std::optional<std::vector<YAML::Node>> DocumentChecker::list(const Field& field, bool allow_empty,
                                                             size_t max_items) {
  std::vector<YAML::Node> items;
  if (field.value.IsScalar()) {
    items.push_back(field.value);
  } else if (field.value.IsSequence()) {
    for (const YAML::Node& item : field.value) {
      if (items.size() == max_items) {
        error(location_of(item), "'" + field.key + "' has more than " + std::to_string(max_items) + " entries");
        return std::nullopt;
      }
      items.push_back(item);
    }
  } else if (!field.value.IsNull()) {
    error(field.value_location(), "'" + field.key + "' must be a list, got " + describe_node(field.value));
    return std::nullopt;
  }
  if (items.empty() && !allow_empty) {
    error(field.value_location(), "empty '" + field.key + "' list: at least one entry is needed");
    return std::nullopt;
  }
  return items;
}

std::optional<Duration> DocumentChecker::positive_duration(const Field& field) {
  if (!field.value.IsScalar()) {
    error(field.value_location(), "'" + field.key + "' must be a duration such as 30m, 24h or 5d, got " +
                                      describe_node(field.value));
    return std::nullopt;
  }
  const std::string& written = field.value.Scalar();
  Result<Duration> parsed = parse_duration(written);
  if (!parsed) {
    error(field.value_location(), "'" + field.key + "': " + parsed.error().message);
    return std::nullopt;
  }
  if (parsed.value() <= Duration::zero()) {
    error(field.value_location(), "'" + field.key + "' must be longer than 0, got '" + written + "'");
    return std::nullopt;
  }
  return parsed.value();
}

std::optional<std::string> DocumentChecker::name(const Field& field) {
  std::optional<std::string> value = text(field);
  if (!value) return std::nullopt;
  if (value->size() > kMaxNameBytes) {
    error(field.value_location(), "bad " + field.key + ": longer than " + std::to_string(kMaxNameBytes) +
                                      " characters (" + std::to_string(value->size()) + ")");
    return std::nullopt;
  }
  if (!is_valid_name(*value)) {
    error(field.value_location(), "bad " + field.key + " '" + *value +
                                      "': use only lower-case letters, digits and '-'");
    return std::nullopt;
  }
  return value;
}

}  // namespace slawatch::rules_detail
