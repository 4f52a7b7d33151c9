#pragma once
// Reading a `kind: calendar` document into a business calendar. Internal to
// the rules component.
#include <memory>
#include <optional>
#include <string>

#include "calendar/calendar.h"
#include "rules/yaml_reader.h"

namespace slawatch::rules_detail {

struct ParsedCalendar {
  std::string id;
  Location id_location;
  std::shared_ptr<const Calendar> calendar;
};

// Reports every mistake through `checker`; returns a calendar only when the
// document is free of them.
std::optional<ParsedCalendar> read_calendar_document(DocumentChecker& checker,
                                                     const YAML::Node& document);

}  // namespace slawatch::rules_detail
