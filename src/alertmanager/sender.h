#pragma once
// Delivery of alerts to Alertmanager off the engine's thread. The pipeline
// thread hands alert events to a bounded queue (enqueue never blocks: when
// the queue is full the event is dropped and counted); a sender thread takes
// them into an AlertmanagerDispatcher and posts what is due, waking for new
// alerts, resends and the end of a backoff.
//
//   AlertmanagerSender sender(options, client, clock, probe, roles);
//   sender.start();                 // the thread
//   ... sender.enqueue(alert) from the pipeline thread (AlertmanagerTeeSink) ...
//   sender.stop();                  // final attempt for what is queued, then join
//
// Threading: enqueue() from any thread; start()/stop()/pump() from the
// owner. Without start(), pump() does the thread's work once (tests).
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "alertmanager/dispatcher.h"

namespace slawatch {

class AlertmanagerSender {
 public:
  // `client`, `clock` and `probe` must outlive the sender.
  AlertmanagerSender(AlertmanagerOptions options, AlertmanagerClient& client, const Clock& clock,
                     AlertmanagerProbe& probe, RoleLookup roles = {}, uint64_t jitter_seed = std::random_device{}());
  ~AlertmanagerSender();  // stop()
  AlertmanagerSender(const AlertmanagerSender&) = delete;
  AlertmanagerSender& operator=(const AlertmanagerSender&) = delete;

  // False (and counted as dropped, reason queue_full) when the queue is full.
  bool enqueue(Alert alert);
  // Alerts delivered together (one commit's) go in at once, so the sender
  // takes and posts them together: a breach then reaches Alertmanager with the
  // warning it inhibits, not a moment after it. Those beyond the queue's
  // capacity are dropped and counted; returns how many went in.
  size_t enqueue_all(std::vector<Alert> alerts);
  // Firing alerts restored from the state after a restart (repost.h): taken
  // whatever the queue's capacity, since they are bounded by the state.
  void restore(std::vector<Alert> firing);
  // Counts an alert event that could not be handed over at all.
  void dropped(std::string_view reason) { probe_.dropped(reason); }

  void start();
  // Stops the thread, then takes what is queued and makes one last attempt
  // to post everything due (backoff ignored). Idempotent.
  void stop();
  // Moves the queue into the dispatcher and posts what is due; returns the
  // Alertmanager alerts accepted. The thread's loop body.
  size_t pump();

  size_t queued() const;
  // Before start(): see AlertmanagerDispatcher::set_logger.
  void set_logger(AlertmanagerDispatcher::Logger logger) { dispatcher_.set_logger(std::move(logger)); }
  const AlertmanagerDispatcher& dispatcher() const { return dispatcher_; }

 private:
  void loop();

  AlertmanagerOptions options_;
  const Clock& clock_;
  AlertmanagerProbe& probe_;
  AlertmanagerDispatcher dispatcher_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Alert> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slawatch
