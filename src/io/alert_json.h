#pragma once
// Encoding of alert events (contract section 3) and dead letters as JSON.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/alert.h"
#include "model/event.h"
#include "model/result.h"

namespace slawatch {

// A CloudEvents 1.0 structured-mode JSON object, one line.
std::string encode_alert_cloudevent(const Alert& alert, std::string_view source);

// The inverse of encode_alert_cloudevent, for consumers inside slawatch that
// take alerts as delivered (the Alertmanager tee): every field the encoder
// writes comes back; `department` stays "unassigned" when it was empty.
Result<Alert> decode_alert_cloudevent(std::string_view json);

// A case event as a CloudEvent again, from what the case log keeps of it (for
// the dead letter of a record displaced by a conflicting duplicate, whose
// original bytes are gone). `source` is not kept: it says so.
std::string encode_case_event(const CaseEvent& event);

// The dead-letter envelope: the reason, where the record came from and its
// original bytes ("original" as a JSON string when the bytes are valid UTF-8,
// otherwise "original_base64"). For an oversize record `original` is its first
// bytes and `original_size` its full size ("original_size" in the envelope).
// Safe for any length.
std::string encode_dead_letter(std::string_view original, std::string_view reason, std::string_view origin,
                               std::optional<uint64_t> original_size = std::nullopt);

}  // namespace slawatch
