#pragma once
// yaml-cpp 0.7.0 (Debian 12) allocates without bound, until the process is
// killed, on a line that starts with ',' outside a flow collection
// (`- a\n, b`, or `, a: b` at the top): a 315-byte rules file took all memory.
// Found by fuzzing (fuzz/corpus/rules/yaml-cpp-comma-line.yaml), and again on
// a ',' right after an anchor (`&h%, s`, yaml-cpp-comma-after-anchor.yaml): a
// ',' that starts a token outside a flow collection. Such a ',' is never valid
// YAML (a plain scalar cannot start with it). parse_yaml_documents
// (yaml_text.h) runs this check first, for its plainer message at the ','s
// line and column; what stops the runaway whatever its shape is the
// parser-progress check there. Internal to the rules component.
#include <cstddef>
#include <optional>
#include <string_view>

namespace slawatch {

struct YamlTextMark {
  int line = 0;    // 1-based
  int column = 0;  // 1-based
  std::string_view what;  // the mistake, for the caller's message
};

// The first ',' that starts a token while no flow collection ([...] or {...})
// is open: first on its line (after indentation), right after an anchor,
// alias or tag (`&a,`), or after blanks following one of those or an
// indicator (`- ,`, `? ,`, `key: ,`). A ',' inside a plain scalar (`a, b`)
// does not count; quoted strings and comments are skipped. nullopt when there
// is none.
inline std::optional<YamlTextMark> find_comma_line_outside_flow(std::string_view text) {
  int depth = 0;
  int line = 1;
  int column = 0;
  bool line_start = true;  // only indentation seen on this line so far
  char quote = 0;
  bool comment = false;
  // The current (or, after blanks, the last) word on the line: its first and last character.
  char word_first = 0;
  char word_last = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      column = 0;
      line_start = true;
      comment = false;
      word_first = word_last = 0;
      in_word = false;
      continue;
    }
    ++column;
    // YAML allows no control character but tab and line breaks, and yaml-cpp ran
    // away on texts with a NUL in them ("\0,", "&h\0e..."): refused at once.
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\r') || c == 0x7f) {
      return YamlTextMark{line, column, "a control character (not allowed in YAML)"};
    }
    if (c == '\r') {
      line_start = true;
      word_first = word_last = 0;
      in_word = false;
      continue;
    }
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
    if (c == ' ' || c == '\t') {
      in_word = false;
      continue;
    }
    const bool was_line_start = line_start;
    line_start = false;
    const bool word_start = !in_word;
    // A property (&anchor, *alias, !tag) ends at a ','; anything else a ',' continues.
    const bool after_property = in_word && (word_first == '&' || word_first == '*' || word_first == '!');
    const bool after_blank_token =
        word_start && (word_first == '&' || word_first == '*' || word_first == '!' ||
                       ((word_first == '-' || word_first == '?') && word_last == word_first) || word_last == ':');
    if (c == ',' && depth == 0 && (was_line_start || after_property || after_blank_token)) {
      return YamlTextMark{line, column, "',' starts a value outside a [...] or {...} list"};
    }
    if (word_start) word_first = c;
    word_last = c;
    in_word = true;
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
      default:
        break;
    }
  }
  return std::nullopt;
}

}  // namespace slawatch
