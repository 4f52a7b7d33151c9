#include "metrics/metrics_hub.h"

#include <rocksdb/db.h>

#include <prometheus/text_serializer.h>

namespace slawatch {

PipelineMetrics::PipelineMetrics(Pipeline& pipeline, std::string partition, BusinessProbe& business,
                                 EngineProbe& engine, StateMetrics& state, const Clock& clock)
    : pipeline_(pipeline),
      partition_(std::move(partition)),
      business_(business),
      engine_(engine),
      state_(state),
      slot_(state.add(RuleSetRole::active)),
      clock_(clock),
      commits_seen_(pipeline.counters().commits),
      records_at_last_commit_(pipeline.counters().records),
      written_seen_(pipeline.commit_totals()),
      timers_fired_seen_(pipeline.engine().counters().timers_fired),
      purged_seen_(pipeline.engine().counters().purged),
      delivery_failures_seen_(pipeline.counters().delivery_failures) {
  refresh_state();
}

PipelineMetrics::~PipelineMetrics() {
  state_.remove(slot_);
  engine_.forget_partition(partition_);
}

void PipelineMetrics::refresh_state() {
  // A store error here is not the metrics' to report: the next commit will.
  if (auto tallies = pipeline_.committed_tallies(); tallies.ok()) state_.update(slot_, std::move(tallies).value());
  state_at_commit_ = pipeline_.counters().commits;
}

void PipelineMetrics::on_event(const CaseEvent& event, ApplyOutcome outcome) {
  engine_.event(event.type, outcome);
  if (outcome == ApplyOutcome::case_full) return;
  engine_.event_lag(clock_.now() - event.time);
  if (outcome != ApplyOutcome::applied) return;
  // The case's department as its log stands when the event is applied.
  auto department_at = [&](Instant at) -> std::string {
    auto attributes = pipeline_.engine().case_attributes(event.case_id, at);
    return attributes.ok() ? attributes->department : std::string{};
  };
  switch (event.type) {
    case EventType::created: business_.case_created(event.priority); break;
    case EventType::dispatched: {
      const std::string from =
          event.from_department.empty() ? department_at(event.time - Duration{1}) : event.from_department.str();
      if (!from.empty() && from != event.department) business_.case_transferred(from);
      break;
    }
    case EventType::returned:
      business_.case_returned(event.department.empty() ? department_at(event.time) : event.department.str());
      break;
    case EventType::feedback:
      if (event.satisfied) business_.feedback(department_at(event.time), *event.satisfied);
      break;
    default: break;
  }
}

void PipelineMetrics::on_alert(const Alert& alert) {
  if (alert.kind == AlertKind::fired) engine_.timer_fire_delay(alert.emitted_at - alert.due_at);
  business_.alert(alert);
  if (alert.kind == AlertKind::fired) {
    for (const auto& target : alert.notify) business_.alert_notified(alert, target.role);
  }
}

void PipelineMetrics::on_reject(const std::string& reason) { engine_.dead_letter(reason); }

void PipelineMetrics::after_commit(std::chrono::nanoseconds took) {
  const auto& counters = pipeline_.counters();
  if (counters.commits == commits_seen_) return;
  commits_seen_ = counters.commits;
  engine_.commit(partition_, counters.records - records_at_last_commit_,
                 std::chrono::duration<double>(took).count());
  records_at_last_commit_ = counters.records;
  const CommitTotals written = pipeline_.commit_totals();
  engine_.state_writes(partition_, written - written_seen_);
  written_seen_ = written;
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
  if (pipeline_.counters().commits != state_at_commit_) refresh_state();
}

ShadowPipelineMetrics::ShadowPipelineMetrics(Pipeline& pipeline, BusinessProbe& shadow_business,
                                             StateMetrics& state)
    : pipeline_(pipeline), state_(state), slot_(state.add(RuleSetRole::shadow)) {
  pipeline.set_alert_observer([&shadow_business](const Alert& alert) { shadow_business.alert(alert); });
  refresh_state();
}

ShadowPipelineMetrics::~ShadowPipelineMetrics() { state_.remove(slot_); }

void ShadowPipelineMetrics::sample() {
  if (pipeline_.counters().commits != state_at_commit_) refresh_state();
}

void ShadowPipelineMetrics::refresh_state() {
  if (auto tallies = pipeline_.committed_tallies(); tallies.ok()) state_.update(slot_, std::move(tallies).value());
  state_at_commit_ = pipeline_.counters().commits;
}

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
                                                    PipelineObservers also) {
  auto metrics =
      std::make_unique<PipelineMetrics>(pipeline, std::move(partition), business_, engine_, state_, clock_);
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

std::unique_ptr<ShadowPipelineMetrics> MetricsHub::attach_shadow(Pipeline& pipeline) {
  return std::make_unique<ShadowPipelineMetrics>(pipeline, shadow_business_, state_);
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
  return prometheus::TextSerializer().Serialize(collect());
}

std::vector<prometheus::MetricFamily> MetricsHub::collect() {
  auto families = registry_.Collect();
  for (auto& family : state_.collect()) families.push_back(std::move(family));
  return families;
}

void MetricsHub::add_routes(HttpRoutes& routes) {
  routes.get("/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", scrape()};
  });
}

}  // namespace slawatch
