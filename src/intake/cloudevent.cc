#include "intake/cloudevent.h"

#include <simdjson.h>

#include <array>
#include <bitset>
#include <cstdio>
#include <optional>

namespace slawatch {
namespace {

namespace dom = simdjson::dom;

// A failed check; nullopt means the check passed.
using Problem = std::optional<Error>;

constexpr size_t kMaxEventIdChars = 256;
constexpr size_t kMaxCaseIdChars = 64;
constexpr size_t kMaxSourceBytes = 1024;
// Names (department, category...) become metric labels and alert fields: a
// 2 KB department name made /metrics 10 MB. Free text is kept in the case log.
constexpr size_t kMaxNameBytes = 128;
constexpr size_t kMaxFreeTextBytes = 2048;
// Event times the calendars can count in (they cover 1900-2399): an event in
// year 1 would have had its due times clamped to 1900.
constexpr Instant kFirstEventTime = std::chrono::sys_days{std::chrono::year{1900} / 1 / 1};
constexpr Instant kEndOfEventTimes = std::chrono::sys_days{std::chrono::year{2400} / 1 / 1};
// Rejection reasons end up in dead-letter records and logs; quoting a whole
// hostile value would make them as large as the record itself.
constexpr size_t kMaxQuoted = 80;

std::string quoted(std::string_view text) {
  std::string out = "'";
  if (text.size() <= kMaxQuoted) {
    out += text;
  } else {
    // Cut on a UTF-8 character boundary so the reason stays valid UTF-8.
    size_t cut = kMaxQuoted;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    out += text.substr(0, cut);
    out += "...";
  }
  out += '\'';
  return out;
}

Error field_error(std::string_view prefix, std::string_view name, std::string_view problem) {
  std::string message = "field '";
  message += prefix;
  message += name;
  message += "': ";
  message += problem;
  return Error{std::move(message)};
}

// Key lookup on the hot path: lengths and first characters rule out almost
// every candidate before a full comparison.
bool same_key(std::string_view name, std::string_view key) {
  return name.size() == key.size() && name.front() == key.front() && name == key;
}

char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Header names and media types are case-insensitive ASCII.
bool ascii_istarts_with(std::string_view text, std::string_view lower_prefix) {
  if (text.size() < lower_prefix.size()) return false;
  for (size_t i = 0; i < lower_prefix.size(); ++i) {
    if (ascii_lower(text[i]) != lower_prefix[i]) return false;
  }
  return true;
}

bool ascii_iequals(std::string_view text, std::string_view lower) {
  return text.size() == lower.size() && ascii_istarts_with(text, lower);
}

bool is_ascii(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string_view json_type_name(dom::element_type type) {
  switch (type) {
    case dom::element_type::ARRAY: return "array";
    case dom::element_type::OBJECT: return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE: return "number";
    case dom::element_type::STRING: return "string";
    case dom::element_type::BOOL: return "boolean";
    case dom::element_type::NULL_VALUE: return "null";
  }
  return "unknown";
}

// --- context attributes ------------------------------------------------------

enum class Attribute : uint8_t { specversion, id, source, type, subject, time };
constexpr size_t kAttributeCount = 6;
constexpr std::array<std::string_view, kAttributeCount> kAttributeNames = {
    "specversion", "id", "source", "type", "subject", "time"};

// The context attributes as found in either content mode, not yet validated.
// Views point into the parser's document or the caller's header map.
struct Envelope {
  std::array<std::optional<std::string_view>, kAttributeCount> values;

  std::optional<std::string_view>& operator[](Attribute a) { return values[static_cast<size_t>(a)]; }
  const std::optional<std::string_view>& operator[](Attribute a) const {
    return values[static_cast<size_t>(a)];
  }
};

std::string_view attribute_name(Attribute a) { return kAttributeNames[static_cast<size_t>(a)]; }

// Length limits name the field and both sizes; the reason class is `attribute`.
Problem within_length(std::string_view prefix, std::string_view name, std::string_view value, size_t limit) {
  if (value.size() <= limit) return std::nullopt;
  return field_error(prefix, name,
                     "longer than " + std::to_string(limit) + " bytes (" + std::to_string(value.size()) + ")");
}

Problem required_attribute(const Envelope& envelope, Attribute a, std::string_view& out) {
  const auto& value = envelope[a];
  if (!value) return field_error("", attribute_name(a), "required string is missing");
  if (value->empty()) return field_error("", attribute_name(a), "required string is empty");
  out = *value;
  return std::nullopt;
}

std::string known_types_list() {
  std::string list;
  for (size_t i = 0; i < kEventTypeCount; ++i) {
    if (i > 0) list += ", ";
    list += to_string(static_cast<EventType>(i));
  }
  return list;
}

Problem validate_envelope(const Envelope& envelope, CaseEvent& event) {
  std::string_view value;
  if (auto p = required_attribute(envelope, Attribute::specversion, value)) return p;
  if (value != "1.0") {
    return field_error("", "specversion", "expected '1.0', got " + quoted(value));
  }

  if (auto p = required_attribute(envelope, Attribute::id, value)) return p;
  if (value.size() > kMaxEventIdChars) {
    return field_error("", "id",
                       "longer than " + std::to_string(kMaxEventIdChars) + " characters (" +
                           std::to_string(value.size()) + ")");
  }
  event.id = EventId{value};

  if (auto p = required_attribute(envelope, Attribute::source, value)) return p;
  if (auto p = within_length("", "source", value, kMaxSourceBytes)) return p;

  if (auto p = required_attribute(envelope, Attribute::type, value)) return p;
  std::optional<EventType> type;
  if (value.starts_with(kEventTypePrefix)) {
    type = event_type_from_name(value.substr(kEventTypePrefix.size()));
  }
  if (!type) {
    return field_error("", "type",
                       "unknown event type " + quoted(value) + " (expected " +
                           std::string(kEventTypePrefix) + "<" + known_types_list() + ">)");
  }
  event.type = *type;

  if (auto p = required_attribute(envelope, Attribute::subject, value)) return p;
  if (!is_valid_case_id(value)) {
    return field_error("", "subject",
                       "invalid case id " + quoted(value) +
                           " (expected 1-64 characters of A-Z a-z 0-9 . _ : -)");
  }
  event.case_id = CaseId{value};

  if (auto p = required_attribute(envelope, Attribute::time, value)) return p;
  auto time = parse_rfc3339(value);
  if (!time) return field_error("", "time", time.error().message);
  if (*time < kFirstEventTime || *time >= kEndOfEventTimes) {
    return field_error("", "time",
                       quoted(value) + " is outside the supported range (years 1900 to 2399)");
  }
  event.time = *time;
  return std::nullopt;
}

// --- data ----------------------------------------------------------------------

enum class DataField : uint8_t {
  category,
  priority,
  channel,
  district,
  summary,
  department,
  from_department,
  actor,
  reason,
  satisfied,
  score,
};
constexpr size_t kDataFieldCount = 11;

enum class ValueKind : uint8_t { text, priority, flag, score };

struct DataFieldInfo {
  std::string_view name;
  ValueKind kind;
  EventText CaseEvent::*target;  // where a text value goes; nullptr: validated, not kept
  size_t max_bytes = 0;            // text: the longest value accepted
};

constexpr std::array<DataFieldInfo, kDataFieldCount> kDataFields = {{
    {"category", ValueKind::text, &CaseEvent::category, kMaxNameBytes},
    {"priority", ValueKind::priority, &CaseEvent::priority, kMaxNameBytes},
    {"channel", ValueKind::text, &CaseEvent::channel, kMaxNameBytes},
    {"district", ValueKind::text, &CaseEvent::district, kMaxNameBytes},
    {"summary", ValueKind::text, nullptr, kMaxFreeTextBytes},
    {"department", ValueKind::text, &CaseEvent::department, kMaxNameBytes},
    {"from_department", ValueKind::text, &CaseEvent::from_department, kMaxNameBytes},
    {"actor", ValueKind::text, &CaseEvent::actor, kMaxNameBytes},
    {"reason", ValueKind::text, &CaseEvent::reason, kMaxFreeTextBytes},
    {"satisfied", ValueKind::flag, nullptr},
    {"score", ValueKind::score, nullptr},
}};

// Fields a type does not list are unknown extras for it: ignored, even when
// another type would give them a meaning.
enum class Presence : uint8_t { ignored, optional, required };
using DataSchema = std::array<Presence, kDataFieldCount>;

constexpr DataSchema schema_of(EventType type) {
  DataSchema s{};
  auto set = [&s](DataField f, Presence p) { s[static_cast<size_t>(f)] = p; };
  switch (type) {
    case EventType::created:
      set(DataField::category, Presence::required);
      set(DataField::priority, Presence::required);
      set(DataField::channel, Presence::required);
      set(DataField::district, Presence::optional);
      set(DataField::summary, Presence::optional);
      break;
    case EventType::dispatched:
    case EventType::acknowledged:
    case EventType::returned:
      set(DataField::department, Presence::required);
      set(DataField::from_department, Presence::optional);
      set(DataField::actor, Presence::optional);
      set(DataField::reason, Presence::optional);
      break;
    case EventType::suspended:
    case EventType::resumed:
    case EventType::reopened:
      set(DataField::reason, Presence::optional);
      break;
    case EventType::updated:
      set(DataField::category, Presence::optional);
      set(DataField::priority, Presence::optional);
      set(DataField::district, Presence::optional);
      break;
    case EventType::resolved:
      set(DataField::department, Presence::optional);
      set(DataField::actor, Presence::optional);
      break;
    case EventType::closed:
      break;
    case EventType::feedback:
      set(DataField::satisfied, Presence::required);
      set(DataField::score, Presence::optional);
      break;
  }
  return s;
}

constexpr std::array<DataSchema, kEventTypeCount> kSchemas = [] {
  std::array<DataSchema, kEventTypeCount> all{};
  for (size_t i = 0; i < kEventTypeCount; ++i) all[i] = schema_of(static_cast<EventType>(i));
  return all;
}();

constexpr std::string_view kDataPrefix = "data.";

bool is_priority(std::string_view v) { return v == "normal" || v == "urgent" || v == "emergency"; }

std::string describe_number(dom::element value) {
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  if (value.get(i) == simdjson::SUCCESS) return std::to_string(i);
  if (value.get(u) == simdjson::SUCCESS) return std::to_string(u);
  if (value.get(d) == simdjson::SUCCESS) {
    std::array<char, 32> buf{};
    std::snprintf(buf.data(), buf.size(), "%g", d);
    std::string text = buf.data();
    // 4.0 must not read as the integer 4 in "expected integer 1-5, got 4.0".
    if (text.find_first_of(".eni") == std::string::npos) text += ".0";
    return text;
  }
  return "number";
}

Problem take_data_field(const DataFieldInfo& info, Presence presence, dom::element value,
                        CaseEvent& event) {
  switch (info.kind) {
    case ValueKind::text:
    case ValueKind::priority: {
      std::string_view text;
      if (value.get(text) != simdjson::SUCCESS) {
        return field_error(kDataPrefix, info.name,
                           "expected string, got " + std::string(json_type_name(value.type())));
      }
      if (presence == Presence::required && text.empty()) {
        return field_error(kDataPrefix, info.name, "required string is empty");
      }
      if (auto p = within_length(kDataPrefix, info.name, text, info.max_bytes)) return p;
      if (info.kind == ValueKind::priority && !is_priority(text)) {
        return field_error(kDataPrefix, info.name,
                           "expected one of normal, urgent, emergency, got " + quoted(text));
      }
      if (info.target != nullptr) event.*info.target = text;
      return std::nullopt;
    }
    case ValueKind::flag: {
      bool flag = false;
      if (value.get(flag) != simdjson::SUCCESS) {
        return field_error(kDataPrefix, info.name,
                           "expected boolean, got " + std::string(json_type_name(value.type())));
      }
      event.satisfied = flag;
      return std::nullopt;
    }
    case ValueKind::score: {
      int64_t score = 0;
      if (value.get(score) != simdjson::SUCCESS || score < 1 || score > 5) {
        const bool is_number = value.is_number();
        return field_error(kDataPrefix, info.name,
                           "expected integer 1-5, got " +
                               (is_number ? describe_number(value)
                                          : std::string(json_type_name(value.type()))));
      }
      event.score = static_cast<int>(score);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// `data` as found in either content mode (absent, or any JSON value).
Problem validate_data(std::optional<dom::element> data, CaseEvent& event) {
  if (!data) return field_error("", "data", "required object is missing");
  dom::object object;
  if (data->get(object) != simdjson::SUCCESS) {
    return field_error("", "data",
                       "expected object, got " + std::string(json_type_name(data->type())));
  }

  std::array<dom::element, kDataFieldCount> values;
  std::bitset<kDataFieldCount> present;
  for (const dom::key_value_pair field : object) {
    for (size_t i = 0; i < kDataFieldCount; ++i) {
      if (!same_key(kDataFields[i].name, field.key)) continue;
      if (present.test(i)) {
        return field_error(kDataPrefix, kDataFields[i].name, "appears more than once");
      }
      // A JSON null is how many producers write "not set".
      if (!field.value.is_null()) {
        present.set(i);
        values[i] = field.value;
      }
      break;
    }
  }

  const DataSchema& schema = kSchemas[static_cast<size_t>(event.type)];
  for (size_t i = 0; i < kDataFieldCount; ++i) {
    const Presence presence = schema[i];
    if (presence == Presence::ignored) continue;
    if (!present.test(i)) {
      if (presence == Presence::required) {
        const std::string_view what =
            kDataFields[i].kind == ValueKind::flag ? "required boolean is missing"
                                                   : "required string is missing";
        return field_error(kDataPrefix, kDataFields[i].name, what);
      }
      continue;
    }
    if (auto p = take_data_field(kDataFields[i], presence, values[i], event)) return p;
  }
  return std::nullopt;
}

// The one validator behind both content modes. The event is filled in place
// inside the result so the accepted path moves no strings.
Result<CaseEvent> validate(const Envelope& envelope, std::optional<dom::element> data) {
  Result<CaseEvent> result{CaseEvent{}};
  if (auto p = validate_envelope(envelope, result.value())) return std::move(*p);
  if (auto p = validate_data(data, result.value())) return std::move(*p);
  return result;
}


Error invalid_json(simdjson::error_code error) {
  return Error{std::string("invalid JSON: ") + simdjson::error_message(error)};
}

}  // namespace

std::string oversize_reason(uint64_t size, size_t limit, size_t kept) {
  std::string reason = "record too large (" + std::to_string(size) + " bytes, limit " + std::to_string(limit) + ")";
  if (kept < size) reason += "; the dead letter keeps its first " + std::to_string(kept) + " bytes";
  return reason;
}

struct CloudEventParser::Impl {
  explicit Impl(size_t max_bytes) : max_record_bytes(max_bytes), json(max_bytes) {}

  Error too_large(size_t bytes) const { return Error{oversize_reason(bytes, max_record_bytes, bytes)}; }

  size_t max_record_bytes;
  // Reused across records: its document, tape and padded copy of the input
  // grow to the largest record seen and then stop allocating.
  dom::parser json;

  simdjson::simdjson_result<dom::element> parse_json(std::string_view bytes) {
    // realloc_if_needed: copy into the parser's own padded buffer, since the
    // caller's bytes (a Kafka payload, a line buffer) carry no padding.
    return json.parse(bytes.data(), bytes.size(), /*realloc_if_needed=*/true);
  }
};

CloudEventParser::CloudEventParser(size_t max_record_bytes) : impl_(std::make_unique<Impl>(max_record_bytes)) {}
CloudEventParser::~CloudEventParser() = default;

Result<CaseEvent> CloudEventParser::parse(std::string_view bytes) {
  if (bytes.size() > impl_->max_record_bytes) return impl_->too_large(bytes.size());
  dom::element root;
  if (auto error = impl_->parse_json(bytes).get(root)) return invalid_json(error);
  dom::object object;
  if (root.get(object) != simdjson::SUCCESS) {
    return Error{"record is not a JSON object (got " + std::string(json_type_name(root.type())) +
                 ")"};
  }

  Envelope envelope;
  std::optional<dom::element> data;
  for (const dom::key_value_pair field : object) {
    if (same_key("data", field.key)) {
      if (data) return field_error("", "data", "appears more than once");
      if (!field.value.is_null()) data = field.value;
      continue;
    }
    for (size_t i = 0; i < kAttributeCount; ++i) {
      if (!same_key(kAttributeNames[i], field.key)) continue;
      auto& slot = envelope.values[i];
      if (slot) return field_error("", kAttributeNames[i], "appears more than once");
      if (field.value.is_null()) break;
      std::string_view text;
      if (field.value.get(text) != simdjson::SUCCESS) {
        return field_error("", kAttributeNames[i],
                           "expected string, got " +
                               std::string(json_type_name(field.value.type())));
      }
      slot = text;
      break;
    }
  }
  return validate(envelope, data);
}

Result<CaseEvent> CloudEventParser::parse_binary(
    const std::map<std::string, std::string>& ce_attributes, std::string_view data_bytes) {
  if (data_bytes.size() > impl_->max_record_bytes) return impl_->too_large(data_bytes.size());
  Envelope envelope;
  // One pass over the headers: the map's comparator is not transparent, so a
  // find() per attribute would build a std::string key each time.
  for (const auto& [key, value] : ce_attributes) {
    for (size_t i = 0; i < kAttributeCount; ++i) {
      if (!same_key(kAttributeNames[i], key)) continue;
      // Headers are raw bytes (JSON input was already checked by simdjson), and
      // everything downstream writes these values back out as JSON.
      if (!is_ascii(value) && !simdjson::validate_utf8(value.data(), value.size())) {
        return field_error("", kAttributeNames[i], "not valid UTF-8");
      }
      envelope.values[i] = std::string_view(value);
      break;
    }
  }

  std::optional<dom::element> data;
  if (!data_bytes.empty()) {
    dom::element root;
    if (auto error = impl_->parse_json(data_bytes).get(root)) return invalid_json(error);
    if (!root.is_null()) data = root;
  }
  return validate(envelope, data);
}

bool is_valid_case_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxCaseIdChars) return false;
  for (const char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<CaseEvent> parse_record(CloudEventParser& parser, std::string_view bytes,
                               const RecordHeaders& headers) {
  if (headers.empty()) return parser.parse(bytes);
  std::map<std::string, std::string> ce_attributes;
  bool structured = false;
  for (const auto& header : headers) {
    if (ascii_iequals(header.name, "content-type")) {
      structured = ascii_istarts_with(header.value, "application/cloudevents");
    } else if (header.name.starts_with("ce_")) {
      ce_attributes.emplace(header.name.substr(3), header.value);
    }
  }
  if (structured || ce_attributes.empty()) return parser.parse(bytes);
  return parser.parse_binary(ce_attributes, bytes);
}

}  // namespace slawatch
