#include "alertmanager/sender.h"

#include <algorithm>

namespace slawatch {

AlertmanagerSender::AlertmanagerSender(AlertmanagerOptions options, AlertmanagerClient& client, const Clock& clock,
                                       AlertmanagerProbe& probe, RoleLookup roles, uint64_t jitter_seed)
    : options_(options),
      clock_(clock),
      probe_(probe),
      dispatcher_(std::move(options), client, clock, probe, std::move(roles), jitter_seed) {}

AlertmanagerSender::~AlertmanagerSender() { stop(); }

bool AlertmanagerSender::enqueue(Alert alert) {
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= options_.queue) {
      probe_.dropped("queue_full");
      return false;
    }
    queue_.push_back(std::move(alert));
    probe_.queue_depth(queue_.size());
  }
  wake_.notify_one();
  return true;
}

size_t AlertmanagerSender::enqueue_all(std::vector<Alert> alerts) {
  size_t taken = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& alert : alerts) {
      if (queue_.size() >= options_.queue) {
        probe_.dropped("queue_full");
        continue;
      }
      queue_.push_back(std::move(alert));
      ++taken;
    }
    probe_.queue_depth(queue_.size());
  }
  if (taken > 0) wake_.notify_one();
  return taken;
}

void AlertmanagerSender::restore(std::vector<Alert> firing) {
  if (firing.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& alert : firing) queue_.push_back(std::move(alert));
    probe_.queue_depth(queue_.size());
  }
  wake_.notify_one();
}

size_t AlertmanagerSender::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

size_t AlertmanagerSender::pump() {
  std::deque<Alert> taken;
  {
    std::lock_guard lock(mutex_);
    taken.swap(queue_);
    probe_.queue_depth(0);
  }
  for (auto& alert : taken) dispatcher_.accept(std::move(alert));
  return dispatcher_.run_due();
}

void AlertmanagerSender::start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { loop(); });
}

void AlertmanagerSender::loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    pump();
    lock.lock();
    // Sleep until the next resend or the end of a backoff, at most 1 s (so a
    // clock that jumps is noticed), or until an alert arrives or stop().
    const Duration until_due = dispatcher_.next_due() - clock_.now();
    const Duration wait = std::clamp(until_due, Duration{0}, Duration{std::chrono::seconds{1}});
    wake_.wait_for(lock, wait, [&] { return stopping_ || !queue_.empty(); });
  }
}

void AlertmanagerSender::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  dispatcher_.clear_backoff();
  pump();
}

}  // namespace slawatch
