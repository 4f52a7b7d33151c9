#include "app/changelog_handover.h"

#include "state/changelog_restore.h"

namespace slawatch {

ChangelogHandover::ChangelogHandover(std::unique_ptr<KafkaChangelog> changelog, std::string input_topic,
                                     std::string instance, spdlog::logger& log)
    : changelog_(std::move(changelog)),
      input_topic_(std::move(input_topic)),
      instance_(std::move(instance)),
      log_(log) {}

Status ChangelogHandover::prepare(RocksDbStateStore& store) {
  if (!changelog_) return ok_status();
  // At the first assignment the input topic surely exists, so its partition count is known.
  std::call_once(topic_checked_, [this] { topic_status_ = changelog_->ensure_topic(input_topic_); });
  if (!topic_status_.ok()) return topic_status_;
  auto restored = prepare_partition(store, *changelog_, RestoreContext{random_id, clock_, wall_, instance_});
  if (!restored.ok()) {
    return make_error("partition " + std::to_string(store.partition()) + ": changelog " + changelog_->topic() + ": " +
                      restored.error().message);
  }
  log_.info("partition {}: {}", store.partition(), restored->describe());
  return ok_status();
}

void ChangelogHandover::release(RocksDbStateStore& store) {
  if (!changelog_) return;
  if (auto s = store.flush_changelog(); !s.ok()) {
    log_.warn("partition {}: revoked before its last commit reached the changelog (the next owner repeats at most "
              "that batch): {}", store.partition(), s.error().message);
  }
}

}  // namespace slawatch
