#pragma once
// After a restart the sender remembers nothing, while Alertmanager forgets a
// firing alert once its lease (endsAt) runs out. Prometheus keeps its firing
// alerts alive by re-sending them from its rule state; slawatch does the same
// from its committed alert index: every alert whose latest event is `fired`
// is handed to the sender again, which then re-posts it on its interval.
#include "alertmanager/sender.h"
#include "state/store.h"

namespace slawatch {

// Hands every firing alert of `store` to `sender` (not bounded by the
// sender's queue; its active set bounds them). An alert index entry that does
// not decode is counted as dropped (reason undecodable). Returns how many
// were handed over.
Result<size_t> repost_firing_alerts(StateStore& store, AlertmanagerSender& sender);

}  // namespace slawatch
