#include "app/kafka_monitor.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "api/case_api.h"
#include "ui/ui_assets.h"
#include "api/rules_in_force.h"
#include "app/audit_trail.h"
#include "app/changelog_handover.h"
#include "app/rule_reloader.h"
#include "app/standby_tailer.h"
#include "app/runtime.h"
#include "http/http_server.h"
#include "metrics/metrics_hub.h"
#include "kafka/kafka_sink.h"
#include "kafka/kafka_source.h"
#include "pipeline/pipeline.h"
#include "alertmanager/repost.h"
#include "runtime/lane_workers.h"
#include "runtime/live_lane.h"
#include "runtime/monitor_loop.h"
#include "shadow/shadow_lane.h"
#include "state/rocksdb_store.h"

namespace slawatch {
namespace {

// How long a stop or a revocation goes on delivering a partition's output
// before leaving the rest in its outbox for the next owner.
constexpr Duration kHandOverGiveUp = std::chrono::seconds(10);

EngineOptions engine_options(const Config& config) {
  return EngineOptions{.grace = config.grace, .retain_closed = config.retain_closed};
}

// A partition's shadow lane: the candidate rules over the partition's slice
// of the shadow state, alerts to the shadow topic.
struct PartitionShadow {
  PartitionShadow(std::shared_ptr<RocksDbDatabase> database, uint16_t partition,
                  std::shared_ptr<const RuleSet> candidate, const Config& config, KafkaProducer& producer)
      : store(std::move(database), partition),
        alerts(producer, config.shadow->alerts_topic,
               config.kafka->alerts_binary_mode ? KafkaPayloadMode::cloudevent_binary
                                                 : KafkaPayloadMode::cloudevent_structured,
               config.kafka->delivery_wait),
        lane(std::move(candidate), store, alerts, engine_options(config),
             PipelineOptions{.batch_records = config.batch_records, .alert_source = config.alert_source,
                             .max_record_bytes = config.max_record_bytes}) {}

  RocksDbStateStore store;
  KafkaSink alerts;
  ShadowLane lane;
  std::unique_ptr<ShadowPipelineMetrics> metrics;  // declared after the lane: gone before it
};

// One assigned partition: its slice of the state, its engine and pipeline,
// and its own sinks (delivery is tracked per outbox, and outboxes are per
// partition). Created on assignment, dropped on revocation; driven by one
// worker (`worker`) in between.
struct AssignedPartition {
  AssignedPartition(std::shared_ptr<RocksDbDatabase> database, uint16_t partition,
                  std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Roster> roster, const Config& config,
                  KafkaProducer& producer, AlertmanagerSender* alertmanager)
      : store(std::move(database), partition),
        engine(std::move(rules), store, engine_options(config)),
        alerts(producer, config.kafka->alerts_topic,
               config.kafka->alerts_binary_mode ? KafkaPayloadMode::cloudevent_binary
                                                 : KafkaPayloadMode::cloudevent_structured,
               config.kafka->delivery_wait),
        dead_letters(producer, config.kafka->dead_letter_topic, KafkaPayloadMode::as_is,
                     config.kafka->delivery_wait),
        alertmanager_tee(alertmanager ? std::make_unique<AlertmanagerTeeSink>(alerts, *alertmanager) : nullptr),
        pipeline(engine, store, alertmanager_tee ? static_cast<RecordSink&>(*alertmanager_tee) : alerts, dead_letters,
                 PipelineOptions{.batch_records = config.batch_records, .alert_source = config.alert_source,
                                 .roster = std::move(roster), .max_record_bytes = config.max_record_bytes}) {}

  std::string position() const {
    const auto offset = next_offset ? next_offset : committed_offset;
    return offset ? kafka_position(*offset, topic, partition) : std::string();
  }
  // Caught up once the consumer has read up to the end offset; before the
  // first fetch (or end-offset query) tells the end, it is not.
  bool caught_up(std::optional<int64_t> end) const {
    return end && next_offset.value_or(committed_offset.value_or(0)) >= *end;
  }

