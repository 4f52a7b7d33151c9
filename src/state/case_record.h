#pragma once
// What slawatch keeps per case: its deduplicated event log (sorted in log
// order), the alerts it has fired (marks) and the due time of its one pending
// timer. Everything else about a case is recomputed from the log.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/event.h"
#include "model/result.h"

namespace slawatch {

struct FiredMark {
  RuleId rule;
  int cycle = 1;
  std::string stage;
  Instant due_at;
  bool resolved = false;
  // The case's department at due_at when the stage fired: its resolution or
  // retraction carries the same one, so every state change of one alert
  // counts under one department label.
  std::string department;
  bool operator==(const FiredMark&) const = default;
};

// What the case has reported about one deadline cycle (see
// engine/reconcile.h, CycleOutcome): open, or closed with its outcome.
// Kept so a later event that changes the cycle withdraws exactly what was
// reported before reporting the new outcome.
struct CycleMark {
  RuleId rule;
  int cycle = 1;
  Instant started_at;
  std::string department;  // at the start
  bool closed = false;
  bool breached = false;   // closed only
  Duration elapsed{0};     // closed only: on the rule's calendar, pauses excluded
  bool operator==(const CycleMark&) const = default;
};

struct CaseRecord {
  std::vector<CaseEvent> events;  // log order (time, id)
  std::vector<FiredMark> marks;   // fired and not retracted
  std::vector<CycleMark> cycles;  // deadline cycles as last reported
  std::optional<Instant> timer_due;

  bool has_event(const EventId& id) const;
  const CaseEvent* find_event(const EventId& id) const;
  // Takes the event with this id (which must be stored) out of the log.
  CaseEvent remove(const EventId& id);
  // Two records with one id and different content: the one kept is the one
  // whose content (encoded as stored) hashes smaller, ties broken by the
  // encoding's bytes. It depends only on the two contents, never on which
  // arrived first, so every arrival order ends with the same log.
  static bool keeps_stored(const CaseEvent& stored, const CaseEvent& incoming);
  // Inserts in log order; returns false (and changes nothing) for a duplicate id.
  // Taken by reference: a CaseEvent is ten strings, and a by-value parameter
  // cost each applied event one more move of all of them.
  bool insert(CaseEvent&& event);
  bool insert(const CaseEvent& event) { return insert(CaseEvent(event)); }
  bool operator==(const CaseRecord&) const = default;
};

// Same id and same content as kept (unknown extra fields and formatting of the
// original bytes do not count): a plain duplicate.
bool same_content(const CaseEvent& a, const CaseEvent& b);

// Compact binary encoding, versioned by its first byte.
std::string encode_case_record(const CaseRecord& record);

// The encoding of the first `events` events of a record's log, kept between
// encodings of one record: a log that only grows at its end (most events
// arrive after the last one of their case) is then not encoded again. The
// owner resets it whenever the log changes any other way.
struct EncodedLogPrefix {
  std::string bytes;
  size_t events = 0;
  void reset() {
    bytes.clear();
    events = 0;
  }
};
// The same bytes as encode_case_record(record); encodes only the events past
// `prefix` and extends it with them.
std::string encode_case_record(const CaseRecord& record, EncodedLogPrefix& prefix);
// Decodes as decode_case_record and sets `prefix` to the stored encoding of
// the whole log, so the record's next encoding starts from it.
Result<CaseRecord> decode_case_record(std::string_view bytes, const CaseId& case_id, EncodedLogPrefix& prefix);
Result<CaseRecord> decode_case_record(std::string_view bytes, const CaseId& case_id);

// Little helpers shared by the binary codecs of the state layer.
namespace codec {
void put_varint(std::string& out, uint64_t v);
void put_signed(std::string& out, int64_t v);
void put_string(std::string& out, std::string_view s);
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool varint(uint64_t& v);
  bool signed_varint(int64_t& v);
  bool string(std::string& s);
  bool string(EventText& s);
  bool byte(uint8_t& b);
  bool done() const { return pos_ == bytes_.size(); }
  std::string_view rest() const { return bytes_.substr(pos_); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};
}  // namespace codec

}  // namespace slawatch
