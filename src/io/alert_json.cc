#include "io/alert_json.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <initializer_list>

#include <rapidjson/document.h>
#include <rapidjson/internal/dtoa.h>
#include <simdjson.h>

namespace slawatch {
namespace {

std::string base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTable[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string_view or_unassigned(const std::string& department) {
  return department.empty() ? std::string_view("unassigned") : std::string_view(department);
}

bool is_utf8(std::string_view text) { return simdjson::validate_utf8(text.data(), text.size()); }

// JSON string escaping with size_t arithmetic throughout, for text of any
// length. Escapes as RapidJSON's writer does (short escapes, \u00XX in upper
// case for other control characters, '/' as is), which earlier releases used:
// an alert event keeps the bytes it always had.
void append_json_escaped(std::string& out, std::string_view utf8) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : utf8) {
    const auto byte = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (byte < 0x20) {
          out += "\\u00";
          out.push_back(kHex[byte >> 4]);
          out.push_back(kHex[byte & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
}

void append_json_string(std::string& out, std::string_view utf8) {
  out.push_back('"');
  append_json_escaped(out, utf8);
  out.push_back('"');
}

// Reason and origin are ours, but an origin names a file and file names are bytes.
std::string as_utf8(std::string_view text) {
  if (is_utf8(text)) return std::string(text);
  std::string out;
  for (const char c : text) out.push_back(static_cast<unsigned char>(c) < 0x80 ? c : '?');
  return out;
}

struct TextScan {
  bool plain;  // no byte JSON must escape: below 0x20, '"', '\\'
  bool ascii;  // every byte below 0x80
};

// Eight bytes at a time: alert texts are ids, names and timestamps, and the
// byte-by-byte scan was the largest part of writing an alert. A text of eight
// bytes or more ends with a word that overlaps the one before, so no byte is
// left for a byte-by-byte tail. Each word test has no false negatives for
// "some byte is": from an unclean word on, the text is rescanned byte by
// byte, so the answers are exact.
TextScan scan_text(std::string_view text) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  const auto has_zero_byte = [](uint64_t v) { return ((v - kOnes) & ~v & kHigh) != 0; };
  const auto clean_word_at = [&](size_t at) {
    uint64_t word;
    std::memcpy(&word, text.data() + at, 8);
    const bool high = (word & kHigh) != 0;
    // With no high bit set, a byte below 0x20 is one whose value minus 0x20 borrows.
    const bool control = ((word - 0x20 * kOnes) & ~word & kHigh) != 0;
    return !(high || control || has_zero_byte(word ^ ('"' * kOnes)) || has_zero_byte(word ^ ('\\' * kOnes)));
  };
  size_t exact_from = 0;
  if (text.size() >= 8) {
    size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
      if (!clean_word_at(i)) break;
    }
    if (i == text.size()) return {true, true};
    const size_t last = text.size() - 8;
    if (i + 8 > text.size() && clean_word_at(last)) return {true, true};
    exact_from = std::min(i, last);
  }
  TextScan scan{true, true};
  for (const char c : text.substr(exact_from)) {
    const auto byte = static_cast<unsigned char>(c);
    scan.plain &= byte >= 0x20 && c != '"' && c != '\\';
    scan.ascii &= byte < 0x80;
  }
  return scan;
}

// One JSON object of known shape written straight into a string: alerts go
// out once per breach, and a general-purpose writer (RapidJSON's, with its
// per-character encoding checks) was 7 % of replay's profile. Texts are
// almost always plain ASCII with nothing to escape, and are then copied as
// they are. Case fields arrive validated as UTF-8, but rule and roster texts
// are only what YAML gave: a text that is not UTF-8 goes out with its
// non-ASCII bytes as '?', so the event stays valid JSON.
//
// Bytes go through a cursor into a buffer sized ahead, one room check per
// field: through std::string's push_back and append (a capacity check and a
// call per character or piece) the same alert took three times the
// instructions, a tenth of plain replay.
class JsonObjectWriter {
 public:
  explicit JsonObjectWriter(size_t expected_bytes) {
    out_.resize(std::max<size_t>(expected_bytes, 64));
    *room(1) = '{';
    size_ = 1;
  }

  void text(std::string_view key, std::string_view value) { text(key, {value}); }
  // One string from several parts, with no string of its own to build first.
  void text(std::string_view key, std::initializer_list<std::string_view> parts) {
    name(key, 1);
    put('"');
    for (const std::string_view part : parts) append_text_body(part);
    put('"');
  }
  void time(std::string_view key, Instant t) {
    char* p = name(key, kMaxRfc3339Chars + 2);
    *p++ = '"';
    p += write_rfc3339_utc(p, t);
    *p++ = '"';
    size_ = static_cast<size_t>(p - out_.data());
  }
  void integer(std::string_view key, int64_t value) {
    char* p = name(key, 24);
    size_ = static_cast<size_t>(std::to_chars(p, p + 24, value).ptr - out_.data());
  }
  // As RapidJSON's Writer::Double wrote it (Grisu2, shortest round trip,
  // ".0" kept on whole numbers), so the bytes stay the same.
  void number(std::string_view key, double value) {
    char* p = name(key, 32);
    size_ = static_cast<size_t>(rapidjson::internal::dtoa(value, p) - out_.data());
  }
  void boolean(std::string_view key, bool value) {
    name(key, 5);
    append_raw(value ? "true" : "false");
  }
  void null(std::string_view key) {
    name(key, 4);
    append_raw("null");
  }
  void open_object(std::string_view key) {
    name(key, 1);
    put('{');
    need_comma_ = false;
  }
  void open_array(std::string_view key) {
    name(key, 1);
    put('[');
    need_comma_ = false;
  }
  void open_element_object() {
    if (need_comma_) put(',');
    put('{');
    need_comma_ = false;
  }
  void close_object() {
    put('}');
    need_comma_ = true;
  }
  void close_array() {
    put(']');
    need_comma_ = true;
  }
  std::string finish() && {
    put('}');
    out_.resize(size_);
    return std::move(out_);
  }

 private:
  // Room for `n` more bytes at the cursor; returns the cursor. Growing is out
  // of line, so that this check inlines into every write.
  char* room(size_t n) {
    if (out_.size() - size_ < n) [[unlikely]] grow(n);
    return out_.data() + size_;
  }
  [[gnu::noinline]] void grow(size_t n) { out_.resize(std::max(out_.size() * 2, size_ + n)); }
  void put(char c) {
    *room(1) = c;
    ++size_;
  }
  void append_raw(std::string_view text) {
    std::memcpy(room(text.size()), text.data(), text.size());
    size_ += text.size();
  }
  // Writes `,"key":` and returns the cursor after it, with room for `value_bytes` more.
  // Keys are this file's constants: nothing in them to escape.
  char* name(std::string_view key, size_t value_bytes) {
    char* p = room(key.size() + 4 + value_bytes);
    if (need_comma_) *p++ = ',';
    need_comma_ = true;
    *p++ = '"';
    std::memcpy(p, key.data(), key.size());
    p += key.size();
    *p++ = '"';
    *p++ = ':';
    size_ = static_cast<size_t>(p - out_.data());
    return p;
  }
  void append_text_body(std::string_view value) {
    const auto [plain, ascii] = scan_text(value);
    if (plain && ascii) {
      append_raw(value);
      return;
    }
    // Rare: something to escape or bytes beyond ASCII.
    std::string escaped;
    if (ascii || is_utf8(value)) {
      append_json_escaped(escaped, value);
    } else {
      append_json_escaped(escaped, as_utf8(value));
    }
    append_raw(escaped);
  }

  std::string out_;  // the object so far is its first size_ bytes
  size_t size_ = 0;
  bool need_comma_ = false;
};

}  // namespace

std::string encode_case_event(const CaseEvent& event) {
  JsonObjectWriter w(320);
  w.text("specversion", "1.0");
  w.text("id", event.id.str());
  w.text("source", "/slawatch/case-log (original source not kept)");
  w.text("type", {kEventTypePrefix, to_string(event.type)});
  w.text("subject", event.case_id.str());
  w.time("time", event.time);
  w.open_object("data");
  const std::pair<std::string_view, const EventText*> texts[] = {
      {"category", &event.category}, {"priority", &event.priority},   {"channel", &event.channel},
      {"district", &event.district},  {"department", &event.department}, {"from_department", &event.from_department},
      {"actor", &event.actor},        {"reason", &event.reason},
  };
  for (const auto& [name, value] : texts) {
    if (!value->empty()) w.text(name, *value);
  }
  if (event.satisfied) w.boolean("satisfied", *event.satisfied);
  if (event.score) w.integer("score", *event.score);
  w.close_object();
  return std::move(w).finish();
}

std::string encode_alert_cloudevent(const Alert& alert, std::string_view source) {
  const std::string_view kind = to_string(alert.kind);
  JsonObjectWriter w(512 + alert.notify.size() * 64);
  w.text("specversion", "1.0");
  // Deterministic: the same alert event found again (after a crash, say) gets
  // the same id. The due time is part of it because a retracted stage can
  // fire again under the same alert_id with a different due time, and that
  // is a different event that a consumer must not drop as a duplicate.
  char due_digits[24];
  const char* due_end = std::to_chars(due_digits, due_digits + sizeof due_digits, to_millis(alert.due_at)).ptr;
  w.text("id", {alert.alert_id, "/", kind, "/", std::string_view(due_digits, static_cast<size_t>(due_end - due_digits))});
  w.text("source", source);
  w.text("type", {"slawatch.alert.", kind});
  w.text("subject", alert.case_id.str());
  w.time("time", alert.emitted_at);
  w.text("datacontenttype", "application/json");
  w.open_object("data");
  w.text("alert_id", alert.alert_id);
  w.text("case_id", alert.case_id.str());
  w.text("rule", alert.rule.str());
  w.integer("cycle", alert.cycle);
  w.text("stage", alert.stage);
  w.text("severity", alert.severity);
  w.text("department", or_unassigned(alert.department));
  w.time("due_at", alert.due_at);
  w.text("rule_version", alert.rule_version);
  switch (alert.kind) {
    case AlertKind::fired:
      w.time("fired_at", alert.fired_at);
      w.time("started_at", alert.started_at);
      w.open_array("notify");
      for (const auto& target : alert.notify) {
        w.open_element_object();
        w.text("role", target.role);
        if (target.person.empty()) {
          w.null("person");
        } else {
          w.text("person", target.person);
        }
        w.close_object();
      }
      w.close_array();
      break;
    case AlertKind::resolved:
      w.time("closed_at", *alert.closed_at);
      w.number("overdue_seconds", static_cast<double>((*alert.closed_at - alert.due_at).count()) / 1000.0);
      break;
    case AlertKind::retracted:
      if (alert.closed_at) {
        w.time("closed_at", *alert.closed_at);
      } else {
        w.null("closed_at");
      }
      w.text("reason", alert.reason);
      if (alert.event_id.empty()) {
        w.null("event_id");
      } else {
        w.text("event_id", alert.event_id.str());
      }
      break;
  }
  w.close_object();
  return std::move(w).finish();
}

std::string encode_dead_letter(std::string_view original, std::string_view reason, std::string_view origin,
                               std::optional<uint64_t> original_size) {
  const bool utf8 = is_utf8(original);
  std::string out;
  out.reserve(64 + reason.size() + origin.size() + (utf8 ? original.size() : original.size() / 3 * 4 + 4));
  out += "{\"reason\":";
  append_json_string(out, as_utf8(reason));
  out += ",\"origin\":";
  append_json_string(out, as_utf8(origin));
  if (original_size) {
    // Only the first bytes of an oversize record travel; say how big it was.
    out += ",\"original_size\":";
    out += std::to_string(*original_size);
  }
  if (utf8) {
    out += ",\"original\":";
    append_json_string(out, original);
  } else {
    // Invalid UTF-8 cannot travel in a JSON string; keep the bytes exactly.
    out += ",\"original_base64\":\"";
    out += base64(original);
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace slawatch

namespace slawatch {
namespace {

using JsonValue = rapidjson::Value;

Result<std::string> string_field(const JsonValue& object, const char* name) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || !it->value.IsString()) {
    return make_error(std::string("alert field '") + name + "' is missing or not a string");
  }
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Result<Instant> time_field(const JsonValue& object, const char* name) {
  auto text = string_field(object, name);
  if (!text.ok()) return text.error();
  auto parsed = parse_rfc3339(*text);
  if (!parsed.ok()) return make_error(std::string("alert field '") + name + "': " + parsed.error().message);
  return *parsed;
}

bool is_null(const JsonValue& object, const char* name) {
  auto it = object.FindMember(name);
  return it == object.MemberEnd() || it->value.IsNull();
}

}  // namespace

Result<Alert> decode_alert_cloudevent(std::string_view json) {
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsObject()) return make_error("alert is not a JSON object");
  Alert alert;
  auto type = string_field(document, "type");
  if (!type.ok()) return type.error();
  if (*type == "slawatch.alert.fired") alert.kind = AlertKind::fired;
  else if (*type == "slawatch.alert.resolved") alert.kind = AlertKind::resolved;
  else if (*type == "slawatch.alert.retracted") alert.kind = AlertKind::retracted;
  else return make_error("not an alert type: '" + *type + "'");
  auto emitted = time_field(document, "time");
  if (!emitted.ok()) return emitted.error();
  alert.emitted_at = *emitted;
  auto data_it = document.FindMember("data");
  if (data_it == document.MemberEnd() || !data_it->value.IsObject()) return make_error("alert has no data object");
  const JsonValue& data = data_it->value;

  for (auto [name, target] : {std::pair{"alert_id", &alert.alert_id}, std::pair{"stage", &alert.stage},
                              std::pair{"severity", &alert.severity}, std::pair{"department", &alert.department},
                              std::pair{"rule_version", &alert.rule_version}}) {
    auto value = string_field(data, name);
    if (!value.ok()) return value.error();
    *target = std::move(value).value();
  }
  auto case_id = string_field(data, "case_id");
  if (!case_id.ok()) return case_id.error();
  alert.case_id = CaseId(std::move(case_id).value());
  auto rule = string_field(data, "rule");
  if (!rule.ok()) return rule.error();
  alert.rule = RuleId(std::move(rule).value());
  auto cycle = data.FindMember("cycle");
  if (cycle == data.MemberEnd() || !cycle->value.IsInt()) return make_error("alert field 'cycle' is not an integer");
  alert.cycle = cycle->value.GetInt();
  auto due = time_field(data, "due_at");
  if (!due.ok()) return due.error();
  alert.due_at = *due;

  switch (alert.kind) {
    case AlertKind::fired: {
      auto fired = time_field(data, "fired_at");
      if (!fired.ok()) return fired.error();
      alert.fired_at = *fired;
      auto started = time_field(data, "started_at");
      if (!started.ok()) return started.error();
      alert.started_at = *started;
      auto notify = data.FindMember("notify");
      if (notify == data.MemberEnd() || !notify->value.IsArray()) return make_error("alert field 'notify' is not a list");
      for (const auto& target : notify->value.GetArray()) {
        if (!target.IsObject()) return make_error("alert field 'notify' holds a non-object");
        auto role = string_field(target, "role");
        if (!role.ok()) return role.error();
        NotifyTarget decoded{std::move(role).value(), ""};
        if (!is_null(target, "person")) {
          auto person = string_field(target, "person");
          if (!person.ok()) return person.error();
          decoded.person = std::move(person).value();
        }
        alert.notify.push_back(std::move(decoded));
      }
      break;
    }
    case AlertKind::resolved: {
      auto closed = time_field(data, "closed_at");
      if (!closed.ok()) return closed.error();
      alert.closed_at = *closed;
      break;
    }
    case AlertKind::retracted: {
      if (!is_null(data, "closed_at")) {
        auto closed = time_field(data, "closed_at");
        if (!closed.ok()) return closed.error();
        alert.closed_at = *closed;
      }
      auto reason = string_field(data, "reason");
      if (!reason.ok()) return reason.error();
      alert.reason = std::move(reason).value();
      if (!is_null(data, "event_id")) {
        auto event_id = string_field(data, "event_id");
        if (!event_id.ok()) return event_id.error();
        alert.event_id = EventId(std::move(event_id).value());
      }
      break;
    }
  }
  return alert;
}

}  // namespace slawatch
