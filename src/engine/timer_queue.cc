#include "engine/timer_queue.h"

#include <algorithm>
#include <cassert>

namespace slawatch {

TimerQueue::TimerQueue(StateStore& store, size_t head_limit, Persistence persistence)
    : store_(store),
      write_back_(persistence == Persistence::write_back),
      // Written back, the first refill takes every stored timer and the head
      // is never shrunk: there is no store behind it to refill from.
      head_limit_(write_back_ ? SIZE_MAX / 2 : std::max<size_t>(head_limit, 1)),
      shrink_above_(write_back_ ? SIZE_MAX : 2 * head_limit_) {}

void TimerQueue::schedule(const TimerKey& key) {
  if (resident()) {
    head_.insert(key);
    return;
  }
  // One hash lookup whichever way it goes: every event moves a case's timer.
  if (auto [it, added] = overlay_.try_emplace(key, true); !added && !it->second) {
    overlay_.erase(it);  // deleted and re-added in the same batch: the committed key stands
  }
  if (key.due <= horizon_) {
    head_.insert(key);
    maybe_shrink_head();
  }
}

void TimerQueue::cancel(const TimerKey& key) {
  if (resident()) {
    head_.erase(key);
    return;
  }
  if (auto [it, added] = overlay_.try_emplace(key, false); !added && it->second) {
    overlay_.erase(it);  // added and removed in the same batch: never reaches the store
  }
  if (key.due <= horizon_) head_.erase(key);
}

void TimerQueue::reschedule(const CaseId& id, std::optional<Instant> before, std::optional<Instant> after,
                            Slot& slot) {
  if (!resident()) {
    slot.clear();
    if (before) cancel(TimerKey{*before, id});
    if (after) schedule(TimerKey{*after, id});
    return;
  }
  std::set<TimerKey>::node_type node;
  if (before) {
    assert(!slot.node_ || (**slot.node_ == TimerKey{*before, id}));
    node = slot.node_ ? head_.extract(*slot.node_) : head_.extract(TimerKey{*before, id});
  }
  slot.clear();
  if (!after) return;
  if (node.empty()) {
    slot.node_ = head_.insert(TimerKey{*after, id}).first;
    return;
  }
  // The node and its copy of the case id are reused: no free and allocation.
  node.value().due = *after;
  slot.node_ = head_.insert(std::move(node)).position;
}

Result<std::optional<TimerKey>> TimerQueue::pop_due(Instant limit) {
  // A refill can come back empty when every timer it scanned was cancelled in
  // this batch; keep going until a timer is found or the horizon passes limit.
  while (head_.empty() && horizon_ < limit && horizon_ != kMaxInstant) {
    if (auto s = refill(); !s.ok()) return s.error();
  }
  if (head_.empty() || head_.begin()->due > limit) return std::optional<TimerKey>{};
  if (resident()) return std::optional<TimerKey>{std::move(head_.extract(head_.begin()).value())};
  TimerKey key = *head_.begin();
  cancel(key);
  return std::optional<TimerKey>{std::move(key)};
}

Status TimerQueue::refill() {
  auto scanned = store_.scan_timers(horizon_, head_limit_);
  if (!scanned.ok()) return scanned.error();
  const auto& keys = scanned.value();
  const Instant new_horizon = keys.size() < head_limit_ ? kMaxInstant : keys.back().due;
  head_.insert(keys.begin(), keys.end());
  for (const auto& [key, present] : overlay_) {
    if (key.due <= horizon_ || key.due > new_horizon) continue;
    if (present) {
      head_.insert(key);
    } else {
      head_.erase(key);
    }
  }
  horizon_ = new_horizon;
  if (write_back_) {
    overlay_.clear();  // the committed timers and the changes since are all in the head now
    return ok_status();
  }
  shrink_above_ = 2 * head_limit_;  // the head was empty: no tie from an earlier shrink is left
  maybe_shrink_head();
  return ok_status();
}

// Keeps the earliest head_limit_ timers (and any sharing the last one's due).
void TimerQueue::shrink_head() {
  auto boundary = std::next(head_.begin(), static_cast<std::ptrdiff_t>(head_limit_ - 1));
  horizon_ = boundary->due;
  auto first_after = head_.lower_bound(TimerKey{horizon_ + Duration{1}, CaseId{}});
  head_.erase(first_after, head_.end());
  shrink_above_ = 2 * std::max(head_limit_, head_.size());
}

void TimerQueue::flush_into(StateBatch& batch) {
  const size_t puts_before = batch.timer_puts.size();
  const size_t deletes_before = batch.timer_deletes.size();
  for (auto& [key, present] : overlay_) {
    (present ? batch.timer_puts : batch.timer_deletes).push_back(key);
  }
  overlay_.clear();
  // In key order, as the store's own order: RocksDB inserts neighbouring keys
  // into its memtable cheaply, and the batch does not depend on hashing.
  std::sort(batch.timer_puts.begin() + static_cast<std::ptrdiff_t>(puts_before), batch.timer_puts.end());
  std::sort(batch.timer_deletes.begin() + static_cast<std::ptrdiff_t>(deletes_before), batch.timer_deletes.end());
}

}  // namespace slawatch
