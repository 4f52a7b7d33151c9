#pragma once
// Intake of case events (contract section 1): raw bytes in, a validated
// CaseEvent or a rejection naming the field and the problem out.
// A parser instance is reused across records and is not thread-safe.
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "model/event.h"
#include "model/record_header.h"
#include "model/result.h"

namespace slawatch {

class CloudEventParser {
 public:
  // Records above max_record_bytes are rejected as oversize.
  explicit CloudEventParser(size_t max_record_bytes = kDefaultMaxRecordBytes);
  ~CloudEventParser();
  CloudEventParser(const CloudEventParser&) = delete;
  CloudEventParser& operator=(const CloudEventParser&) = delete;

  // Structured content mode: the whole CloudEvent as one JSON object.
  // Error messages look like "field 'data.department': required string is missing".
  Result<CaseEvent> parse(std::string_view bytes);

  // Kafka binary content mode: the context attributes come from the ce_*
  // headers (keys here without the "ce_" prefix: specversion, id, source,
  // type, subject, time) and the record value is the JSON `data` object.
  // Validated by the same rules and with the same messages as parse().
  Result<CaseEvent> parse_binary(const std::map<std::string, std::string>& ce_attributes,
                                 std::string_view data_bytes);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Chooses the content mode as the CloudEvents Kafka binding says: a
// `content-type` header starting with "application/cloudevents" means
// structured; otherwise `ce_*` headers mean binary; no headers (files) means
// structured.
Result<CaseEvent> parse_record(CloudEventParser& parser, std::string_view bytes,
                               const RecordHeaders& headers);

// The rejection of a record of `size` bytes over `limit`, of which the dead
// letter keeps the first `kept` bytes (all of them when kept == size).
std::string oversize_reason(uint64_t size, size_t limit, size_t kept);

// Case ids: 1-64 chars of [A-Za-z0-9._:-].
bool is_valid_case_id(std::string_view id);

}  // namespace slawatch
