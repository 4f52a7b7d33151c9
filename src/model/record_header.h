#pragma once
// Transport headers carried beside a record's bytes (Kafka record headers;
// empty for files). Kept in the outbox so a dead letter leaves with the
// headers it arrived with.
#include <cstddef>
#include <string>
#include <vector>

namespace slawatch {

// Records larger than this are rejected unread (config `max_record_bytes`,
// flag --max-record-bytes): the readers never hold more of one record.
inline constexpr size_t kDefaultMaxRecordBytes = 1u << 20;
// The range a configured limit may take: a valid event needs a few hundred
// bytes, and a limit is only a limit if memory can hold a batch of records of it.
inline constexpr size_t kMinRecordLimitBytes = 1024;
inline constexpr size_t kMaxRecordLimitBytes = 64u << 20;

struct RecordHeader {
  std::string name;
  std::string value;
  bool operator==(const RecordHeader&) const = default;
};
using RecordHeaders = std::vector<RecordHeader>;

// Header names slawatch adds to a dead letter.
inline constexpr const char* kDeadLetterReasonHeader = "slawatch.reason";
inline constexpr const char* kDeadLetterOriginHeader = "slawatch.origin";
// Only on an oversize record, whose payload is its first bytes: its full size in bytes.
inline constexpr const char* kDeadLetterOriginalSizeHeader = "slawatch.original_size";

inline const std::string* find_header(const RecordHeaders& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (h.name == name) return &h.value;
  }
  return nullptr;
}

}  // namespace slawatch