  RocksDbStateStore store;
  Engine engine;
  KafkaSink alerts;
  KafkaSink dead_letters;
  // Alerts acknowledged by Kafka also go to Alertmanager (null without it).
  std::unique_ptr<AlertmanagerTeeSink> alertmanager_tee;
  Pipeline pipeline;
  std::unique_ptr<PipelineMetrics> metrics;  // declared after the pipeline: gone before it
  std::unique_ptr<PartitionShadow> shadow;   // with a `shadow:` section
  std::unique_ptr<LiveLane> lane;            // what the monitor loop drives; made last, over the parts above
  std::string topic;
  int32_t partition = 0;
  std::optional<int64_t> committed_offset;  // from the checkpoint at assignment
  std::optional<int64_t> next_offset;  // after the last record read in this assignment
  std::optional<int64_t> offset_told_to_kafka;
  std::optional<int64_t> end_offset;  // the consumer's, copied before each cycle of the workers
  size_t worker = 0;                  // the one worker that drives this lane while it is assigned
};

// What the composition root (run_kafka_monitor) wires into the monitor: what
// every partition's lane is built from, and the process-wide services.
struct KafkaMonitorParts {
  std::shared_ptr<const RuleSet> rules;
  std::shared_ptr<const Roster> roster;
  std::shared_ptr<RocksDbDatabase> database;
  KafkaProducer& producer;
  spdlog::logger& log;
  MetricsHub& hub;
  HealthState& health;
  RuleReloader& reloader;
  RulesInForce& rules_in_force;                      // what the case API evaluates under
  AuditTrail* audit_trail = nullptr;                 // null without an `audit:` section
  AlertmanagerSender* alertmanager = nullptr;        // null without an `alertmanager:` section
  std::shared_ptr<RocksDbDatabase> shadow_database;  // null without a `shadow:` section
  std::shared_ptr<const RuleSet> candidate;          // the shadow's rules
  ChangelogHandover* handover = nullptr;             // state handover through the changelog (null: off)
  StandbyTailer* standby = nullptr;                  // standby copies and owners (null: no changelog)
  OwnedPartitions& owned;                            // told of every assignment and revocation
};

// The monitor loop and the consumer's partition listener. The monitor thread
// polls, rebalances (callbacks run inside KafkaSource::poll), reloads rules
// and samples health; the lanes' work (apply, fire, commit, deliver) runs on
// the worker pool between polls, each lane on its one worker.
class KafkaMonitor final : public PartitionListener {
 public:
  KafkaMonitor(const Config& config, KafkaMonitorParts parts)
      : config_(config),
        rules_(std::move(parts.rules)),
        roster_(std::move(parts.roster)),
        database_(std::move(parts.database)),
        producer_(parts.producer),
        log_(parts.log),
        hub_(parts.hub),
        health_(parts.health),
        reloader_(parts.reloader),
        rules_in_force_(parts.rules_in_force),
        audit_trail_(parts.audit_trail),
        alertmanager_(parts.alertmanager),
        pool_(config.workers),
        lane_workers_(config.workers),
        shadow_database_(std::move(parts.shadow_database)),
        candidate_(std::move(parts.candidate)),
        handover_(parts.handover),
        standby_(parts.standby),
        owned_(parts.owned) {
    // The firing budgets protect people, so they hold for the process: each worker gets its share.
    const MonitorPolicy policy = monitor_policy(config).shared_by(config.workers);
    for (size_t w = 0; w < config.workers; ++w) {
      loops_.push_back(std::make_unique<MonitorLoop>(
          policy, wall_clock_, steady_, [this](const std::string& m) { log_.warn("{}", m); },
          [this](const std::string& m) { log_.info("{}", m); }));
    }
    shares_.resize(config.workers);
  }

