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
inline constexpr size_t kTailSize = kHashKey.size() + kHashHexSize + 2;

// Checks `record` (kind charset, payload one JSON value on one line) and
// returns its payload re-serialized (compact, keys sorted): the form
// EntrySummary keeps, the same whether read back or just written.
Result<std::string> validate(const Record& record);

// Appends the whole line (with '\n') for `record` at `seq` after `prev` to
// `out`, and returns its hash.
std::string append_entry(std::string& out, uint64_t seq, std::string_view prev, const Record& record);

// One line of a log, read back.
struct ParsedEntry {
  uint64_t seq = 0;
  std::string kind;
  std::string payload;
  std::string prev;
  std::string stored_hash;    // as written in the line
  std::string computed_hash;  // of the line's hashed bytes
};
// Reads one line (without '\n'); an error says why it is not an entry.
Result<ParsedEntry> parse_entry(std::string_view line);

bool is_hex_hash(std::string_view s);

}  // namespace slawatch::audit::detail
