#include "state/alert_index_value.h"

#include "io/alert_json.h"

namespace slawatch {
namespace {

// Legacy values start with their state (0-2); a compact one with this tag.
constexpr uint8_t kCompactFormat = 0x10;

AlertIndexEntry::State index_state(AlertKind kind) {
  switch (kind) {
    case AlertKind::fired: return AlertIndexEntry::State::firing;
    case AlertKind::resolved: return AlertIndexEntry::State::resolved;
    case AlertKind::retracted: return AlertIndexEntry::State::retracted;
  }
  return AlertIndexEntry::State::firing;
}

void put_instant(std::string& out, Instant t) { codec::put_signed(out, to_millis(t)); }

bool read_instant(codec::Reader& in, Instant& t) {
  int64_t ms = 0;
  if (!in.signed_varint(ms)) return false;
  t = from_millis(ms);
  return true;
}

// Only what encode_alert_cloudevent writes for the alert's kind is kept.
std::optional<IndexedAlert> read_compact(codec::Reader& in) {
  IndexedAlert indexed;
  Alert& a = indexed.alert;
  uint8_t kind = 0;
  std::string case_id, rule, event_id;
  int64_t cycle = 0;
  if (!in.byte(kind) || kind > static_cast<uint8_t>(AlertKind::retracted) || !in.string(indexed.source) ||
      !in.string(case_id) || !in.string(rule) || !in.signed_varint(cycle) || !in.string(a.stage) ||
      !in.string(a.severity) || !in.string(a.department) || !read_instant(in, a.due_at) ||
      !in.string(a.rule_version) || !read_instant(in, a.emitted_at)) {
    return std::nullopt;
  }
  a.kind = static_cast<AlertKind>(kind);
  a.case_id = CaseId{std::move(case_id)};
  a.rule = RuleId{std::move(rule)};
  a.cycle = static_cast<int>(cycle);
  switch (a.kind) {
    case AlertKind::fired: {
      uint64_t targets = 0;
      if (!read_instant(in, a.fired_at) || !read_instant(in, a.started_at) || !in.varint(targets)) return std::nullopt;
      for (uint64_t i = 0; i < targets; ++i) {
        NotifyTarget target;
        if (!in.string(target.role) || !in.string(target.person)) return std::nullopt;
        a.notify.push_back(std::move(target));
      }
      break;
    }
    case AlertKind::resolved: {
      Instant closed;
      if (!read_instant(in, closed)) return std::nullopt;
      a.closed_at = closed;
      break;
    }
    case AlertKind::retracted: {
      uint8_t has_closed = 0;
      if (!in.byte(has_closed) || has_closed > 1) return std::nullopt;
      if (has_closed == 1) {
        Instant closed;
        if (!read_instant(in, closed)) return std::nullopt;
        a.closed_at = closed;
      }
      if (!in.string(a.reason) || !in.string(event_id)) return std::nullopt;
      a.event_id = EventId{std::move(event_id)};
      break;
    }
  }
  if (!in.done()) return std::nullopt;
  a.alert_id = make_alert_id(a.case_id, a.rule, a.cycle, a.stage);
  return indexed;
}

}  // namespace

std::string encode_alert_index_value(const IndexedAlert& indexed) {
  return encode_alert_index_value(indexed.alert, indexed.source);
}

std::string encode_alert_index_value(const Alert& a, std::string_view source) {
  std::string out;
  out.reserve(160);
  out.push_back(static_cast<char>(kCompactFormat));
  out.push_back(static_cast<char>(a.kind));
  codec::put_string(out, source);
  codec::put_string(out, a.case_id.str());
  codec::put_string(out, a.rule.str());
  codec::put_signed(out, a.cycle);
  codec::put_string(out, a.stage);
  codec::put_string(out, a.severity);
  codec::put_string(out, a.department);
  put_instant(out, a.due_at);
  codec::put_string(out, a.rule_version);
  put_instant(out, a.emitted_at);
  switch (a.kind) {
    case AlertKind::fired:
      put_instant(out, a.fired_at);
      put_instant(out, a.started_at);
      codec::put_varint(out, a.notify.size());
      for (const auto& target : a.notify) {
        codec::put_string(out, target.role);
        codec::put_string(out, target.person);
      }
      break;
    case AlertKind::resolved:
      put_instant(out, a.closed_at.value_or(a.due_at));
      break;
    case AlertKind::retracted:
      out.push_back(a.closed_at ? 1 : 0);
      if (a.closed_at) put_instant(out, *a.closed_at);
      codec::put_string(out, a.reason);
      codec::put_string(out, a.event_id.str());
      break;
  }
  return out;
}

std::optional<AlertIndexEntry::State> alert_index_state(std::string_view value) {
  if (value.empty()) return std::nullopt;
  const auto format = static_cast<uint8_t>(value[0]);
  if (format == kCompactFormat) {
    if (value.size() < 2 || static_cast<uint8_t>(value[1]) > static_cast<uint8_t>(AlertKind::retracted)) {
      return std::nullopt;
    }
    return index_state(static_cast<AlertKind>(value[1]));
  }
  if (format > static_cast<uint8_t>(AlertIndexEntry::State::retracted)) return std::nullopt;
  return static_cast<AlertIndexEntry::State>(format);
}

std::optional<std::string> alert_cloudevent_of(std::string_view value) {
  if (value.empty() || static_cast<uint8_t>(value[0]) != kCompactFormat) return std::nullopt;
  codec::Reader in(value.substr(1));
  auto indexed = read_compact(in);
  if (!indexed) return std::nullopt;
  return encode_alert_cloudevent(indexed->alert, indexed->source);
}

Result<AlertIndexEntry> decode_alert_index_entry(std::string_view alert_id, std::string_view value) {
  auto corrupt = [&] { return make_error("corrupt alert index entry '" + std::string(alert_id) + "'"); };
  if (value.empty()) return corrupt();
  AlertIndexEntry entry;
  entry.alert_id = std::string(alert_id);
  const auto format = static_cast<uint8_t>(value[0]);
  codec::Reader in(value.substr(1));
  if (format == kCompactFormat) {
    auto indexed = read_compact(in);
    if (!indexed || indexed->alert.alert_id != alert_id) return corrupt();
    entry.state = index_state(indexed->alert.kind);
    entry.department = indexed->alert.department;
    entry.event = encode_alert_cloudevent(indexed->alert, indexed->source);
    return entry;
  }
  if (format > static_cast<uint8_t>(AlertIndexEntry::State::retracted)) return corrupt();
  entry.state = static_cast<AlertIndexEntry::State>(format);
  if (!in.string(entry.department)) return corrupt();
  entry.event = std::string(in.rest());
  return entry;
}

}  // namespace slawatch
