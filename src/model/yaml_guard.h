#pragma once
// yaml-cpp 0.7.0 (Debian 12) allocates without bound, until the process is
// killed, on a line that starts with ',' outside a flow collection
// (`- a\n, b`, or `, a: b` at the top): a 315-byte rules file took all memory.
// Found by fuzzing (fuzz/corpus/rules/yaml-cpp-comma-line.yaml). Every YAML
// text is checked here first, and such a line is reported as a mistake at its
// line and column instead of being handed to the parser.
#include <cstddef>
#include <optional>
#include <string_view>

namespace slawatch {

struct YamlTextMark {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
};

// The first line starting (after indentation) with ',' while no flow
// collection ([...] or {...}) is open; quoted strings and comments are
// skipped. nullopt when there is none.
inline std::optional<YamlTextMark> find_comma_line_outside_flow(std::string_view text) {
  int depth = 0;
  int line = 1;
  int column = 0;
  bool line_start = true;  // only indentation seen on this line so far
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      column = 0;
      line_start = true;
      comment = false;
      continue;
    }
    ++column;
    if (comment) continue;
    if (quote != 0) {
      if (quote == '"' && c == '\\') {
        ++i;
        ++column;
      } else if (c == quote) {
        quote = 0;
      }
      continue;
    }
    if (line_start && (c == ' ' || c == '\t')) continue;
    const bool was_line_start = line_start;
    line_start = false;
    switch (c) {
      case '#':
        if (was_line_start || (i > 0 && (text[i - 1] == ' ' || text[i - 1] == '\t'))) comment = true;
        break;
      case '"':
      case '\'':
        if (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '[' || text[i - 1] == '{' ||
            text[i - 1] == ',' || text[i - 1] == ':' || was_line_start) {
          quote = c;
        }
        break;
      case '[':
      case '{':
        ++depth;
        break;
      case ']':
      case '}':
        if (depth > 0) --depth;
        break;
      case ',':
        if (was_line_start && depth == 0) return YamlTextMark{line, column};
        break;
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace slawatch
