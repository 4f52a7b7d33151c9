#pragma once
// Every YAML text slawatch reads (rules, calendars, roster, config) is parsed
// here, because yaml-cpp 0.7.0 (Debian 12) is not safe on hostile input:
// YAML::LoadAll loops forever, allocating an empty document per turn, when the
// parser stops at a token it cannot place (a ',' outside a flow collection,
// a NUL) without consuming it. Fixed upstream in 0.8 (jbeder/yaml-cpp#1319);
// until then a first pass watches each document start move forward and
// reports the token it is stuck on. Stateless; any thread.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace slawatch {

struct YamlMistake {
  int line = 0;    // 1-based, 0 when unknown
  int column = 0;  // 1-based, 0 when unknown
  std::string what;
};

struct ParsedYaml {
  std::vector<YAML::Node> documents;  // empty when `mistake` is set
  std::optional<YamlMistake> mistake;
};

// All documents of `text` in order, or the first syntax mistake with its place.
ParsedYaml parse_yaml_documents(std::string_view text);

// The single document of a config-like file (a null node for an empty text),
// or a mistake; a second document with content is a mistake too, since
// YAML::Load would silently drop it.
ParsedYaml parse_single_yaml_document(std::string_view text);

}  // namespace slawatch
