#include "state/case_record.h"

#include <algorithm>

#include "model/hash.h"

namespace slawatch {

bool CaseRecord::has_event(const EventId& id) const {
  return std::any_of(events.begin(), events.end(), [&](const CaseEvent& e) { return e.id == id; });
}

const CaseEvent* CaseRecord::find_event(const EventId& id) const {
  auto it = std::find_if(events.begin(), events.end(), [&](const CaseEvent& e) { return e.id == id; });
  return it != events.end() ? &*it : nullptr;
}

CaseEvent CaseRecord::remove(const EventId& id) {
  auto it = std::find_if(events.begin(), events.end(), [&](const CaseEvent& e) { return e.id == id; });
  CaseEvent removed = std::move(*it);
  events.erase(it);
  return removed;
}

bool CaseRecord::insert(CaseEvent&& event) {
  if (has_event(event.id)) return false;
  // Most cases end with 5-8 events: one allocation instead of growing 1, 2, 4, 8
  // (each growth moves every event's strings).
  if (events.capacity() == 0) events.reserve(8);
  auto pos = std::upper_bound(events.begin(), events.end(), event, event_order_less);
  events.insert(pos, std::move(event));
  return true;
}

namespace codec {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_signed(std::string& out, int64_t v) {
  put_varint(out, (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out.append(s);
}

bool Reader::varint(uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64 && pos_ < bytes_.size(); shift += 7) {
    const auto b = static_cast<uint8_t>(bytes_[pos_++]);
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

bool Reader::signed_varint(int64_t& v) {
  uint64_t u = 0;
  if (!varint(u)) return false;
  v = static_cast<int64_t>((u >> 1) ^ (~(u & 1) + 1));
  return true;
}

bool Reader::string(std::string& s) {
  uint64_t n = 0;
  if (!varint(n) || n > bytes_.size() - pos_) return false;
  s.assign(bytes_.substr(pos_, n));
  pos_ += n;
  return true;
}

bool Reader::string(EventText& s) {
  uint64_t n = 0;
  if (!varint(n) || n > bytes_.size() - pos_) return false;
  s = bytes_.substr(pos_, n);
  pos_ += n;
  return true;
}

bool Reader::byte(uint8_t& b) {
  if (pos_ >= bytes_.size()) return false;
  b = static_cast<uint8_t>(bytes_[pos_++]);
  return true;
}

}  // namespace codec

namespace {

// Format 1 had no mark departments and no cycle marks; it is still read.
constexpr uint8_t kRecordFormat = 2;

// Optional event fields, in the order of their presence bits.
constexpr EventText CaseEvent::* kOptionalFields[] = {
    &CaseEvent::category, &CaseEvent::priority,        &CaseEvent::channel, &CaseEvent::district,
    &CaseEvent::department, &CaseEvent::from_department, &CaseEvent::actor,  &CaseEvent::reason,
};
constexpr uint64_t kSatisfiedPresent = 1u << 8;
constexpr uint64_t kSatisfiedTrue = 1u << 9;
constexpr uint64_t kScorePresent = 1u << 10;

void encode_event(std::string& out, const CaseEvent& e) {
  codec::put_string(out, e.id.str());
  out.push_back(static_cast<char>(e.type));
  codec::put_signed(out, to_millis(e.time));
  uint64_t present = 0;
  for (size_t i = 0; i < std::size(kOptionalFields); ++i) {
    if (!(e.*kOptionalFields[i]).empty()) present |= 1u << i;
  }
  if (e.satisfied) present |= kSatisfiedPresent | (*e.satisfied ? kSatisfiedTrue : 0);
  if (e.score) present |= kScorePresent;
  codec::put_varint(out, present);
  for (size_t i = 0; i < std::size(kOptionalFields); ++i) {
    if (present & (1u << i)) codec::put_string(out, e.*kOptionalFields[i]);
  }
  if (e.score) codec::put_signed(out, *e.score);
}

bool decode_event(codec::Reader& in, CaseEvent& e) {
  std::string id;
  uint8_t type = 0;
  int64_t time = 0;
  uint64_t present = 0;
  if (!in.string(id) || !in.byte(type) || type >= kEventTypeCount || !in.signed_varint(time) ||
      !in.varint(present)) {
    return false;
  }
  e.id = EventId{std::move(id)};
  e.type = static_cast<EventType>(type);
  e.time = from_millis(time);
  for (size_t i = 0; i < std::size(kOptionalFields); ++i) {
    if ((present & (1u << i)) && !in.string(e.*kOptionalFields[i])) return false;
  }
  if (present & kSatisfiedPresent) e.satisfied = (present & kSatisfiedTrue) != 0;
  if (present & kScorePresent) {
    int64_t score = 0;
    if (!in.signed_varint(score)) return false;
    e.score = static_cast<int>(score);
  }
  return true;
}

std::string encoded_event(const CaseEvent& e) {
  std::string out;
  encode_event(out, e);
  return out;
}

}  // namespace

bool same_content(const CaseEvent& a, const CaseEvent& b) { return encoded_event(a) == encoded_event(b); }

bool CaseRecord::keeps_stored(const CaseEvent& stored, const CaseEvent& incoming) {
  const std::string a = encoded_event(stored);
  const std::string b = encoded_event(incoming);
  const uint64_t ha = fnv1a64(a);
  const uint64_t hb = fnv1a64(b);
  return ha != hb ? ha < hb : a <= b;
}

namespace {

// Everything after the events: marks, timer, cycle marks.
void encode_record_tail(std::string& out, const CaseRecord& record) {
  codec::put_varint(out, record.marks.size());
  for (const auto& m : record.marks) {
    codec::put_string(out, m.rule.str());
    codec::put_varint(out, static_cast<uint64_t>(m.cycle));
    codec::put_string(out, m.stage);
    codec::put_signed(out, to_millis(m.due_at));
    out.push_back(m.resolved ? 1 : 0);
    codec::put_string(out, m.department);
  }
  out.push_back(record.timer_due ? 1 : 0);
  if (record.timer_due) codec::put_signed(out, to_millis(*record.timer_due));
  codec::put_varint(out, record.cycles.size());
  for (const auto& c : record.cycles) {
    codec::put_string(out, c.rule.str());
    codec::put_varint(out, static_cast<uint64_t>(c.cycle));
    codec::put_signed(out, to_millis(c.started_at));
    codec::put_string(out, c.department);
    out.push_back(static_cast<char>((c.closed ? 1 : 0) | (c.breached ? 2 : 0)));
    codec::put_signed(out, c.elapsed.count());
  }
}

}  // namespace

std::string encode_case_record(const CaseRecord& record) {
  EncodedLogPrefix prefix;
  return encode_case_record(record, prefix);
}

std::string encode_case_record(const CaseRecord& record, EncodedLogPrefix& prefix) {
  if (prefix.events > record.events.size()) prefix.reset();  // the log shrank: nothing of it can be trusted
  for (; prefix.events < record.events.size(); ++prefix.events) encode_event(prefix.bytes, record.events[prefix.events]);
  std::string out;
  out.reserve(16 + prefix.bytes.size() + record.marks.size() * 64 + record.cycles.size() * 48);
  out.push_back(static_cast<char>(kRecordFormat));
  codec::put_varint(out, record.events.size());
  out += prefix.bytes;
  encode_record_tail(out, record);
  return out;
}

Result<CaseRecord> decode_case_record(std::string_view bytes, const CaseId& case_id) {
  EncodedLogPrefix unused;
  return decode_case_record(bytes, case_id, unused);
}

Result<CaseRecord> decode_case_record(std::string_view bytes, const CaseId& case_id, EncodedLogPrefix& prefix) {
  prefix.reset();
  auto corrupt = [&](std::string_view what) {
    return make_error("corrupt state record for case '" + std::string(case_id.str()) + "': " + std::string(what));
  };
  codec::Reader in(bytes);
  uint8_t format = 0;
  if (!in.byte(format) || format < 1 || format > kRecordFormat) return corrupt("unknown format version");
  CaseRecord record;
  uint64_t n = 0;
  if (!in.varint(n) || n > bytes.size()) return corrupt("bad event count");
  // A case is read mostly to take its next event: room for it, so that event
  // does not move all the others.
  record.events.reserve(n + 1);
  record.events.resize(n);
  const std::string_view events_begin = in.rest();
  for (auto& e : record.events) {
    e.case_id = case_id;
    if (!decode_event(in, e)) return corrupt("truncated event");
  }
  // Events are encoded alike in every format so far, so the stored bytes can
  // start the record's next encoding: they decode to these very events.
  const std::string_view events_bytes = events_begin.substr(0, events_begin.size() - in.rest().size());
  if (!in.varint(n) || n > bytes.size()) return corrupt("bad mark count");
  record.marks.resize(n);
  for (auto& m : record.marks) {
    std::string rule;
    uint64_t cycle = 0;
    int64_t due = 0;
    uint8_t resolved = 0;
    if (!in.string(rule) || !in.varint(cycle) || !in.string(m.stage) || !in.signed_varint(due) ||
        !in.byte(resolved) || (format >= 2 && !in.string(m.department))) {
      return corrupt("truncated mark");
    }
    m.rule = RuleId{std::move(rule)};
    m.cycle = static_cast<int>(cycle);
    m.due_at = from_millis(due);
    m.resolved = resolved != 0;
  }
  uint8_t has_timer = 0;
  if (!in.byte(has_timer)) return corrupt("truncated timer");
  if (has_timer) {
    int64_t due = 0;
    if (!in.signed_varint(due)) return corrupt("truncated timer");
    record.timer_due = from_millis(due);
  }
  if (format >= 2) {
    if (!in.varint(n) || n > bytes.size()) return corrupt("bad cycle count");
    record.cycles.resize(n);
    for (auto& c : record.cycles) {
      std::string rule;
      uint64_t cycle = 0;
      int64_t started = 0;
      uint8_t flags = 0;
      int64_t elapsed = 0;
      if (!in.string(rule) || !in.varint(cycle) || !in.signed_varint(started) || !in.string(c.department) ||
          !in.byte(flags) || !in.signed_varint(elapsed)) {
        return corrupt("truncated cycle");
      }
      c.rule = RuleId{std::move(rule)};
      c.cycle = static_cast<int>(cycle);
      c.started_at = from_millis(started);
      c.closed = (flags & 1) != 0;
      c.breached = (flags & 2) != 0;
      c.elapsed = Duration{elapsed};
    }
  }
  if (!in.done()) return corrupt("trailing bytes");
  prefix.bytes.assign(events_bytes);
  prefix.events = record.events.size();
  return record;
}

}  // namespace slawatch
