#include "model/event.h"

#include <array>

namespace slawatch {
namespace {
constexpr std::array<std::string_view, kEventTypeCount> kNames = {
    "created", "dispatched", "acknowledged", "returned", "suspended", "resumed",
    "updated", "resolved",   "closed",       "reopened", "feedback"};
}  // namespace

std::string_view to_string(EventType type) { return kNames[static_cast<size_t>(type)]; }

std::optional<EventType> event_type_from_name(std::string_view short_name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == short_name) return static_cast<EventType>(i);
  }
  return std::nullopt;
}

template <class Text>
const Text* BasicCaseAttributes<Text>::get(std::string_view name) const {
  if (name == "category") return &category;
  if (name == "priority") return &priority;
  if (name == "channel") return &channel;
  if (name == "district") return &district;
  if (name == "department") return &department;
  return nullptr;
}

template <class Text>
void BasicCaseAttributes<Text>::apply(const CaseEvent& e) {
  switch (e.type) {
    case EventType::created:
      category = e.category;
      priority = e.priority;
      channel = e.channel;
      district = e.district;
      break;
    case EventType::updated:
      if (!e.category.empty()) category = e.category;
      if (!e.priority.empty()) priority = e.priority;
      if (!e.district.empty()) district = e.district;
      break;
    case EventType::dispatched:
      department = e.department;
      break;
    default:
      // Acknowledgements, returns and resolutions name a department but do not
      // move the case: only a dispatch does.
      if (department.empty() && !e.department.empty()) department = e.department;
      break;
  }
}

template struct BasicCaseAttributes<std::string>;
template struct BasicCaseAttributes<std::string_view>;

}  // namespace slawatch
