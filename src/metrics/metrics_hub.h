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
#include "metrics/case_tracker.h"
#include "metrics/probes.h"
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
// letters) and sample()/after_commit() for what the pipeline only holds as
// state. Owned by the caller next to the pipeline, which must not call its
// observers after this object is gone. Single-threaded, like the pipeline.
class PipelineMetrics {
 public:
  PipelineMetrics(Pipeline& pipeline, std::string partition, BusinessProbe& business, EngineProbe& engine,
                  const Clock& clock, size_t tracked_cases);
  PipelineMetrics(const PipelineMetrics&) = delete;
  PipelineMetrics& operator=(const PipelineMetrics&) = delete;

  void on_event(const CaseEvent& event, ApplyOutcome outcome);
  void on_alert(const Alert& alert);
  void on_reject(const std::string& reason);

  // Call after maybe_commit()/commit_if_due() with the time it took: records
  // a batch when a commit happened.
  void after_commit(std::chrono::nanoseconds took);
  // Copies the pipeline's gauges (outbox depth, cached cases, fired timers,
  // delivery failures) and the input lag the caller knows; call once per loop.
  void sample(int64_t input_lag_records);

  // After a rule reload: cycles are followed under the new set from here on
  // (the open cycles followed so far are forgotten, as on a hand-over); first
  // responses and emergencies still waiting are measured when they end.
  void rules_replaced();

  const CaseTracker& tracker() const { return *tracker_; }

 private:
  Pipeline& pipeline_;
  std::string partition_;
  EngineProbe& engine_;
  const Clock& clock_;
  std::unique_ptr<CaseTracker> tracker_;
  uint64_t commits_seen_ = 0;
  uint64_t records_at_last_commit_ = 0;
  uint64_t timers_fired_seen_ = 0;
  uint64_t purged_seen_ = 0;
  uint64_t delivery_failures_seen_ = 0;
};

// Feeds the shadow probe from a shadow lane's pipeline (src/shadow): its
// alerts and the cycles its rules open and close, labelled ruleset="shadow".
// Engine and case-level series are left to the active lane's metrics, which
// see the same records. Single-threaded, like the pipeline.
class ShadowPipelineMetrics {
 public:
  ShadowPipelineMetrics(Pipeline& pipeline, BusinessProbe& shadow_business, size_t tracked_cases);
  // After the candidate rules changed: cycles are followed under the new set.
  void rules_replaced();
  CaseTracker& tracker() { return *tracker_; }

 private:
  Pipeline& pipeline_;
  std::unique_ptr<CaseTracker> tracker_;
};

class MetricsHub {
 public:
  // `registry` and `clock` must outlive the hub.
  MetricsHub(prometheus::Registry& registry, const Clock& clock, BuildInfo build);

  // Installs the metrics observers (chained with `also`) on `pipeline`.
  // `partition` labels the per-partition series ("0" for file input).
  std::unique_ptr<PipelineMetrics> attach(Pipeline& pipeline, std::string partition, PipelineObservers also = {},
                                          size_t tracked_cases = 100000);
  // Installs the shadow metrics observers on a shadow lane's pipeline.
  std::unique_ptr<ShadowPipelineMetrics> attach_shadow(Pipeline& pipeline, size_t tracked_cases = 100000);
  // Reads size and write stalls at each scrape; thread-safe properties only.
  void watch_database(std::shared_ptr<const RocksDbDatabase> database);
  // GET /metrics in the Prometheus text format.
  void add_routes(HttpRoutes& routes);
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
  EngineProbe engine_;
  RulesProbe rules_;
  std::unique_ptr<RulesProbe> shadow_rules_;
  std::string build_version_;
  std::mutex databases_mutex_;
  std::vector<std::shared_ptr<const RocksDbDatabase>> databases_;
};

}  // namespace slawatch
