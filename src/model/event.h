#pragma once
// The case event model (contract section 1) after validation: a CloudEvent
// reduced to what the rules and the evidence need.
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/compact_text.h"
#include "model/ids.h"
#include "model/time.h"

namespace slawatch {

enum class EventType : uint8_t {
  created = 0,
  dispatched,
  acknowledged,
  returned,
  suspended,
  resumed,
  updated,
  resolved,
  closed,
  reopened,
  feedback,
};
constexpr size_t kEventTypeCount = 11;
constexpr std::string_view kEventTypePrefix = "hotline.case.";

// "dispatched" <-> EventType::dispatched (without the "hotline.case." prefix).
std::string_view to_string(EventType type);
std::optional<EventType> event_type_from_name(std::string_view short_name);

// A set of event types, as used by rule start/stop/pause/resume lists.
class EventTypeSet {
 public:
  EventTypeSet() = default;
  void insert(EventType t) { bits_.set(static_cast<size_t>(t)); }
  bool contains(EventType t) const { return bits_.test(static_cast<size_t>(t)); }
  bool empty() const { return bits_.none(); }
  bool intersects(const EventTypeSet& o) const { return (bits_ & o.bits_).any(); }
  bool operator==(const EventTypeSet&) const = default;

 private:
  std::bitset<kEventTypeCount> bits_;
};

struct CaseEvent {
  EventId id;
  CaseId case_id;
  EventType type = EventType::created;
  Instant time;

  // data fields; empty string / nullopt means "absent".
  EventText category;
  EventText priority;
  EventText channel;
  EventText district;
  EventText department;
  EventText from_department;
  EventText actor;
  EventText reason;
  std::optional<bool> satisfied;
  std::optional<int> score;
};

// Log order of a case: event time, ties broken by id (contract section 1).
inline bool event_order_less(const CaseEvent& a, const CaseEvent& b) {
  if (a.time != b.time) return a.time < b.time;
  return a.id < b.id;
}

// Case attributes folded from the events at or before an instant.
template <class Text>
struct BasicCaseAttributes {
  Text category;
  Text priority;
  Text channel;
  Text district;
  Text department;

  // Value of a `when` attribute by name; nullptr for an unknown name.
  const Text* get(std::string_view name) const;
  void apply(const CaseEvent& e);
};
// Owning copies, for results that outlive the log.
using CaseAttributes = BasicCaseAttributes<std::string>;
// Views into the events folded, valid while they are: the evaluator folds the
// whole log once per rule for every event applied, and copying each text at
// every step was a visible share of replay's profile.
using CaseAttributeViews = BasicCaseAttributes<std::string_view>;
extern template struct BasicCaseAttributes<std::string>;
extern template struct BasicCaseAttributes<std::string_view>;

}  // namespace slawatch
