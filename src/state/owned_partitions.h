#pragma once
// Which partitions of the local state this instance owns right now. With
// Kafka, a revoked partition's records stay on disk as they were last
// committed, stale from then on: readers (the case API) ask here before
// answering from them. The Kafka monitor adds a partition once its state is
// open and removes it when it is revoked; file input owns every partition.
// Thread-safe: the monitor thread writes while HTTP threads read.
#include <cstdint>
#include <mutex>
#include <set>
#include <vector>

namespace slawatch {

class OwnedPartitions {
 public:
  enum class Initially { none, everything };
  explicit OwnedPartitions(Initially initially = Initially::none)
      : everything_(initially == Initially::everything) {}

  void add(uint16_t partition) {
    std::lock_guard lock(mutex_);
    partitions_.insert(partition);
  }
  void remove(uint16_t partition) {
    std::lock_guard lock(mutex_);
    partitions_.erase(partition);
  }
  bool owns(uint16_t partition) const {
    std::lock_guard lock(mutex_);
    return everything_ || partitions_.contains(partition);
  }
  bool owns_everything() const { return everything_; }
  // Ascending; empty for an instance that owns everything (it lists nothing).
  std::vector<uint16_t> list() const {
    std::lock_guard lock(mutex_);
    return {partitions_.begin(), partitions_.end()};
  }

 private:
  const bool everything_;
  mutable std::mutex mutex_;
  std::set<uint16_t> partitions_;
};

}  // namespace slawatch