  Result<std::optional<int64_t>> on_partition_assigned(int32_t partition) override {
    if (partition < 0 || partition >= 0xffff) return make_error("partition " + std::to_string(partition) + " out of range");
    auto worker = std::make_unique<AssignedPartition>(database_, static_cast<uint16_t>(partition), rules_, roster_,
                                                    config_, producer_, alertmanager_);
    // A standby copy of the partition stops here, before the lane's store writes it.
    if (standby_ != nullptr) standby_->claim(static_cast<uint16_t>(partition));
    if (handover_ != nullptr) {
      if (auto s = handover_->prepare(worker->store); !s.ok()) return s.error();
    }
    if (auto s = worker->engine.open(); !s.ok()) return s.error();
    auto position = worker->pipeline.recover();
    if (!position.ok()) return position.error();
    if (alertmanager_ != nullptr) {
      // This partition's firing alerts go to Alertmanager again before their leases run out.
      if (auto reposted = repost_firing_alerts(worker->store, *alertmanager_); !reposted.ok()) {
        return reposted.error();
      }
    }
    const std::string& stored_version = worker->pipeline.stored_rules_version();
    if (!stored_version.empty() && stored_version != rules_->version) {
      // The rules changed since this partition's state was written: repair it first.
      auto repaired = worker->pipeline.reload_rules(rules_, *position);
      if (!repaired.ok()) return repaired.error();
      log_.info("partition {}: rules changed since its state was written ({} -> {}): repaired {} case(s), {} "
                "changed", partition, repaired->from_version, repaired->to_version, repaired->cases,
                repaired->changed);
    }
    worker->topic = config_.kafka->events_topic;
    worker->partition = partition;
    auto resume = resume_offset(*position, worker->topic, partition);
    if (!resume.ok()) return resume.error();
    worker->committed_offset = *resume;
    if (shadow_database_) {
      worker->shadow = std::make_unique<PartitionShadow>(shadow_database_, static_cast<uint16_t>(partition),
                                                         candidate_, config_, producer_);
      worker->shadow->metrics = hub_.attach_shadow(worker->shadow->lane.pipeline());
      auto started = worker->shadow->lane.open(worker->store);
      if (!started.ok()) return started.error();
      log_.info("partition {}: shadow rules (version {}): {}", partition, candidate_->version, describe(*started));
    }
    PipelineObservers log_rejects;
    log_rejects.reject = [this, partition](const RawRecord& record, const std::string& reason) {
      log_.warn("partition {}: dead-lettered {}: {}", partition, record.origin, reason);
    };
    worker->metrics = hub_.attach(worker->pipeline, std::to_string(partition), std::move(log_rejects));
    if (audit_trail_) worker->pipeline.set_delivery_observer(audit_trail_->observer(worker->engine));
    owned_.add(static_cast<uint16_t>(partition));  // recovered: its stored cases are current from here on
    log_.info("partition {} assigned: resuming at {}, {} alert(s) left to deliver", partition,
              *resume ? std::to_string(**resume) : std::string("the earliest offset"),
              worker->pipeline.pending_deliveries());
    worker->lane = std::make_unique<LiveLane>(worker->pipeline, worker->shadow ? &worker->shadow->lane : nullptr,
                                              worker->metrics.get(), worker->position());
    worker->worker = lane_workers_.assign(partition);
    partitions_[partition] = std::move(worker);
    return *resume;
  }

  void on_partition_revoked(int32_t partition) override {
    auto it = partitions_.find(partition);
    if (it == partitions_.end()) return;
    owned_.remove(static_cast<uint16_t>(partition));  // its stored cases are stale from now on
    AssignedPartition& assigned = *it->second;
    // Rebalance callbacks run inside poll, between two runs of the workers: no worker drives this lane now.
    // Delivered a window at a time, each recorded before the next leaves, so
    // the next owner repeats at most one batch whenever this is cut short.
    LiveLane* lane = assigned.lane.get();
    auto left = loops_[assigned.worker]->drain(std::span<LiveLane* const>(&lane, 1), kHandOverGiveUp);
    if (!left.ok()) {
      log_.error("partition {}: handing over on revocation failed: {}", partition, left.error().message);
    } else if (*left > 0) {
      log_.warn("partition {}: revoked with {} undelivered output record(s) (kept in the outbox for its next owner)",
                partition, *left);
    }
    if (handover_ != nullptr) handover_->release(assigned.store);
    log_.info("partition {} revoked after offset {}", partition, assigned.position());
    lane_workers_.release(partition);
    partitions_.erase(it);
    if (standby_ != nullptr) standby_->give_back(static_cast<uint16_t>(partition));
  }


