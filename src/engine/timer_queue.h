#pragma once
// The due-time ordered queue of case timers. The truth lives in the state
// store (committed) plus this queue's uncommitted changes; in memory it keeps
// only the head: every timer due at or before `horizon_`, at most a few
// thousand. Refilling seeks just past the horizon, so timers already taken
// off the head (tombstones in RocksDB) are never scanned again.
// Written back (an engine writing its cases back, engine.h), the queue is
// the timers' only home: every timer stays in the head and none goes to the
// store, so each change is one ordered-set operation instead of a net change
// kept for the batch plus the store's own ordered insert and delete.
// Used from the engine's thread only.
#include <optional>
#include <set>
#include <unordered_map>

#include "state/store.h"

namespace slawatch {

class TimerQueue {
 public:
  enum class Persistence : uint8_t { write_through, write_back };
  // write_back: the timers committed in the store are read once, at the first
  // pop, and from then on the queue alone holds them (flush_into adds nothing).
  TimerQueue(StateStore& store, size_t head_limit, Persistence persistence = Persistence::write_through);

  // A case has at most one timer; the engine schedules only absent keys and
  // cancels only present ones.
  void schedule(const TimerKey& key);
  void cancel(const TimerKey& key);

  // Where a case's timer sits in the queue, kept by its owner between
  // reschedules. Only a resident queue fills it: cancelling through it takes
  // the node out without searching the tree for the case's old due time. That
  // search reached nodes long gone cold (the case's last event was hours of
  // event time ago): 11 % of plain replay's first-level cache misses. The owner
  // clears it when the queue pops that timer (pop_due cannot reach it).
  class Slot {
   public:
    void clear() { node_.reset(); }

   private:
    friend class TimerQueue;
    std::optional<std::set<TimerKey>::iterator> node_;
  };
  // Moves a case's timer from `before` to `after` (either may be absent),
  // through `slot` when it holds the node of `before`.
  void reschedule(const CaseId& id, std::optional<Instant> before, std::optional<Instant> after, Slot& slot);

  // Removes and returns the earliest timer with due <= limit, if any.
  Result<std::optional<TimerKey>> pop_due(Instant limit);

  // Moves the uncommitted changes into the batch.
  void flush_into(StateBatch& batch);

  size_t head_size() const { return head_.size(); }
  size_t pending_changes() const { return overlay_.size(); }

 private:
  Status refill();
  // Written back and the stored timers read: the head alone holds every timer.
  bool resident() const { return write_back_ && horizon_ == kMaxInstant; }
  void maybe_shrink_head() {
    if (head_.size() > shrink_above_) shrink_head();
  }
  void shrink_head();

  StateStore& store_;
  bool write_back_;
  size_t head_limit_;
  std::set<TimerKey> head_;
  Instant horizon_ = kMinInstant;     // every timer with due <= horizon_ is in head_
  // The head is shrunk when it grows past this: twice the limit, or twice what
  // the last shrink left when timers sharing the boundary's due time kept it
  // larger (a working calendar makes thousands of cases due at one 08:00), so
  // a shrink that cannot cut below the tie is not walked again per schedule.
  size_t shrink_above_;
  struct KeyHash {
    size_t operator()(const TimerKey& key) const noexcept {
      return std::hash<CaseId>{}(key.case_id) ^ static_cast<size_t>(to_millis(key.due)) * 0x9e3779b97f4a7c15ULL;
    }
  };
  // Uncommitted net changes: true = put, false = delete. Hashed, not ordered:
  // every event cancels and schedules a key here, while ordered walks (a
  // refill, a flush) come once per few thousand timers or once per batch.
  std::unordered_map<TimerKey, bool, KeyHash> overlay_;
};

}  // namespace slawatch
