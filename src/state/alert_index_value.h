#pragma once
// The alert index's value: what the store keeps of an alert id's latest
// alert event. Written compactly (the alert's fields in binary, ~150 bytes
// where its CloudEvent is ~650): the index takes a write per alert event,
// so its bytes go through the WAL, the memtable, the changelog and every
// compaction of a state that keeps millions of standing alerts. A reader gets
// the CloudEvent back, rendered by the same encoder that produced the
// delivered one, so the bytes are those delivered. Values written before
// (state, department, the CloudEvent as text) are still read.
#include <optional>
#include <string>
#include <string_view>

#include "model/result.h"
#include "state/store.h"

namespace slawatch {

std::string encode_alert_index_value(const IndexedAlert& indexed);
// The same for an alert and the source it is delivered with, without copying them.
std::string encode_alert_index_value(const Alert& alert, std::string_view source);

// The CloudEvent of a compact value, rendered as it was delivered (the
// outbox keeps undelivered alerts in this form too, OutboxEntry::compact_alert);
// nullopt for a value of another format or a corrupt one.
std::optional<std::string> alert_cloudevent_of(std::string_view value);

// The state of a stored value of either format, without decoding the rest
// (listings filter on it before they decode); nullopt when it has none.
std::optional<AlertIndexEntry::State> alert_index_state(std::string_view value);

// The entry of `alert_id` from its stored value, either format. A compact
// value whose fields do not spell `alert_id` is corrupt.
Result<AlertIndexEntry> decode_alert_index_entry(std::string_view alert_id, std::string_view value);

}  // namespace slawatch