  Status run(KafkaSource& source, const std::atomic<bool>& stop, std::optional<Duration> exit_when_idle) {
    std::vector<ConsumedRecord> records;
    Duration next_report = steady_.elapsed() + std::chrono::seconds(30);
    while (!stop.load()) {
      records.clear();
      const auto wait = std::chrono::milliseconds(output_waits_for_replica_ ? 2 : 50);
      if (auto s = source.poll(records, config_.batch_records, wait); !s.ok()) return s;
      const Duration polled = steady_.elapsed();  // every cadence of the monitor runs on this one clock
      if (!records.empty()) {
        if (consumed_ == 0) first_record_at_ = polled;
        last_record_at_ = polled;
        consumed_ += records.size();
      }
      if (exit_when_idle && consumed_ > 0 && polled - last_record_at_ >= *exit_when_idle &&
          polled >= next_idle_check_ && (next_idle_check_ = polled + std::chrono::seconds(1), true) &&
          owns_whole_topic_caught_up(source)) {
        log_.info("every partition of the topic is assigned here and read to its end, no record for {} ms: "
                  "stopping", exit_when_idle->count());
        break;
      }
      if (polled >= next_report) {
        report();
        next_report = polled + std::chrono::seconds(30);
      }
      if (polled >= next_end_query_) {
        // A partition with nothing left to fetch would never learn its end
        // offset from a fetch, and would stay "behind" on its old watermark.
        source.ask_unknown_end_offsets(std::chrono::milliseconds(500));
        next_end_query_ = polled + std::chrono::seconds(1);
      }
      if (auto s = run_workers(source, records); !s.ok()) return s;
      producer_.poll();
      sample_health(source);
      auto reload = [this](const std::shared_ptr<const RuleSet>& next, const std::string& origin) {
        return reload_everywhere(next, origin);
      };
      const bool hangup = take_reload_signal();
      if (auto s = reloader_.serve(hangup, reload); !s.ok()) return s;
      if (shadow_reloader_ != nullptr) {
        auto reload_candidate = [this](const std::shared_ptr<const RuleSet>& next, const std::string&) {
          return reload_shadow(next);
        };
        if (auto s = shadow_reloader_->serve(hangup, reload_candidate); !s.ok()) return s;
      }
    }
    return shutdown(source);
  }

 public:
  // Watches the candidate's files; set once before run() when there is a shadow.
  void set_shadow_reloader(RuleReloader* reloader) { shadow_reloader_ = reloader; }

  // A reloaded roster: every partition names people from it from now on.
  void set_roster(const std::shared_ptr<const Roster>& roster) {
    roster_ = roster;
    for (auto& [partition, worker] : partitions_) worker->pipeline.set_roster(roster);
  }

 private:
  // Hands each worker its lanes' records, then every worker applies them and
  // steps its own loop over its lanes (fire, commit, deliver). Sources and
  // the broker are told about the results here, after all workers are done.
  Status run_workers(KafkaSource& source, const std::vector<ConsumedRecord>& records) {
    for (auto& share : shares_) {
      share.lanes.clear();
      share.records.clear();
    }
    for (auto& [partition, assigned] : partitions_) {
      assigned->end_offset = source.end_offset(partition);
      shares_[assigned->worker].lanes.push_back(assigned.get());
    }
    for (const auto& consumed : records) {
      auto it = partitions_.find(consumed.partition);
      if (it == partitions_.end()) continue;  // revoked while fetched; the next owner reads it again
      shares_[it->second->worker].records.emplace_back(it->second.get(), &consumed);
    }
    pool_.run([this](size_t worker) { drive(worker); });
    bool committed = false;
    output_waits_for_replica_ = false;
    for (auto& share : shares_) {
      if (!share.outcome.ok()) return share.outcome.error();
      committed = committed || *share.outcome;
      output_waits_for_replica_ = output_waits_for_replica_ || share.output_waits_for_replica;
    }
    if (committed) tell_kafka_offsets(source, false);
    return ok_status();
  }

