#include "audit/entry.h"

#include <openssl/evp.h>

#include <memory>
#include <nlohmann/json.hpp>

namespace slawatch::audit {

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0x0f];
  }
  return hex;
}

namespace detail {

bool is_hex_hash(std::string_view s) {
  return s.size() == kHashHexSize &&
         s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

Status validate(const Record& record) {
  if (record.kind.empty() || record.kind.find_first_not_of(kKindChars) !=
                                 std::string::npos) {
    return make_error("audit kind '" + record.kind + "' must be [a-z0-9._-]+");
  }
  // A raw line break would split the entry; inside JSON strings they are escaped anyway.
  if (record.payload.find_first_of("\r\n") != std::string::npos) {
    return make_error("audit payload of kind " + record.kind + " spans lines");
  }
  if (!nlohmann::json::accept(record.payload)) {
    return make_error("audit payload of kind " + record.kind + " is not one JSON value");
  }
  return ok_status();
}

std::string append_entry(std::string& out, uint64_t seq, std::string_view prev, const Record& record) {
  const size_t start = out.size();
  out += "{\"seq\":";
  out += std::to_string(seq);
  out += ",\"time\":";
  if (record.time) {
    out += '"';
    out += format_rfc3339_utc(*record.time);
    out += '"';
  } else {
    out += "null";
  }
  out += ",\"kind\":\"";
  out += record.kind;
  out += "\",\"payload\":";
  out += record.payload;
  out += ",\"prev\":\"";
  out += prev;
  out += '"';
  std::string hash = sha256_hex(std::string_view(out).substr(start));
  out += kHashKey;
  out += hash;
  out += "\"}\n";
  return hash;
}

namespace {

// Consumes `literal` from the front of `rest`.
bool take(std::string_view& rest, std::string_view literal) {
  if (!rest.starts_with(literal)) return false;
  rest.remove_prefix(literal.size());
  return true;
}

// Consumes a positive decimal without leading zeros.
std::optional<uint64_t> take_seq(std::string_view& rest) {
  size_t n = 0;
  uint64_t value = 0;
  while (n < rest.size() && n < 19 && rest[n] >= '0' && rest[n] <= '9') value = value * 10 + static_cast<uint64_t>(rest[n++] - '0');
  if (n == 0 || rest[0] == '0' || (n < rest.size() && rest[n] >= '0' && rest[n] <= '9')) return std::nullopt;
  rest.remove_prefix(n);
  return value;
}

constexpr std::string_view kPrevKey = ",\"prev\":\"";

}  // namespace

uint64_t peek_seq(std::string_view line) {
  if (!take(line, "{\"seq\":")) return 0;
  return take_seq(line).value_or(0);
}

std::string normalized_payload(std::string_view payload) {
  return nlohmann::json::parse(payload, nullptr, false).dump();
}

Result<ParsedEntry> parse_entry(std::string_view line) {
  // Fixed-size tail: ,"prev":"<64 hex>","hash":"<64 hex>"}
  constexpr size_t kSuffix = kPrevKey.size() + kHashHexSize + 1 + kTailSize;
  if (line.size() < kSuffix || !line.ends_with("\"}") ||
      line.substr(line.size() - kTailSize, kHashKey.size()) != kHashKey ||
      line.substr(line.size() - kSuffix, kPrevKey.size()) != kPrevKey ||
      line[line.size() - kTailSize - 1] != '"') {
    return make_error("not an audit entry (no trailing \"prev\" and \"hash\" fields)");
  }
  ParsedEntry entry;
  entry.stored_hash = stored_hash_of(line);
  entry.prev = line.substr(line.size() - kSuffix + kPrevKey.size(), kHashHexSize);
  if (!is_hex_hash(entry.stored_hash)) return make_error("\"hash\" is not 64 lowercase hex digits");
  if (!is_hex_hash(entry.prev)) return make_error("\"prev\" is not 64 lowercase hex digits");
  entry.computed_hash = sha256_hex(line.substr(0, line.size() - kTailSize));

  std::string_view rest = line.substr(0, line.size() - kSuffix);
  if (!take(rest, "{\"seq\":")) return make_error("not an audit entry (does not start with {\"seq\":)");
  auto seq = take_seq(rest);
  if (!seq) return make_error("\"seq\" is not a positive integer");
  entry.seq = *seq;
  if (!take(rest, ",\"time\":")) return make_error("\"time\" missing after \"seq\"");
  if (!take(rest, "null")) {
    const size_t close = rest.size() > 1 && rest[0] == '"' ? rest.find('"', 1) : std::string_view::npos;
    if (close == std::string_view::npos || !parse_rfc3339(rest.substr(1, close - 1)).ok()) {
      return make_error("\"time\" is neither null nor an RFC 3339 time");
    }
    rest.remove_prefix(close + 1);
  }
  if (!take(rest, ",\"kind\":\"")) return make_error("\"kind\" missing after \"time\"");
  const size_t kind_end = rest.find('"');
  entry.kind = rest.substr(0, kind_end);
  if (kind_end == std::string_view::npos || entry.kind.empty() ||
      entry.kind.find_first_not_of(kKindChars) != std::string_view::npos) {
    return make_error("\"kind\" is not [a-z0-9._-]+");
  }
  rest.remove_prefix(kind_end + 1);
  if (!take(rest, ",\"payload\":")) return make_error("\"payload\" missing after \"kind\"");
  if (!nlohmann::json::accept(rest)) return make_error("\"payload\" is not one JSON value");
  entry.payload = rest;
  return entry;
}

}  // namespace detail
}  // namespace slawatch::audit
