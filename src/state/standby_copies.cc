#include "state/standby_copies.h"

#include <algorithm>

namespace slawatch {

std::set<uint16_t> standby_partitions(const std::map<uint16_t, std::string>& owners, const std::string& self,
                                      size_t replicas) {
  std::set<std::string> known{self};
  for (const auto& [partition, owner] : owners) {
    if (!owner.empty()) known.insert(owner);
  }
  const std::vector<std::string> ring(known.begin(), known.end());
  std::set<uint16_t> mine;
  const size_t standbys = std::min(replicas, ring.size() - 1);
  for (const auto& [partition, owner] : owners) {
    if (owner.empty() || owner == self) continue;
    const auto at = static_cast<size_t>(std::find(ring.begin(), ring.end(), owner) - ring.begin());
    for (size_t step = 1; step <= standbys; ++step) {
      if (ring[(at + step) % ring.size()] == self) mine.insert(partition);
    }
  }
  return mine;
}

Status MemoryChangelogTail::start(uint16_t partition, int64_t offset) {
  next_[partition] = offset;
  return ok_status();
}

Status MemoryChangelogTail::stop(uint16_t partition) {
  next_.erase(partition);
  return ok_status();
}

Status MemoryChangelogTail::poll(std::vector<TailRecord>& out, size_t max, Duration) {
  size_t taken = 0;
  for (auto& [partition, next] : next_) {
    const uint16_t p = partition;
    int64_t& position = next;
    auto s = changelog_.read_from(p, position, [&](ChangelogRecord&& record, const ChangelogOffset& offset) {
      if (taken == max) return ok_status();
      out.push_back(TailRecord{p, std::move(record), offset});
      position = offset.next;
      ++taken;
      return ok_status();
    });
    if (!s.ok()) return s;
  }
  return ok_status();
}

std::optional<int64_t> MemoryChangelogTail::end_offset(uint16_t partition) {
  auto bounds = changelog_.bounds(partition);
  if (!bounds.ok()) return std::nullopt;
  return bounds->end;
}

StandbyCopies::StandbyCopies(std::shared_ptr<RocksDbDatabase> database, StateChangelog& changelog,
                             ChangelogTail& tail, const Clock& wall)
    : database_(std::move(database)), changelog_(changelog), tail_(tail), wall_(wall) {}

Status StandbyCopies::keep(const std::set<uint16_t>& partitions) {
  for (auto it = copies_.begin(); it != copies_.end();) {
    if (partitions.contains(it->first)) {
      ++it;
      continue;
    }
    if (auto s = tail_.stop(it->first); !s.ok()) return s;
    // Not standing by any more: the copy would only go stale and take disk.
    if (auto s = it->second.store->wipe(); !s.ok()) return s;
    start_offset_.erase(it->first);
    it = copies_.erase(it);
  }
  for (const uint16_t partition : partitions) {
    if (copies_.contains(partition)) continue;
    if (auto s = take_up(partition); !s.ok()) return s;
  }
  return ok_status();
}

Status StandbyCopies::take_up(uint16_t partition) {
  Copy copy;
  copy.store = std::make_unique<RocksDbStateStore>(database_, partition);
  auto local = copy.store->load_changelog_marker();
  if (!local.ok()) return local.error();
  auto position = copy.store->load_changelog_position();
  if (!position.ok()) return position.error();
  auto bounds = changelog_.bounds(partition);
  if (!bounds.ok()) return bounds.error();
  std::optional<std::string> refusal = std::string("no known changelog position");
  if (*position) refusal = tail_refusal(**position, *bounds, wall_.now());
  if (refusal) {
    auto& taken = copies_[partition] = std::move(copy);
    taken.how_started = "from the log start (" + *refusal + ")";
    return rebuild(partition, taken);
  }
  copy.applier = std::make_unique<ChangelogApplier>(*copy.store, *local);
  copy.how_started = "from offset " + std::to_string((*position)->offset.next) + " (the copy kept here)";
  start_offset_[partition] = (*position)->offset.next;
  copies_[partition] = std::move(copy);
  return tail_.start(partition, (*position)->offset.next);
}

Status StandbyCopies::rebuild(uint16_t partition, Copy& copy) {
  if (auto s = copy.store->wipe(); !s.ok()) return s;
  auto bounds = changelog_.bounds(partition);
  if (!bounds.ok()) return bounds.error();
  copy.applier = std::make_unique<ChangelogApplier>(*copy.store);
  start_offset_[partition] = bounds->start;
  return tail_.start(partition, bounds->start);
}

Status StandbyCopies::release(uint16_t partition) {
  auto it = copies_.find(partition);
  if (it == copies_.end()) return ok_status();
  if (auto s = tail_.stop(partition); !s.ok()) return s;
  // Whole batches only: a batch still missing its marker is read again by the owner's catch-up.
  auto flushed = it->second.applier->flush();
  start_offset_.erase(partition);
  copies_.erase(it);
  return flushed;
}

Result<uint64_t> StandbyCopies::poll(Duration wait) {
  arrived_.clear();
  if (copies_.empty()) return uint64_t{0};
  if (auto s = tail_.poll(arrived_, 65536, wait); !s.ok()) return s.error();
  std::set<uint16_t> rebuilt;  // what else arrived for these was read from their old start
  for (auto& arrived : arrived_) {
    auto it = copies_.find(arrived.partition);
    if (it == copies_.end() || rebuilt.contains(arrived.partition)) continue;
    Copy& copy = it->second;
    auto added = copy.applier->add(std::move(arrived.record), arrived.offset);
    if (added.ok()) continue;
    if (!copy.applier->broken()) return added.error();
    copy.how_started = "from the log start (" + added.error().message + ")";
    copy.applied = 0;
    rebuilt.insert(arrived.partition);
    if (auto s = rebuild(arrived.partition, copy); !s.ok()) return s.error();
  }
  uint64_t applied = 0;
  for (auto& [partition, copy] : copies_) {
    if (auto s = copy.applier->flush(); !s.ok()) return s.error();
    applied += copy.applier->applied() - copy.applied;
    copy.applied = copy.applier->applied();
  }
  return applied;
}

int64_t StandbyCopies::position_of(const Copy& copy) const {
  if (copy.applier->position()) return copy.applier->position()->offset.next;
  const auto start = start_offset_.find(copy.store->partition());
  return start == start_offset_.end() ? 0 : start->second;
}

std::vector<StandbyCopyStatus> StandbyCopies::status() {
  std::vector<StandbyCopyStatus> out;
  for (auto& [partition, copy] : copies_) {
    auto end = tail_.end_offset(partition);
    if (!end) {
      // Before the tail's first fetch tells the end, the changelog is asked (a copy is never "0 behind" unknowingly).
      auto bounds = changelog_.bounds(partition);
      if (bounds.ok()) end = bounds->end;
    }
    const int64_t lag = end ? std::max<int64_t>(0, *end - position_of(copy)) : 0;
    out.push_back(StandbyCopyStatus{partition, copy.applied, lag, copy.how_started});
  }
  return out;
}

}  // namespace slawatch