  // One worker's part of a cycle; touches only its own lanes.
  void drive(size_t worker) {
    WorkerShare& share = shares_[worker];
    share.outcome = false;
    share.output_waits_for_replica = false;
    for (auto [assigned_to, consumed] : share.records) {
      AssignedPartition& assigned = *assigned_to;
      auto applied = assigned.lane->apply(consumed->record,
                                          kafka_position(consumed->offset + 1, assigned.topic, assigned.partition));
      if (!applied.ok()) {
        share.outcome = applied.error();
        return;
      }
      assigned.next_offset = consumed->offset + 1;
    }
    share.step_lanes.clear();
    for (AssignedPartition* assigned : share.lanes) {
      assigned->lane->set_caught_up(assigned->caught_up(assigned->end_offset));
      share.step_lanes.push_back(assigned->lane.get());
    }
    auto stepped = loops_[worker]->step(share.step_lanes);
    if (!stepped.ok()) {
      share.outcome = stepped.error();
      return;
    }
    share.outcome = stepped->committed;
    share.output_waits_for_replica = stepped->output_waits_for_replica;
  }

  // A new candidate: each partition's active lane commits first, so both
  // lanes repair from, and commit at, the same position.
  Result<RepairReport> reload_shadow(const std::shared_ptr<const RuleSet>& next) {
    RepairReport total;
    total.from_version = candidate_->version;
    total.to_version = next->version;
    for (auto& [partition, worker] : partitions_) {
      if (auto s = worker->pipeline.commit_if_due(worker->position(), true); !s.ok()) return s.error();
      auto repaired = worker->shadow->lane.pipeline().reload_rules(next, worker->position());
      if (!repaired.ok()) return repaired.error();
      worker->shadow->metrics->rules_replaced();
      total.add(*repaired);
    }
    candidate_ = next;  // partitions assigned later start with it
    return total;
  }

  Result<RepairReport> reload_everywhere(const std::shared_ptr<const RuleSet>& next, const std::string& origin) {
    RepairReport total;
    total.from_version = rules_->version;
    total.to_version = next->version;
    for (auto& [partition, worker] : partitions_) {
      auto repaired = worker->pipeline.reload_rules(next, worker->position());
      if (!repaired.ok()) return repaired.error();
      // The repair committed at this position: the shadow commits there too, so both stay in step.
      if (worker->shadow) {
        if (auto s = worker->shadow->lane.commit(worker->position()); !s.ok()) return s.error();
      }
      worker->metrics->rules_replaced();
      total.add(*repaired);
    }
    rules_ = next;  // partitions assigned later start with it
    rules_in_force_.set(next);
    hub_.rules_version(next->version);
    if (audit_trail_ != nullptr) {
      auto recorded = audit_trail_->record_rules(*next, config_.rules_path, WallClock().now(), "reload by " + origin);
      if (!recorded.ok()) return recorded.error();
    }
    return total;
  }

  // --exit-when-idle may stop only when nothing of the topic is left unread:
  // every partition assigned here (none held by a dead member) and caught up.
  bool owns_whole_topic_caught_up(const KafkaSource& source) const {
    if (partitions_.empty()) return false;
    const auto partitions = source.topic_partition_count(std::chrono::seconds(5));
    if (!partitions || partitions_.size() != static_cast<size_t>(*partitions)) return false;
    return std::all_of(partitions_.begin(), partitions_.end(),
                       [&](const auto& entry) { return entry.second->caught_up(source.end_offset(entry.first)); });
  }

  void tell_kafka_offsets(KafkaSource& source, bool wait) {
    std::map<int32_t, int64_t> offsets;
    for (auto& [partition, worker] : partitions_) {
      if (worker->next_offset && worker->next_offset != worker->offset_told_to_kafka &&
          !worker->pipeline.has_uncommitted()) {
        offsets[partition] = *worker->next_offset;
        worker->offset_told_to_kafka = worker->next_offset;
      }
    }
    source.commit_offsets(offsets, wait);
  }

