#include "pipeline/state_tallies.h"

#include <algorithm>

namespace slawatch {

namespace {

// A tally key's fields as views: tallies are counted per alert and per cycle
// outcome, and a key built from copies of the rule and department strings
// cost more than the counting.
struct TallyKeyView {
  TallyKey::Kind kind;
  std::string_view rule;
  std::string_view stage;
  std::string_view department;
  bool breached = false;
  size_t bucket = 0;
};

void encode_tally_key_into(std::string& out, const TallyKeyView& key) {
  out.clear();
  out.push_back(static_cast<char>(key.kind));
  codec::put_string(out, key.rule);
  codec::put_string(out, key.department);
  switch (key.kind) {
    case TallyKey::Kind::overdue_alerts: codec::put_string(out, key.stage); break;
    case TallyKey::Kind::open_cycles: break;
    case TallyKey::Kind::closed_cycles:
    case TallyKey::Kind::closed_elapsed: out.push_back(key.breached ? 1 : 0); break;
    case TallyKey::Kind::closed_bucket:
      out.push_back(key.breached ? 1 : 0);
      codec::put_varint(out, key.bucket);
      break;
  }
}

}  // namespace

std::string encode_tally_key(const TallyKey& key) {
  std::string out;
  encode_tally_key_into(out, TallyKeyView{key.kind, key.rule, key.stage, key.department, key.breached, key.bucket});
  return out;
}

std::optional<TallyKey> decode_tally_key(std::string_view name) {
  codec::Reader in(name);
  TallyKey key;
  uint8_t kind = 0;
  if (!in.byte(kind) || kind > static_cast<uint8_t>(TallyKey::Kind::closed_bucket)) return std::nullopt;
  key.kind = static_cast<TallyKey::Kind>(kind);
  if (!in.string(key.rule) || !in.string(key.department)) return std::nullopt;
  uint8_t breached = 0;
  uint64_t bucket = 0;
  switch (key.kind) {
    case TallyKey::Kind::overdue_alerts:
      if (!in.string(key.stage)) return std::nullopt;
      break;
    case TallyKey::Kind::open_cycles: break;
    case TallyKey::Kind::closed_cycles:
    case TallyKey::Kind::closed_elapsed:
      if (!in.byte(breached)) return std::nullopt;
      break;
    case TallyKey::Kind::closed_bucket:
      if (!in.byte(breached) || !in.varint(bucket) || bucket > kCycleElapsedBuckets.size()) return std::nullopt;
      break;
  }
  key.breached = breached != 0;
  key.bucket = bucket;
  if (!in.done()) return std::nullopt;
  return key;
}

size_t cycle_elapsed_bucket(Duration elapsed) {
  const double seconds = static_cast<double>(elapsed.count()) / 1000.0;
  return static_cast<size_t>(std::lower_bound(kCycleElapsedBuckets.begin(), kCycleElapsedBuckets.end(), seconds) -
                             kCycleElapsedBuckets.begin());
}

template <class Deltas>
void tally_alert(const Alert& alert, Deltas& deltas, std::string& name) {
  if (alert.kind == AlertKind::retracted && alert.was_resolved) return;  // its resolution counted it out
  encode_tally_key_into(name, TallyKeyView{TallyKey::Kind::overdue_alerts, alert.rule.str(), alert.stage, alert.department});
  deltas[name] += alert.kind == AlertKind::fired ? 1 : -1;
}

template <class Deltas>
void tally_cycle(const CycleOutcome& outcome, Deltas& deltas, std::string& name) {
  const CycleMark& cycle = outcome.cycle;
  const int64_t sign = outcome.withdrawn ? -1 : 1;
  TallyKeyView key{TallyKey::Kind::open_cycles, cycle.rule.str(), {}, cycle.department};
  if (!cycle.closed) {
    encode_tally_key_into(name, key);
    deltas[name] += sign;
    return;
  }
  // A closed cycle's three names differ only in their kind byte and the
  // bucket's suffix (encode_tally_key_into), so the rule and department are
  // encoded once for all three: this runs for every cycle that closes.
  key.breached = cycle.breached;
  key.kind = TallyKey::Kind::closed_cycles;
  encode_tally_key_into(name, key);
  deltas[name] += sign;
  name[0] = static_cast<char>(TallyKey::Kind::closed_elapsed);
  deltas[name] += sign * cycle.elapsed.count();
  name[0] = static_cast<char>(TallyKey::Kind::closed_bucket);
  codec::put_varint(name, cycle_elapsed_bucket(cycle.elapsed));
  deltas[name] += sign;
}

template void tally_alert(const Alert&, Tallies&, std::string&);
template void tally_alert(const Alert&, TallyDeltas&, std::string&);
template void tally_cycle(const CycleOutcome&, Tallies&, std::string&);
template void tally_cycle(const CycleOutcome&, TallyDeltas&, std::string&);

}  // namespace slawatch
