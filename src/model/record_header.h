#pragma once
// Transport headers carried beside a record's bytes (Kafka record headers;
// empty for files). Kept in the outbox so a dead letter leaves with the
// headers it arrived with.
#include <string>
#include <vector>

namespace slawatch {

struct RecordHeader {
  std::string name;
  std::string value;
  bool operator==(const RecordHeader&) const = default;
};
using RecordHeaders = std::vector<RecordHeader>;

// Header names slawatch adds to a dead letter.
inline constexpr const char* kDeadLetterReasonHeader = "slawatch.reason";
inline constexpr const char* kDeadLetterOriginHeader = "slawatch.origin";

inline const std::string* find_header(const RecordHeaders& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

}  // namespace slawatch
