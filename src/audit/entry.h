#pragma once
// The canonical entry encoding shared by the writer and the verifier
// (internal to src/audit). See audit.h for the format.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit.h"

namespace slawatch::audit::detail {

// `,"hash":"` + 64 hex + `"}`: the fixed tail of every line.
inline constexpr std::string_view kHashKey = ",\"hash\":\"";
inline constexpr size_t kHashHexSize = 64;
inline constexpr std::string_view kKindChars = "abcdefghijklmnopqrstuvwxyz0123456789._-";
inline constexpr size_t kTailSize = kHashKey.size() + kHashHexSize + 2;

// The stored hash of a line that has the fixed tail (not checked here).
inline std::string_view stored_hash_of(std::string_view line) {
  return line.substr(line.size() - 2 - kHashHexSize, kHashHexSize);
}

// Checks `record`: kind charset, payload one JSON value on one line.
Status validate(const Record& record);

// Appends the whole line (with '\n') for `record` at `seq` after `prev` to
// `out`, and returns its hash.
std::string append_entry(std::string& out, uint64_t seq, std::string_view prev, const Record& record);

// One line of a log, read back; the views point into the line.
struct ParsedEntry {
  uint64_t seq = 0;
  std::string_view kind;
  std::string_view payload;  // exact bytes
  std::string_view prev;
  std::string_view stored_hash;  // as written in the line
  std::string computed_hash;     // of the line's hashed bytes
};
// Reads one line (without '\n') in the canonical form, field by field (only
// the payload goes through a JSON parser, without building a document); an
// error says why it is not an entry.
Result<ParsedEntry> parse_entry(std::string_view line);

// The line's seq if it starts like an entry ({"seq":N,), else 0: a cheap
// first look at every line, for telling reorders from removals.
uint64_t peek_seq(std::string_view line);

// A payload re-serialized as EntrySummary keeps it (compact, keys sorted),
// the same whether read back or just written.
std::string normalized_payload(std::string_view payload);

bool is_hex_hash(std::string_view s);

}  // namespace slawatch::audit::detail
