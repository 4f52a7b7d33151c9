#include "runtime/lane_workers.h"

#include <algorithm>
#include <stdexcept>

namespace slawatch {

WorkerPool::WorkerPool(size_t workers) {
  if (workers == 0) throw std::invalid_argument("a worker pool needs at least one worker");
  for (size_t i = 1; i < workers; ++i) threads_.emplace_back([this, i] { serve(i); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  start_.notify_all();
  for (auto& thread : threads_) thread.join();
}

void WorkerPool::run(const std::function<void(size_t)>& work) {
  if (threads_.empty()) {
    work(0);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    work_ = &work;
    running_ = threads_.size();
    ++generation_;
  }
  start_.notify_all();
  work(0);
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return running_ == 0; });
  work_ = nullptr;
}

void WorkerPool::serve(size_t worker) {
  uint64_t seen = 0;
  std::unique_lock lock(mutex_);
  while (true) {
    start_.wait(lock, [&] { return stopping_ || generation_ != seen; });
    if (stopping_) return;
    seen = generation_;
    const auto* work = work_;
    lock.unlock();
    (*work)(worker);
    lock.lock();
    if (--running_ == 0) done_.notify_one();
  }
}

size_t LaneWorkers::assign(int partition) {
  const auto least = std::min_element(lanes_per_worker_.begin(), lanes_per_worker_.end());
  const size_t worker = static_cast<size_t>(least - lanes_per_worker_.begin());
  ++*least;
  owners_.emplace_back(partition, worker);
  return worker;
}

void LaneWorkers::release(int partition) {
  auto it = std::find_if(owners_.begin(), owners_.end(), [&](const auto& o) { return o.first == partition; });
  if (it == owners_.end()) return;
  --lanes_per_worker_[it->second];
  owners_.erase(it);
}

size_t LaneWorkers::owner(int partition) const {
  auto it = std::find_if(owners_.begin(), owners_.end(), [&](const auto& o) { return o.first == partition; });
  return it == owners_.end() ? 0 : it->second;
}

}  // namespace slawatch
