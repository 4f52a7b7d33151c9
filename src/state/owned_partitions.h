#pragma once
// Which partitions of the local state this instance owns right now. With
// Kafka, a revoked partition's records stay on disk as they were last
// committed, stale from then on: readers (the case API) ask here before
// answering from them. The Kafka monitor adds a partition once its state is
// open and removes it when it is revoked; file input owns every partition.
// It also keeps which instance owns the other partitions, as far as known
// (from each changelog partition's latest marker), to name it to a caller.
// Thread-safe: the monitor and standby threads write while HTTP threads read.
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
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
  // `instance` made the partition's latest commit in the changelog (empty: not known).
  void learn_owner(uint16_t partition, std::string instance) {
    std::lock_guard lock(mutex_);
    if (instance.empty()) {
      owners_.erase(partition);
    } else {
      owners_[partition] = std::move(instance);
    }
  }
  // The instance that made the partition's latest known commit (nullopt: not known).
  std::optional<std::string> last_known_owner(uint16_t partition) const {
    std::lock_guard lock(mutex_);
    const auto it = owners_.find(partition);
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }
  // Ascending; empty for an instance that owns everything (it lists nothing).
  std::vector<uint16_t> list() const {
    std::lock_guard lock(mutex_);
    return {partitions_.begin(), partitions_.end()};
  }

 private:
  const bool everything_;
  mutable std::mutex mutex_;
  std::set<uint16_t> partitions_;
  std::map<uint16_t, std::string> owners_;
};

}  // namespace slawatch
