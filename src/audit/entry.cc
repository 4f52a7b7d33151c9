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

Result<std::string> validate(const Record& record) {
  if (record.kind.empty() || record.kind.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") !=
                                 std::string::npos) {
    return make_error("audit kind '" + record.kind + "' must be [a-z0-9._-]+");
  }
  // A raw line break would split the entry; inside JSON strings they are escaped anyway.
  if (record.payload.find_first_of("\r\n") != std::string::npos) {
    return make_error("audit payload of kind " + record.kind + " spans lines");
  }
  nlohmann::json json = nlohmann::json::parse(record.payload, nullptr, false);
  if (json.is_discarded()) return make_error("audit payload of kind " + record.kind + " is not one JSON value");
  return json.dump();
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

Result<ParsedEntry> parse_entry(std::string_view line) {
  if (line.size() < kTailSize || line.substr(line.size() - 2) != "\"}" ||
      line.substr(line.size() - kTailSize, kHashKey.size()) != kHashKey) {
    return make_error("not an audit entry (no trailing \"hash\" field)");
  }
  ParsedEntry entry;
  const std::string_view body = line.substr(0, line.size() - kTailSize);
  entry.stored_hash = std::string(line.substr(line.size() - 2 - kHashHexSize, kHashHexSize));
  if (!is_hex_hash(entry.stored_hash)) return make_error("\"hash\" is not 64 lowercase hex digits");
  entry.computed_hash = sha256_hex(body);
  nlohmann::json json = nlohmann::json::parse(std::string(body) + "}", nullptr, false);
  if (json.is_discarded() || !json.is_object()) return make_error("not an audit entry (not a JSON object)");
  const auto field = [&](const char* name) -> const nlohmann::json* {
    auto it = json.find(name);
    return it == json.end() ? nullptr : &*it;
  };
  const auto* seq = field("seq");
  const auto* time = field("time");
  const auto* kind = field("kind");
  const auto* payload = field("payload");
  const auto* prev = field("prev");
  if (!seq || !seq->is_number_unsigned() || seq->get<uint64_t>() == 0) return make_error("\"seq\" missing or not a positive integer");
  entry.seq = seq->get<uint64_t>();
  if (!time || !(time->is_null() || (time->is_string() && parse_rfc3339(time->get<std::string>()).ok()))) {
    return make_error("\"time\" missing or not an RFC 3339 time");
  }
  if (!kind || !kind->is_string() || kind->get<std::string>().empty()) return make_error("\"kind\" missing");
  entry.kind = kind->get<std::string>();
  if (!payload) return make_error("\"payload\" missing");
  entry.payload = payload->dump();
  if (!prev || !prev->is_string() || !is_hex_hash(prev->get<std::string>())) {
    return make_error("\"prev\" missing or not 64 lowercase hex digits");
  }
  entry.prev = prev->get<std::string>();
  return entry;
}

}  // namespace detail
}  // namespace slawatch::audit
