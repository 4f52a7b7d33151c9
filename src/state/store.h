#pragma once
// The state layer's interface: durable case records, the timer queue, the
// outbox of produced-but-undelivered output, and the checkpoint. Every change
// of a batch of events is committed atomically by commit(), so a crash leaves
// the state of the last committed batch, never half of one.
//
// Implementations are used from one thread (the engine's) at a time.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/alert.h"
#include "model/ids.h"
#include "model/record_header.h"
#include "model/result.h"
#include "model/time.h"
#include "state/case_record.h"

namespace slawatch {

// One pending timer: a case has at most one, at its earliest pending due time.
struct TimerKey {
  Instant due;
  CaseId case_id;
  auto operator<=>(const TimerKey&) const = default;
  bool operator==(const TimerKey&) const = default;
};

// Output that must survive a crash between being produced and being delivered.
struct OutboxEntry {
  enum class Channel : uint8_t { alerts = 0, dead_letter = 1 };
  uint64_t seq = 0;
  Channel channel = Channel::alerts;
  std::string key;      // record key (case id), may be empty
  std::string payload;  // exact bytes to deliver
  RecordHeaders headers;
  // An alert's fields in the alert index's compact encoding (~150 bytes,
  // state/alert_index_value.h), or empty. A store may keep this instead of
  // the payload (its CloudEvent, ~650 bytes) and render the payload from it
  // when it loads the outbox: every alert goes through the write-ahead log
  // and the memtable once in the outbox, so its bytes are paid per alert.
  std::string compact_alert;
  bool operator==(const OutboxEntry&) const = default;
};

// Where the input stands and what the engine's clock is, committed with the state.
struct Checkpoint {
  Instant clock = kMinInstant;
  std::string source_position;  // opaque to the state layer (file offset, Kafka offsets...)
  uint64_t next_outbox_seq = 1;
  // The rule set the stored cases were last computed under; a start with
  // another set repairs them first. Empty for state from before versions were kept.
  std::string rules_version;
  bool operator==(const Checkpoint&) const = default;
};

// The latest alert event of one alert id, for the case API's alert listing.
struct AlertIndexEntry {
  enum class State : uint8_t { firing = 0, resolved = 1, retracted = 2 };
  std::string alert_id;  // {case}/{rule}/{cycle}/{stage}
  State state = State::firing;
  std::string department;
  std::string event;  // the alert CloudEvent (JSON) as delivered
  bool operator==(const AlertIndexEntry&) const = default;
};
std::string_view to_string(AlertIndexEntry::State state);

// One alert event for the alert index, as the pipeline emitted it: the store
// keeps its fields and renders its CloudEvent (with `source`) when read
// (state/alert_index_value.h).
struct IndexedAlert {
  Alert alert;
  std::string source;  // the CloudEvents source it was delivered with
  // encode_alert_index_value(alert, source) when the writer already made it
  // (the outbox's compact form, OutboxEntry::compact_alert); else empty.
  std::string encoded;
};

// Named signed counts kept with the state and changed only by commits, so
// what they count (overdue stages, open and closed cycles) is exact after a
// restart. The names are the writer's (pipeline/state_tallies.h); the store
// only adds deltas and forgets a tally that reaches zero.
using Tallies = std::map<std::string, int64_t>;

struct StateBatch {
  // Cases deleted with their alert index entries, before the puts below (a
  // case may be deleted and written again in one batch: a fresh record).
  std::vector<CaseId> case_deletes;
  // Encoded CaseRecords, at most one per case id. A vector: the engine writes
  // each dirty case once per flush, and no store needs them in id order.
  std::vector<std::pair<CaseId, std::string>> cases;
  std::vector<TimerKey> timer_puts;
  std::vector<TimerKey> timer_deletes;
  std::vector<OutboxEntry> outbox_puts;
  std::vector<uint64_t> outbox_deletes;
  std::vector<IndexedAlert> alert_index;  // in emission order: a later alert event of the same id wins
  Tallies tallies;  // deltas to add to the committed tallies
  std::optional<Checkpoint> checkpoint;

  // What a successful commit leaves of its batch: the outbox entries only,
  // which the caller delivers next (moved out, so no payload is copied for
  // the store).
  void clear_all_but_outbox() {
    std::vector<OutboxEntry> outbox = std::move(outbox_puts);
    *this = StateBatch{};
    outbox_puts = std::move(outbox);
  }

  bool empty() const {
    return case_deletes.empty() && cases.empty() && timer_puts.empty() && timer_deletes.empty() &&
           outbox_puts.empty() && outbox_deletes.empty() && alert_index.empty() && tallies.empty() && !checkpoint;
  }
};

// The store's column families: RocksDB's, and the first key byte of a record
// in the changelog (state/changelog.h).
enum class StoreFamily : uint8_t { cases = 1, timers = 2, outbox = 3, meta = 4, alerts = 5 };
inline constexpr size_t kStoreFamilyCount = 5;

// What a store's commits have written since it was opened: the keys (puts and
// deletes, each one) are what a durable store pays per commit, so keys per
// input record is the figure to watch when the state format or the batch
// changes; the keys of each family say which part of the state they went to
// (a delivered outbox run's range tombstone counts once; meta holds the
// checkpoint, timer count, tallies and changelog marker).
struct CommitTotals {
  uint64_t commits = 0;
  std::array<uint64_t, kStoreFamilyCount> family_keys{};  // by StoreFamily, from cases
  uint64_t bytes = 0;  // the write batches' size; the memory store writes none