  // Lag per partition from the consumer's cached end offsets; ready means
  // assigned and caught up (within one batch of the end everywhere).
  void sample_health(KafkaSource& source) {
    bool caught_up = !partitions_.empty();
    for (auto& [partition, worker] : partitions_) {
      const auto end = source.end_offset(partition);
      const int64_t next = worker->next_offset.value_or(worker->committed_offset.value_or(0));
      const int64_t lag = end ? std::max<int64_t>(0, *end - next) : 0;
      caught_up = caught_up && end.has_value() && lag <= static_cast<int64_t>(config_.batch_records);
      worker->metrics->sample(lag);
      if (worker->shadow) worker->shadow->metrics->sample();
    }
    health_.set_partitions_assigned(!partitions_.empty());
    health_.set_caught_up(caught_up);
  }

  void report() const {
    uint64_t fired = 0, dead = 0, pending = 0;
    for (const auto& [partition, worker] : partitions_) {
      fired += worker->pipeline.counters().alerts_fired;
      dead += worker->pipeline.counters().dead_letters;
      pending += worker->pipeline.outbox_depth();
    }
    const double seconds = std::chrono::duration<double>(last_record_at_ - first_record_at_).count();
    log_.info("{} records consumed ({:.0f} records/s from the first to the last), {} partitions; since "
              "assignment: {} alerts fired, {} dead letters, {} in the outbox",
              consumed_, seconds > 0 ? static_cast<double>(consumed_) / seconds : 0.0, partitions_.size(), fired,
              dead, pending);
  }

  Status shutdown(KafkaSource& source) {
    report();
    log_.info("stopping: committing state and delivering output");
    std::vector<LiveLane*> lanes;
    for (auto& [partition, assigned] : partitions_) lanes.push_back(assigned->lane.get());
    auto left = loops_.front()->drain(lanes, kHandOverGiveUp);
    if (!left.ok()) return left.error();
    if (*left > 0) log_.warn("{} record(s) stay in the outboxes for the next start", *left);
    tell_kafka_offsets(source, true);
    source.close();
    return ok_status();
  }

