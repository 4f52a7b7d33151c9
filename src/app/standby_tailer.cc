#include "app/standby_tailer.h"

#include <chrono>

namespace slawatch {
namespace {

// How often the owners are read again (one last-record read per changelog partition).
constexpr auto kRefreshEvery = std::chrono::seconds(2);
// How long one poll of the tail waits for records.
constexpr auto kPollWait = std::chrono::milliseconds(100);

}  // namespace

Result<std::unique_ptr<StandbyTailer>> StandbyTailer::start(Parts parts) {
  auto changelog = KafkaChangelog::create(parts.kafka, parts.on_client_error);
  if (!changelog.ok()) return changelog.error();
  auto tail = KafkaChangelogTail::create(parts.kafka, parts.on_client_error);
  if (!tail.ok()) return tail.error();
  std::unique_ptr<StandbyTailer> tailer(
      new StandbyTailer(std::move(parts), std::move(changelog).value(), std::move(tail).value()));
  tailer->thread_ = std::thread([t = tailer.get()] { t->run(); });
  return tailer;
}

StandbyTailer::StandbyTailer(Parts parts, std::unique_ptr<KafkaChangelog> changelog,
                             std::unique_ptr<KafkaChangelogTail> tail)
    : kafka_(parts.kafka),
      owned_(parts.owned),
      log_(parts.log),
      changelog_(std::move(changelog)),
      tail_(std::move(tail)),
      probe_(parts.registry),
      copies_(std::move(parts.database), *changelog_, *tail_, wall_) {}

StandbyTailer::~StandbyTailer() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_signal_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StandbyTailer::claim(uint16_t partition) {
  claim_waiting_ = true;
  std::lock_guard lock(mutex_);
  claim_waiting_ = false;
  claimed_.insert(partition);
  if (!copies_.holds(partition)) return;
  int64_t lag = 0;
  for (const auto& copy : copies_.status()) {
    if (copy.partition == partition) lag = copy.lag;
  }
  if (auto s = copies_.release(partition); !s.ok()) {
    log_.warn("partition {}: standby copy left mid-write ({}); the restore checks it", partition, s.error().message);
  } else {
    log_.info("partition {}: standby copy handed over to the lane, {} changelog record(s) behind", partition, lag);
  }
  probe_.copy_handed_over(partition);
}

void StandbyTailer::give_back(uint16_t partition) {
  std::lock_guard lock(mutex_);
  claimed_.erase(partition);
}

void StandbyTailer::run() {
  auto next_refresh = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::unique_lock lock(stop_mutex_);
      if (stopping_) return;
    }
    if (std::chrono::steady_clock::now() >= next_refresh) {
      refresh();
      next_refresh = std::chrono::steady_clock::now() + kRefreshEvery;
    }
    bool idle = true;
    if (!claim_waiting_) {
      std::lock_guard lock(mutex_);
      auto applied = copies_.poll(kPollWait);
      if (!applied.ok()) {
        if (applied.error().message != last_problem_) log_.warn("standby copies: {}", applied.error().message);
        last_problem_ = applied.error().message;
      } else {
        probe_.records_applied(*applied);
        idle = copies_.count() == 0;  // with copies, the poll itself waited
      }
      export_status();
    }
    if (idle || claim_waiting_) {
      // Nothing to follow (or a claim waits for the lock): wait instead of spinning.
      std::unique_lock lock(stop_mutex_);
      stop_signal_.wait_for(lock, kPollWait, [this] { return stopping_; });
    }
  }
}

void StandbyTailer::refresh() {
  auto partitions = changelog_->changelog_partitions();
  if (!partitions.ok() || *partitions == 0) return;  // no changelog yet: the first owner creates it
  for (int32_t p = 0; p < *partitions; ++p) {
    const auto partition = static_cast<uint16_t>(p);
    auto last = changelog_->last_record(partition);
    if (!last.ok()) {
      if (last.error().message != last_problem_) log_.warn("standby: reading owners: {}", last.error().message);
      last_problem_ = last.error().message;
      return;
    }
    // A partition ending inside a batch keeps the owner learned before.
    if (auto marker = *last ? ChangelogMarker::of(**last) : std::nullopt) owners_[partition] = marker->instance;
  }
  for (const auto& [partition, owner] : owners_) {
    // This instance's own marker on a partition it no longer owns names nobody who can answer.
    owned_.learn_owner(partition, owner == kafka_.instance_id ? std::string() : owner);
  }
  if (kafka_.standby_replicas == 0) return;
  const auto wanted = standby_partitions(owners_, kafka_.instance_id, kafka_.standby_replicas);
  std::lock_guard lock(mutex_);
  std::set<uint16_t> kept;
  for (const uint16_t partition : wanted) {
    if (!claimed_.contains(partition)) kept.insert(partition);
  }
  std::set<uint16_t> before;
  for (const auto& copy : copies_.status()) before.insert(copy.partition);
  if (auto s = copies_.keep(kept); !s.ok()) {
    if (s.error().message != last_problem_) log_.warn("standby copies: {}", s.error().message);
    last_problem_ = s.error().message;
  }
  for (const auto& copy : copies_.status()) {
    if (!before.contains(copy.partition)) {
      log_.info("partition {}: standby copy for instance {} ({} replica(s)), reading {}", copy.partition,
                owners_[copy.partition], kafka_.standby_replicas, copy.how_started);
    }
  }
  for (const uint16_t partition : before) {
    if (!copies_.holds(partition)) log_.info("partition {}: no longer a standby here, copy wiped", partition);
  }
  export_status();
}

void StandbyTailer::export_status() {
  std::vector<StandbyProbe::Copy> held;
  for (const auto& copy : copies_.status()) held.push_back({copy.partition, copy.lag});
  probe_.copies_held(held);
}

}  // namespace slawatch