  uint64_t& keys_of(StoreFamily family) { return family_keys[static_cast<size_t>(family) - 1]; }
  uint64_t keys_of(StoreFamily family) const { return family_keys[static_cast<size_t>(family) - 1]; }
  uint64_t keys() const { return std::accumulate(family_keys.begin(), family_keys.end(), uint64_t{0}); }

  CommitTotals& operator+=(const CommitTotals& other) {
    commits += other.commits;
    for (size_t i = 0; i < kStoreFamilyCount; ++i) family_keys[i] += other.family_keys[i];
    bytes += other.bytes;
    return *this;
  }
  // What was written between `earlier` and these totals.
  CommitTotals operator-(const CommitTotals& earlier) const {
    CommitTotals written{commits - earlier.commits, family_keys, bytes - earlier.bytes};
    for (size_t i = 0; i < kStoreFamilyCount; ++i) written.family_keys[i] -= earlier.family_keys[i];
    return written;
  }
};

// Adds `deltas` to `tallies`, dropping those that reach zero.
void add_tallies(Tallies& tallies, const Tallies& deltas);

class StateStore {
 public:
  virtual ~StateStore() = default;

  // Encoded CaseRecord, or nullopt for a case never seen.
  virtual Result<std::optional<std::string>> load_case(const CaseId& id) = 0;
  // Committed timers with due > after, in (due, case) order, at most `limit`
  // of them plus every further timer sharing the last one's due time.
  virtual Result<std::vector<TimerKey>> scan_timers(Instant after, size_t limit) = 0;
  virtual Result<std::vector<OutboxEntry>> load_outbox() = 0;
  virtual Result<Checkpoint> load_checkpoint() = 0;
  // Committed timers of this store (for the pending-timers gauge); cheap to call.
  virtual Result<uint64_t> pending_timers() = 0;
  // The committed tallies (zero ones are absent); cheap after the first call.
  virtual Result<Tallies> tallies() = 0;
  // Writes the batch atomically. On success the batch is emptied except for
  // its outbox_puts (StateBatch::clear_all_but_outbox); on failure it is left
  // as it was, for the caller to retry.
  virtual Status commit(StateBatch& batch) = 0;
  virtual CommitTotals commit_totals() const = 0;
  // Whether this store keeps an outbox alert in its compact form
  // (OutboxEntry::compact_alert): the pipeline encodes it only then.
  virtual bool keeps_compact_alerts() const { return false; }
  // Whether the last commit is held by whatever a next owner of this state
  // would restore from (the changelog, state/changelog.h), so its output may
  // leave: output delivered ahead of that would be delivered again after a
  // handover. `wait`: until it is (an error when that fails); otherwise
  // answers at once. Stores without a replica are always there.
  virtual Result<bool> last_commit_replicated(bool /*wait*/) { return true; }
  // Visits the latest committed event of every alert (the alert index), in
  // alert id order; stops when fn returns false.
  virtual Status for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) = 0;
  // Visits every committed case (for summaries and reports); stops when fn returns false.
  virtual Status for_each_case(
      const std::function<bool(const CaseId&, std::string_view encoded)>& fn) = 0;
};

// In-memory store for tests and for throwaway runs.
class MemoryStateStore final : public StateStore {
 public:
  Result<std::optional<std::string>> load_case(const CaseId& id) override;
  Result<std::vector<TimerKey>> scan_timers(Instant after, size_t limit) override;
  Result<std::vector<OutboxEntry>> load_outbox() override;
  Result<Checkpoint> load_checkpoint() override;
  Result<uint64_t> pending_timers() override { return uint64_t{timers_.size()}; }
  Result<Tallies> tallies() override { return tallies_; }
  Status commit(StateBatch& batch) override;
  // One key per entry of each batch. RocksDB's count differs: it adds its
  // timer count, its changelog marker and a deleted case's alert index
  // entries, and writes one range tombstone per run of delivered outbox entries.
  CommitTotals commit_totals() const override { return totals_; }
  Status for_each_case(
      const std::function<bool(const CaseId&, std::string_view)>& fn) override;
  Status for_each_alert(const std::function<bool(const AlertIndexEntry&)>& fn) override;

  size_t timer_count() const { return timers_.size(); }
  size_t commits() const { return totals_.commits; }

 private:
  // Hashed: every commit writes each dirty case; only for_each_case wants them in id order.
  std::unordered_map<CaseId, std::string> cases_;
  std::map<TimerKey, bool> timers_;
  std::map<uint64_t, OutboxEntry> outbox_;
  std::map<std::string, std::string> alert_index_;  // alert id -> encoded as RocksDB keeps it
  Tallies tallies_;
  Checkpoint checkpoint_;
  CommitTotals totals_;
};

}  // namespace slawatch
