#pragma once
// Standby replicas (`kafka.standby_replicas`), and who owns what. On its own
// thread, every couple of seconds, the tailer reads each changelog
// partition's latest marker to learn which instance owns it (told to
// OwnedPartitions, which the case API's 421 names), works out the partitions
// this instance stands by for (standby_partitions) and keeps warm copies of
// them (StandbyCopies) by applying their changelog as it arrives. With no
// replicas it only learns the owners.
//
// The monitor thread claims a partition before its lane opens the store: the
// claim waits until the tailer has stopped writing the copy, so a copy and a
// lane never write one partition at once. A revoked partition is given back.
// Uses its own changelog reader and group-less tail consumer, never the
// admin API (DescribeConsumerGroups aborted librdkafka 2.0.2 during a broker restart).
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <prometheus/registry.h>
#include <spdlog/logger.h>

#include "kafka/kafka_changelog.h"
#include "metrics/probes.h"
#include "state/owned_partitions.h"
#include "state/standby_copies.h"

namespace slawatch {

class StandbyTailer {
 public:
  struct Parts {
    const KafkaConfig& kafka;
    std::shared_ptr<RocksDbDatabase> database;
    OwnedPartitions& owned;
    spdlog::logger& log;
    prometheus::Registry& registry;
    KafkaErrorHandler on_client_error;
  };
  // Starts the thread.
  static Result<std::unique_ptr<StandbyTailer>> start(Parts parts);
  ~StandbyTailer();  // stops and joins the thread
  StandbyTailer(const StandbyTailer&) = delete;
  StandbyTailer& operator=(const StandbyTailer&) = delete;

  // The partition is about to be owned here: stop keeping its copy (left on
  // disk for prepare_partition to catch up). Returns once the copy is still.
  void claim(uint16_t partition);
  // The partition was revoked here; it may become a standby copy again.
  void give_back(uint16_t partition);

 private:
  StandbyTailer(Parts parts, std::unique_ptr<KafkaChangelog> changelog, std::unique_ptr<KafkaChangelogTail> tail);
  void run();
  // Reads the owners and keeps the copies this instance stands by for.
  void refresh();
  void export_status();

  const KafkaConfig& kafka_;
  OwnedPartitions& owned_;
  spdlog::logger& log_;
  std::unique_ptr<KafkaChangelog> changelog_;  // reads the latest markers and partition bounds
  std::unique_ptr<KafkaChangelogTail> tail_;
  WallClock wall_;

  StandbyProbe probe_;

  std::mutex mutex_;  // guards copies_ and claimed_: the tailer thread works on copies under it
  std::atomic<bool> claim_waiting_{false};
  StandbyCopies copies_;
  std::set<uint16_t> claimed_;  // owned here: never a standby copy
  std::map<uint16_t, std::string> owners_;  // tailer thread only
  std::string last_problem_;                // tailer thread only: logged once until it changes

  std::mutex stop_mutex_;
  std::condition_variable stop_signal_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace slawatch
