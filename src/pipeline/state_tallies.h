#pragma once
// The tallies the pipeline keeps with the state (StateStore::tallies), from
// which the metrics read overdue stages, open cycles and closed cycles. Each
// commit adds the changes of its batch: alerts as emitted (fired +1 overdue,
// resolved or retracted -1, under the department the alert carries, which is
// the same for every event of one alert) and the engine's cycle reports and
// withdrawals (engine/reconcile.h, CycleOutcome). So the committed tallies
// equal what the committed case records say, after a restart or a rule
// reload too. Pure functions; no state of their own.
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/reconcile.h"
#include "model/alert.h"
#include "model/hash.h"
#include "state/store.h"

namespace slawatch {

// Upper bounds (seconds) of the elapsed-time buckets of closed cycles: the
// first-response lines (24m warning, 30m, 1h), the 24h emergency line and
// its 18h warning, the 35h normal-handling target, up to a week. A time past
// the last bound lands in the +Inf bucket only.
inline constexpr std::array<double, 17> kCycleElapsedBuckets = {
    60, 300, 900, 1440, 1800, 2700, 3600, 7200, 14400, 28800, 64800, 86400, 126000, 172800, 259200, 604800,
    1209600};

struct TallyKey {
  enum class Kind : uint8_t {
    overdue_alerts = 0,  // rule, stage, department: fired and not resolved or retracted
    open_cycles = 1,     // rule, department: deadline cycles open
    closed_cycles = 2,   // rule, department, breached: closed cycles
    closed_elapsed = 3,  // rule, department, breached: their total elapsed time, milliseconds
    closed_bucket = 4,   // rule, department, breached, bucket: closed cycles in that bucket only
  };
  Kind kind = Kind::overdue_alerts;
  std::string rule;
  std::string stage;       // overdue_alerts only
  std::string department;  // as in the case events; empty for none
  bool breached = false;   // closed_* only
  size_t bucket = 0;       // closed_bucket: index into kCycleElapsedBuckets, size() for +Inf
  bool operator==(const TallyKey&) const = default;
};

std::string encode_tally_key(const TallyKey& key);
// nullopt for a name this version does not write.
std::optional<TallyKey> decode_tally_key(std::string_view name);

// The bucket index of an elapsed time: the first bound at or above it.
size_t cycle_elapsed_bucket(Duration elapsed);

// A batch's changes to the tallies while it is built: hashed, since every
// alert and every cycle report adds to one (a closed cycle to three), and
// with the id hash rather than std::hash's byte-at-a-time one: tally names
// are 30-40 bytes. Ordered (Tallies) only at commit.
struct TallyNameHash {
  size_t operator()(const std::string& name) const noexcept { return hash_id_bytes(name); }
};
using TallyDeltas = std::unordered_map<std::string, int64_t, TallyNameHash>;

// For Tallies and TallyDeltas. `name` is working space for the tally names: a
// caller tallying every alert and cycle report keeps one, so a name costs no
// allocation of its own.
template <class Deltas>
void tally_alert(const Alert& alert, Deltas& deltas, std::string& name);
template <class Deltas>
void tally_cycle(const CycleOutcome& outcome, Deltas& deltas, std::string& name);
template <class Deltas>
void tally_alert(const Alert& alert, Deltas& deltas) {
  std::string name;
  tally_alert(alert, deltas, name);
}
template <class Deltas>
void tally_cycle(const CycleOutcome& outcome, Deltas& deltas) {
  std::string name;
  tally_cycle(outcome, deltas, name);
}

}  // namespace slawatch
