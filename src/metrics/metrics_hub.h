#pragma once
// Wiring between the pipeline(s) and the probes: one MetricsHub per process
// on one registry, one PipelineMetrics per Pipeline it watches.
//
//   prometheus::Registry registry;
//   MetricsHub hub(registry, clock, {"0.1.0", rules->version});
//   auto metrics = hub.attach(pipeline, "0", {.reject = log_reject});
//   hub.watch_database(state.database);            // optional
//   HttpRoutes routes;
//   hub.add_routes(routes);                        // GET /metrics
//   add_health_routes(routes, health);
//   auto server = HttpServer::start({.listen = "127.0.0.1:9464"}, std::move(routes));
//   loop: ... pipeline.maybe_commit(...) timed -> metrics->after_commit(took); metrics->sample(input_lag);
//   (a shadow lane: shadow_metrics->sample() after its commits)
//
// Threading: the hub is shared; attach() and the probes are thread-safe. A
// PipelineMetrics belongs to its pipeline's thread. /metrics runs on HTTP
// threads and only reads the registry (plus the watched database).
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <prometheus/registry.h>

#include "http/http_server.h"
#include "metrics/probes.h"
#include "metrics/state_metrics.h"
#include "model/time.h"
#include "pipeline/pipeline.h"
#include "state/rocksdb_store.h"

namespace slawatch {

// Observers a caller wants on a pipeline besides the metrics: a Pipeline keeps
// one function per kind, so attach() installs both, metrics first.
struct PipelineObservers {
  Pipeline::AlertObserver alert;
  Pipeline::EventObserver event;
  Pipeline::RejectObserver reject;
};

// Calls `first`, then `second`; either may be empty. `Observer` is a
// std::function type such as Pipeline::AlertObserver.
template <typename Observer>
Observer chain(Observer first, Observer second) {
  if (!first) return second;
  if (!second) return first;
  return [first = std::move(first), second = std::move(second)](auto&&... args) {
    first(args...);
    second(args...);
  };
}

struct BuildInfo {
  std::string version;
  std::string rules_version;
};

// Feeds the probes from one pipeline: its observers (events, alerts, dead
// letters), sample()/after_commit() for what the pipeline only holds as
// state, and its committed tallies for StateMetrics. Owned by the caller next
// to the pipeline, which must not call its observers after this object is
// gone. Single-threaded, like the pipeline.
class PipelineMetrics {
 public:
  PipelineMetrics(Pipeline& pipeline, std::string partition, BusinessProbe& business, EngineProbe& engine,
                  StateMetrics& state, const Clock& clock);
  ~PipelineMetrics();
  PipelineMetrics(const PipelineMetrics&) = delete;
  PipelineMetrics& operator=(const PipelineMetrics&) = delete;

  void on_event(const CaseEvent& event, ApplyOutcome outcome);
  void on_alert(const Alert& alert);
  void on_reject(const std::string& reason);

  // Call after maybe_commit()/commit_if_due() with the time it took: records
  // a batch, and what it wrote to the state, when a commit happened.
  void after_commit(std::chrono::nanoseconds took);
  // Copies the pipeline's gauges (outbox depth, cached cases, fired timers,
  // delivery failures), the input lag the caller knows and, after a commit,
  // the committed tallies; call once per loop.
  void sample(int64_t input_lag_records);

  // After a rule reload: the repair committed its changes; show them.
  void rules_replaced() { refresh_state(); }

 private:
  void refresh_state();

  Pipeline& pipeline_;
  std::string partition_;
  BusinessProbe& business_;
  EngineProbe& engine_;
  StateMetrics& state_;
  StateMetrics::Slot slot_;
  const Clock& clock_;
  uint64_t commits_seen_ = 0;
  uint64_t records_at_last_commit_ = 0;
  CommitTotals written_seen_;  // the store's commit totals at the last commit counted
  uint64_t timers_fired_seen_ = 0;
  uint64_t purged_seen_ = 0;
  uint64_t delivery_failures_seen_ = 0;
  uint64_t state_at_commit_ = 0;  // commits counter when the tallies were last copied
};

// Feeds the shadow probe from a shadow lane's pipeline (src/shadow): its
// alert events and its committed tallies, labelled ruleset="shadow". Engine
// and case-level series are left to the active lane's metrics, which see the
// same records. Single-threaded, like the pipeline.
class ShadowPipelineMetrics {
 public:
  ShadowPipelineMetrics(Pipeline& pipeline, BusinessProbe& shadow_business, StateMetrics& state);
  ~ShadowPipelineMetrics();
  ShadowPipelineMetrics(const ShadowPipelineMetrics&) = delete;
  ShadowPipelineMetrics& operator=(const ShadowPipelineMetrics&) = delete;
  // After the lane's commits (once per loop) and after a reload of the candidate.
  void sample();
  void rules_replaced() { refresh_state(); }

 private:
  void refresh_state();

  Pipeline& pipeline_;
  StateMetrics& state_;
  StateMetrics::Slot slot_;
  uint64_t state_at_commit_ = 0;
};

class MetricsHub {
 public:
  // `registry` and `clock` must outlive the hub.
  MetricsHub(prometheus::Registry& registry, const Clock& clock, BuildInfo build);

  // Installs the metrics observers (chained with `also`) on `pipeline`.
  // `partition` labels the per-partition series ("0" for file input).
  std::unique_ptr<PipelineMetrics> attach(Pipeline& pipeline, std::string partition, PipelineObservers also = {});
  // Installs the shadow metrics observers on a shadow lane's pipeline.
  std::unique_ptr<ShadowPipelineMetrics> attach_shadow(Pipeline& pipeline);
  // Reads size and write stalls at each scrape; thread-safe properties only.
  void watch_database(std::shared_ptr<const RocksDbDatabase> database);
  // GET /metrics in the Prometheus text format.
  void add_routes(HttpRoutes& routes);
  // Every family: the registry's and the state's (StateMetrics).
  std::vector<prometheus::MetricFamily> collect();
  // The text exposition of everything, as /metrics serves it.
  std::string scrape();

  BusinessProbe& business() { return business_; }
  EngineProbe& engine() { return engine_; }
  RulesProbe& rules() { return rules_; }
  // Created on first use, so a monitor without a shadow exports no shadow series.
  RulesProbe& shadow_rules();
  // slawatch_build_info names the rule set in force.
  void rules_version(std::string_view version) { engine_.build_info(build_version_, version); }

 private:
  prometheus::Registry& registry_;
  const Clock& clock_;
  BusinessProbe business_;
  BusinessProbe shadow_business_;  // ruleset="shadow"
  StateMetrics state_;
  EngineProbe engine_;
  RulesProbe rules_;
  std::unique_ptr<RulesProbe> shadow_rules_;
  std::string build_version_;
  std::mutex databases_mutex_;
  std::vector<std::shared_ptr<const RocksDbDatabase>> databases_;
};

}  // namespace slawatch
