#pragma once
// The live monitor's side of state handover (issue 14): each partition's
// store is restored from the changelog on assignment and mirrored to it from
// then on; on revocation its last commit is flushed to the changelog before
// another instance may take the partition. Without a changelog (`kafka.changelog:
// false`) every call is a no-op. Used on the thread that owns the partition.
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/logger.h>

#include "kafka/kafka_changelog.h"
#include "state/rocksdb_store.h"

namespace slawatch {

class ChangelogHandover {
 public:
  // `changelog` null: handover off.
  // `instance` (kafka.instance_id) goes into this instance's markers.
  ChangelogHandover(std::unique_ptr<KafkaChangelog> changelog, std::string input_topic, std::string instance,
                    spdlog::logger& log);

  // Before the partition's engine opens the store: makes sure the topic exists
  // (once), then restores or keeps the local state and logs which and why.
  Status prepare(RocksDbStateStore& store);
  // After the partition's last commit: waits until the changelog holds it.
  void release(RocksDbStateStore& store);
  bool enabled() const { return changelog_ != nullptr; }

 private:
  std::unique_ptr<KafkaChangelog> changelog_;
  std::string input_topic_;
  std::string instance_;
  spdlog::logger& log_;
  SteadyMonotonicClock clock_;
  WallClock wall_;
  std::once_flag topic_checked_;
  Status topic_status_ = ok_status();
};

}  // namespace slawatch
