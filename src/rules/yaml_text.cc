#include "rules/yaml_text.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/parser.h>

#include <cstdio>
#include <sstream>

#include "rules/yaml_guard.h"

namespace slawatch {
namespace {

// Records where the current document starts; every other event is ignored.
class DocumentStartWatch final : public YAML::EventHandler {
 public:
  const YAML::Mark& start() const { return start_; }

  void OnDocumentStart(const YAML::Mark& mark) override { start_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  YAML::Mark start_;
};

YamlMistake mistake_at(const YAML::Mark& mark, std::string what) {
  if (mark.is_null()) return YamlMistake{0, 0, std::move(what)};
  return YamlMistake{mark.line + 1, mark.column + 1, std::move(what)};
}

std::string describe_character(std::string_view text, int pos) {
  if (pos < 0 || static_cast<size_t>(pos) >= text.size()) return "the end of the text";
  const auto c = static_cast<unsigned char>(text[static_cast<size_t>(pos)]);
  if (c >= 0x21 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char hex[8];
  std::snprintf(hex, sizeof hex, "0x%02x", c);
  return std::string("the byte ") + hex;
}

// nullopt when yaml-cpp gets through every document of `text`. A document that
// starts where the previous one did means the parser consumed nothing: LoadAll
// would never return.
std::optional<YamlMistake> find_stuck_document(std::string_view text) {
  std::istringstream in{std::string(text)};
  YAML::Parser parser(in);
  DocumentStartWatch watch;
  int previous_start = -1;
  while (parser.HandleNextDocument(watch)) {
    const YAML::Mark& start = watch.start();
    if (start.pos <= previous_start) {
      return mistake_at(start, "unexpected " + describe_character(text, start.pos) +
                                   " (not a valid start of a value here)");
    }
    previous_start = start.pos;
  }
  return std::nullopt;
}

}  // namespace

ParsedYaml parse_yaml_documents(std::string_view text) {
  ParsedYaml parsed;
  // The text check names the common cases more plainly than the parser can.
  if (auto trap = find_comma_line_outside_flow(text)) {
    parsed.mistake = YamlMistake{trap->line, trap->column, std::string(trap->what)};
    return parsed;
  }
  try {
    if (auto stuck = find_stuck_document(text)) {
      parsed.mistake = std::move(stuck);
      return parsed;
    }
    parsed.documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& error) {
    // yaml-cpp stops at the first syntax error, so later mistakes only show up once it is fixed.
    parsed.documents.clear();
    parsed.mistake = mistake_at(error.mark, error.msg);
  }
  return parsed;
}

ParsedYaml parse_single_yaml_document(std::string_view text) {
  ParsedYaml parsed = parse_yaml_documents(text);
  if (parsed.mistake) return parsed;
  std::vector<YAML::Node> with_content;
  for (YAML::Node& document : parsed.documents) {
    if (!document.IsNull()) with_content.push_back(std::move(document));
  }
  if (with_content.size() > 1) {
    return ParsedYaml{{}, mistake_at(with_content[1].Mark(), "a second YAML document ('---'): this file holds one")};
  }
  parsed.documents = std::move(with_content);
  if (parsed.documents.empty()) parsed.documents.emplace_back();  // an empty file
  return parsed;
}

}  // namespace slawatch
