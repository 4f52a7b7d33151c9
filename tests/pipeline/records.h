#pragma once
// Test support for the pipeline: CloudEvent JSON lines and raw records.
#include <string>

#include "io/io.h"
#include "model/time.h"

namespace slawatch {

inline std::string event_line(const std::string& id, const std::string& type, const std::string& case_id,
                              const std::string& time, const std::string& data) {
  return R"({"specversion":"1.0","id":")" + id + R"(","source":"/test","type":"hotline.case.)" + type +
         R"(","subject":")" + case_id + R"(","time":")" + time + R"(","data":)" + data + "}";
}

inline RawRecord record(std::string bytes, std::string origin = "test:1") {
  RawRecord r;
  r.bytes = std::move(bytes);
  r.origin = std::move(origin);
  return r;
}

// A first-response pair for department "roads".
inline RawRecord dispatched(const std::string& id, const std::string& case_id, Instant t) {
  return record(event_line(id, "dispatched", case_id, format_rfc3339_utc(t), R"({"department":"roads"})"));
}
inline RawRecord acknowledged(const std::string& id, const std::string& case_id, Instant t) {
  return record(event_line(id, "acknowledged", case_id, format_rfc3339_utc(t), R"({"department":"roads"})"));
}

}  // namespace slawatch
