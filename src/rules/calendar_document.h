#pragma once
// Reading a `kind: calendar` document into a business calendar. Internal to
// the rules component.
#include <memory>

#include "calendar/calendar.h"
#include "rules/yaml_reader.h"

namespace slawatch::rules_detail {

// Reports every mistake through `checker`; returns a calendar only when the
// document is free of them, else null.
std::shared_ptr<const Calendar> read_calendar_document(DocumentChecker& checker,
                                                       const YAML::Node& document);

}  // namespace slawatch::rules_detail
