#pragma once
// A fixed pool of threads that run the live lanes' work fork-join: the
// monitor thread hands every worker its share, runs worker 0's share itself,
// and returns once all are done. Between two runs the monitor thread alone
// touches the lanes (poll, rebalance, rule reloads, health), so nothing
// outside a lane needs a lock beyond what is shared by design (the producer,
// the database, metrics). A lane is given to one worker for as long as it is
// assigned (LaneWorkers::owner), so it is only ever driven by one thread at a
// time and stays deterministic.
// Threading: run() from one thread (the monitor's); the work it runs on
// worker i must touch only worker i's lanes.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace slawatch {

class WorkerPool {
 public:
  // `workers` >= 1; workers - 1 threads are started (worker 0 is the caller).
  explicit WorkerPool(size_t workers);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  size_t size() const { return threads_.size() + 1; }
  // Calls work(i) for every worker i, in parallel; returns when all returned.
  void run(const std::function<void(size_t worker)>& work);

 private:
  void serve(size_t worker);

  std::mutex mutex_;
  std::condition_variable start_;
  std::condition_variable done_;
  const std::function<void(size_t)>* work_ = nullptr;
  uint64_t generation_ = 0;  // bumped per run: each thread runs each generation once
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Which worker drives which lane: a new lane goes to the worker with the
// fewest (the lowest index on a tie), so the partitions of one process spread
// evenly and a rebalance moves no other lane. Keys are partition numbers.
class LaneWorkers {
 public:
  explicit LaneWorkers(size_t workers) : lanes_per_worker_(workers, 0) {}
  size_t assign(int partition);
  void release(int partition);
  // The worker of an assigned partition.
  size_t owner(int partition) const;
  size_t workers() const { return lanes_per_worker_.size(); }

 private:
  std::vector<size_t> lanes_per_worker_;
  std::vector<std::pair<int, size_t>> owners_;  // few: linear search is fastest
};

}  // namespace slawatch
