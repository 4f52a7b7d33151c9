#include "metrics/metrics_hub.h"

#include <rocksdb/db.h>

#include <prometheus/text_serializer.h>

namespace slawatch {

PipelineMetrics::PipelineMetrics(Pipeline& pipeline, std::string partition, BusinessProbe& business,
                                 EngineProbe& engine, const Clock& clock, size_t tracked_cases)
    : pipeline_(pipeline),
      partition_(std::move(partition)),
      engine_(engine),
      clock_(clock),
      tracker_(std::make_unique<CaseTracker>(pipeline.engine().rules_ptr(), business, tracked_cases)),
      commits_seen_(pipeline.counters().commits),
      records_at_last_commit_(pipeline.counters().records),
      timers_fired_seen_(pipeline.engine().counters().timers_fired),
      purged_seen_(pipeline.engine().counters().purged),
      delivery_failures_seen_(pipeline.counters().delivery_failures) {}

void PipelineMetrics::on_event(const CaseEvent& event, ApplyOutcome outcome) {
  engine_.event(event.type, outcome);
  if (outcome == ApplyOutcome::case_full) return;
  engine_.event_lag(clock_.now() - event.time);
  if (outcome == ApplyOutcome::applied) tracker_->on_event(event);
}

void PipelineMetrics::on_alert(const Alert& alert) {
  if (alert.kind == AlertKind::fired) engine_.timer_fire_delay(alert.emitted_at - alert.due_at);
  tracker_->on_alert(alert);
}

void PipelineMetrics::rules_replaced() { tracker_->replace_rules(pipeline_.engine().rules_ptr()); }

void PipelineMetrics::on_reject(const std::string& reason) { engine_.dead_letter(reason); }

void PipelineMetrics::after_commit(std::chrono::nanoseconds took) {
  const auto& counters = pipeline_.counters();
  if (counters.commits == commits_seen_) return;
  commits_seen_ = counters.commits;
  engine_.commit(partition_, counters.records - records_at_last_commit_,
                 std::chrono::duration<double>(took).count());
  records_at_last_commit_ = counters.records;
}

void PipelineMetrics::sample(int64_t input_lag_records) {
  engine_.outbox_depth(partition_, pipeline_.outbox_depth());
  engine_.cached_cases(partition_, pipeline_.engine().cached_cases());
  // A store error here is not the metrics' to report: the next commit will.
  if (auto timers = pipeline_.pending_timers(); timers.ok()) engine_.pending_timers(partition_, timers.value());
  engine_.input_lag(partition_, input_lag_records);
  const uint64_t fired = pipeline_.engine().counters().timers_fired;
  engine_.timers_fired(fired - timers_fired_seen_);
  timers_fired_seen_ = fired;
  const uint64_t purged = pipeline_.engine().counters().purged;
  engine_.cases_purged(purged - purged_seen_);
  purged_seen_ = purged;
  const uint64_t failures = pipeline_.counters().delivery_failures;
  engine_.delivery_failures(failures - delivery_failures_seen_);
  delivery_failures_seen_ = failures;
}

ShadowPipelineMetrics::ShadowPipelineMetrics(Pipeline& pipeline, BusinessProbe& shadow_business,
                                             size_t tracked_cases)
    : pipeline_(pipeline),
      tracker_(std::make_unique<CaseTracker>(pipeline.engine().rules_ptr(), shadow_business, tracked_cases)) {}

void ShadowPipelineMetrics::rules_replaced() { tracker_->replace_rules(pipeline_.engine().rules_ptr()); }

MetricsHub::MetricsHub(prometheus::Registry& registry, const Clock& clock, BuildInfo build)
    : registry_(registry),
      clock_(clock),
      business_(registry),
      shadow_business_(registry, 500, RuleSetRole::shadow),
      engine_(registry),
      rules_(registry) {
  build_version_ = build.version;
  engine_.build_info(build.version, build.rules_version);
}

std::unique_ptr<PipelineMetrics> MetricsHub::attach(Pipeline& pipeline, std::string partition,
                                                    PipelineObservers also, size_t tracked_cases) {
  auto metrics = std::make_unique<PipelineMetrics>(pipeline, std::move(partition), business_, engine_, clock_,
                                                   tracked_cases);
  PipelineMetrics* self = metrics.get();
  pipeline.set_event_observer(chain<Pipeline::EventObserver>(
      [self](const CaseEvent& event, ApplyOutcome outcome) { self->on_event(event, outcome); },
      std::move(also.event)));
  pipeline.set_alert_observer(
      chain<Pipeline::AlertObserver>([self](const Alert& alert) { self->on_alert(alert); }, std::move(also.alert)));
  pipeline.set_reject_observer(chain<Pipeline::RejectObserver>(
      [self](const RawRecord&, const std::string& reason) { self->on_reject(reason); }, std::move(also.reject)));
  return metrics;
}

RulesProbe& MetricsHub::shadow_rules() {
  if (!shadow_rules_) shadow_rules_ = std::make_unique<RulesProbe>(registry_, RuleSetRole::shadow);
  return *shadow_rules_;
}

std::unique_ptr<ShadowPipelineMetrics> MetricsHub::attach_shadow(Pipeline& pipeline, size_t tracked_cases) {
  auto metrics = std::make_unique<ShadowPipelineMetrics>(pipeline, shadow_business_, tracked_cases);
  ShadowPipelineMetrics* self = metrics.get();
  pipeline.set_event_observer([self](const CaseEvent& event, ApplyOutcome outcome) {
    if (outcome == ApplyOutcome::applied) self->tracker().on_event(event);
  });
  pipeline.set_alert_observer([self](const Alert& alert) { self->tracker().on_alert(alert); });
  return metrics;
}

void MetricsHub::watch_database(std::shared_ptr<const RocksDbDatabase> database) {
  std::lock_guard lock(databases_mutex_);
  databases_.push_back(std::move(database));
}

std::string MetricsHub::scrape() {
  {
    std::lock_guard lock(databases_mutex_);
    uint64_t live_bytes = 0;
    bool stalled = false;
    for (const auto& database : databases_) {
      live_bytes += database->live_data_bytes();
      uint64_t stopped = 0;
      uint64_t delayed_rate = 0;
      database->db()->GetIntProperty(rocksdb::DB::Properties::kIsWriteStopped, &stopped);
      database->db()->GetIntProperty(rocksdb::DB::Properties::kActualDelayedWriteRate, &delayed_rate);
      stalled = stalled || stopped != 0 || delayed_rate != 0;
    }
    if (!databases_.empty()) engine_.rocksdb(live_bytes, stalled);
  }
  return prometheus::TextSerializer().Serialize(registry_.Collect());
}

void MetricsHub::add_routes(HttpRoutes& routes) {
  routes.get("/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", scrape()};
  });
}

}  // namespace slawatch