  const Config& config_;
  Duration next_idle_check_{0};  // --exit-when-idle asks the broker at most once a second
  Duration next_end_query_{0};   // so do end offsets the consumer has not fetched
  std::shared_ptr<const RuleSet> rules_;
  std::shared_ptr<const Roster> roster_;
  std::shared_ptr<RocksDbDatabase> database_;
  KafkaProducer& producer_;
  spdlog::logger& log_;
  MetricsHub& hub_;
  HealthState& health_;
  RuleReloader& reloader_;
  RulesInForce& rules_in_force_;  // what the case API evaluates under
  AuditTrail* audit_trail_;  // null without an `audit:` section
  AlertmanagerSender* alertmanager_;  // null without an `alertmanager:` section
  WallClock wall_clock_;
  SteadyMonotonicClock steady_;
  // What one worker does in a cycle: its lanes, the records read for them, and how it went.
  struct WorkerShare {
    std::vector<AssignedPartition*> lanes;
    std::vector<std::pair<AssignedPartition*, const ConsumedRecord*>> records;  // looked up once, when split
    std::vector<LiveLane*> step_lanes;
    Result<bool> outcome = false;  // committed, or the error that stops the monitor
    bool output_waits_for_replica = false;
  };
  // Output waits for the changelog's acknowledgement: poll the input briefly,
  // since the acknowledgement (not a record) is what the next cycle needs.
  bool output_waits_for_replica_ = false;
  WorkerPool pool_;
  LaneWorkers lane_workers_;
  // One loop per worker (firing budget, commit cadence, delivery: the policies every monitor shares).
  std::vector<std::unique_ptr<MonitorLoop>> loops_;
  std::vector<WorkerShare> shares_;
  std::shared_ptr<RocksDbDatabase> shadow_database_;  // null without a `shadow:` section
  std::shared_ptr<const RuleSet> candidate_;          // the shadow's rules
  ChangelogHandover* handover_ = nullptr;             // outlives the monitor
  StandbyTailer* standby_ = nullptr;                  // outlives the monitor
  RuleReloader* shadow_reloader_ = nullptr;
  OwnedPartitions& owned_;  // what the case API answers for: the partitions with a lane here
  std::map<int32_t, std::unique_ptr<AssignedPartition>> partitions_;
  uint64_t consumed_ = 0;
  Duration first_record_at_{0};
  Duration last_record_at_{0};
};

}  // namespace

int run_kafka_monitor(const Config& config, std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Roster> roster,
                      std::optional<Duration> exit_when_idle) {
  spdlog::logger log("slawatch", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  log.set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
  const KafkaConfig& kafka = *config.kafka;
  auto fail = [&](const Error& e) {
    log.error("{}", e.message);
    return 1;
  };
  RocksDbOptions state_options;
  state_options.path = config.state_dir;
  state_options.sync_writes = config.sync_writes;
  auto state_dir = ensure_directory(config.state_dir);
  if (!state_dir.ok()) return fail(state_dir.error());
  auto database = RocksDbDatabase::open(state_options);
  if (!database.ok()) return fail(database.error());
  std::shared_ptr<RocksDbDatabase> shadow_database;
  std::shared_ptr<const RuleSet> candidate;
  if (config.shadow) {
    candidate = load_rules_or_report(config.shadow->rules_path, config.shadow->calendar_paths);
    if (!candidate) return 1;
    RocksDbOptions shadow_options = state_options;
    shadow_options.path = config.shadow->state_dir;
    if (auto s = ensure_directory(shadow_options.path); !s.ok()) return fail(s.error());
    auto opened = RocksDbDatabase::open(shadow_options);
    if (!opened.ok()) return fail(opened.error());
    shadow_database = *opened;
  }

  auto on_client_error = [&log](const std::string& message, bool fatal) {
    if (fatal) {
      log.critical("{}", message);
    } else {
      log.warn("{}", message);
    }
  };
  WallClock clock;
  prometheus::Registry registry;
  MetricsHub hub(registry, clock, BuildInfo{SLAWATCH_VERSION, rules->version});
  hub.watch_database(*database);
  if (shadow_database) hub.watch_database(shadow_database);
  HealthState health;
  health.set_state_open(true);
  RuleReloader reloader(config.rules_path, config.calendar_paths, rules, hub.rules(), log);
  reloader.watch_files(config.reload.watch_interval, clock);
  RulesInForce rules_in_force(rules);
  StateReader state_reader(*database);
  RosterInForce roster_in_force(roster);
  OwnedPartitions owned;  // filled by the monitor's assignments
  CaseApiOptions api_options = case_api_options(config);
  api_options.owned = &owned;
  CaseApi case_api(state_reader, rules_in_force, roster_in_force, api_options);
  std::unique_ptr<RuleReloader> shadow_reloader;
  if (config.shadow) {
    shadow_reloader = std::make_unique<RuleReloader>(config.shadow->rules_path, config.shadow->calendar_paths,
                                                     candidate, hub.shadow_rules(), log, "shadow rules");
    shadow_reloader->watch_files(config.reload.watch_interval, clock);
  }
  auto server = serve_http(config, hub, health, [&](HttpRoutes& routes) {
    reloader.add_routes(routes, config.reload.token, std::chrono::seconds(30));
    if (shadow_reloader) {
      shadow_reloader->add_routes(routes, config.reload.token, std::chrono::seconds(30), "/-/reload/shadow");
    }
    case_api.add_routes(routes);
    add_ui_routes(routes);
  });
  if (!server.ok()) return fail(server.error());
  if (*server) {
    log.info("serving {}/metrics, /livez, /readyz, /api/v1/cases/{{id}}, /api/v1/alerts, /api/v1/ledger, the workbench "
             "/ui/", (*server)->url());
  }

  auto alertmanager = start_alertmanager(config, registry, rules, clock);
  if (!alertmanager.ok()) return fail(alertmanager.error());
  if (*alertmanager) log.info("alerts also go to Alertmanager at {}", config.alertmanager->url);

  auto producer = KafkaProducer::create(kafka, on_client_error);
  if (!producer.ok()) return fail(producer.error());
  std::unique_ptr<AuditTrail> audit_trail;
  if (config.audit) {
    auto started = AuditTrail::start(
        config.audit->path, [&log](const std::string& notice) { log.warn("{}", notice); }, *rules,
        config.rules_path, clock.now(), "run", audit::OpenOptions{config.audit->accept_missing_head});
    if (!started.ok()) return fail(started.error());
    audit_trail = std::move(started).value();
  }
  std::unique_ptr<KafkaChangelog> changelog;
  if (kafka.changelog) {
    auto created = KafkaChangelog::create(kafka, on_client_error);
    if (!created.ok()) return fail(created.error());
    changelog = std::move(created).value();
    log.info("state changes mirrored to the changelog topic {}", changelog->topic());
  }
  ChangelogHandover handover(std::move(changelog), kafka.events_topic, kafka.instance_id, log);
  std::unique_ptr<StandbyTailer> standby;
  if (kafka.changelog) {
    auto started = StandbyTailer::start(StandbyTailer::Parts{.kafka = kafka,
                                                             .database = *database,
                                                             .owned = owned,
                                                             .log = log,
                                                             .registry = registry,
                                                             .on_client_error = on_client_error});
    if (!started.ok()) return fail(started.error());
    standby = std::move(started).value();
    if (kafka.standby_replicas > 0) {
      log.info("standby replicas: {} (warm copies of other instances' partitions, from the changelog)",
               kafka.standby_replicas);
    }
  }
  KafkaMonitor monitor(config, KafkaMonitorParts{.rules = rules,
                                                 .roster = roster,
                                                 .database = *database,
                                                 .producer = **producer,
                                                 .log = log,
                                                 .hub = hub,
                                                 .health = health,
                                                 .reloader = reloader,
                                                 .rules_in_force = rules_in_force,
                                                 .audit_trail = audit_trail.get(),
                                                 .alertmanager = *alertmanager ? (*alertmanager)->sender.get() : nullptr,
                                                 .shadow_database = shadow_database,
                                                 .candidate = candidate,
                                                 .handover = &handover,
                                                 .standby = standby.get(),
                                                 .owned = owned});
  if (shadow_reloader) {
    monitor.set_shadow_reloader(shadow_reloader.get());
    log.info("shadow rules {} (version {}): alerts to {}, notifying nobody", config.shadow->rules_path,
             candidate->version, config.shadow->alerts_topic);
  }
  if (!config.roster_path.empty()) {
    reloader.watch_roster(config.roster_path,
                          [&](const std::shared_ptr<const Roster>& next) {
                            monitor.set_roster(next);
                            roster_in_force.set(next);
                          });
  }
  auto source = KafkaSource::create(kafka, monitor, on_client_error, config.max_record_bytes);
  if (!source.ok()) return fail(source.error());

  log.info("group member {} (static: its partitions wait {} ms for it after a crash)", kafka.instance_id,
           kafka.session_timeout.count());
  log.info("monitoring {} on {} (group {}) with {} deadline and {} count rules (version {}); alerts to {}, "
           "dead letters to {}",
           kafka.events_topic, kafka.brokers, kafka.group_id, rules->deadlines.size(), rules->counts.size(),
           rules->version, kafka.alerts_topic, kafka.dead_letter_topic);
  install_stop_signals();
  install_reload_signal();
  if (auto s = monitor.run(**source, stop_requested(), exit_when_idle); !s.ok()) return fail(s.error());
  if (*alertmanager) {
    (*alertmanager)->sender->stop();  // one last attempt for the alerts just delivered
    log.info("{} alert(s) accepted by Alertmanager", (*alertmanager)->probe->sent_total());
  }
  log.info("stopped cleanly");
  return 0;
}

}  // namespace slawatch
