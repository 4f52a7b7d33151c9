#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "alertmanager/repost.h"
#include "api/case_api.h"
#include "ui/ui_assets.h"
#include "api/rules_in_force.h"
#include "app/audit_trail.h"
#include "app/commands.h"
#include "app/config.h"
#include "app/kafka_monitor.h"
#include "app/rule_reloader.h"
#include "app/runtime.h"
#include "runtime/live_lane.h"
#include "runtime/monitor_loop.h"
#include "http/http_server.h"
#include "io/io.h"
#include "metrics/metrics_hub.h"
#include "pipeline/pipeline.h"
#include "shadow/shadow_lane.h"

namespace slawatch {
namespace {

// Reads records on its own thread so that a quiet or blocked input never
// stops timers from firing on the wall clock. The queue is bounded: a fast
// input waits for the engine instead of filling memory. The thread owns the
// source through shared state, so a read blocked on stdin at shutdown can be
// left behind safely.
class RecordReader {
 public:
  explicit RecordReader(std::unique_ptr<RecordSource> source, size_t capacity = 10000)
      : shared_(std::make_shared<Shared>()) {
    shared_->source = std::move(source);
    shared_->capacity = capacity;
    std::thread([shared = shared_] { loop(*shared); }).detach();
  }
  ~RecordReader() {
    {
      std::lock_guard lock(shared_->mutex);
      shared_->stopping = true;
    }
    shared_->space.notify_all();
  }

  // Takes up to `max` records, waiting at most `wait` for the first one.
  // Returns false once the input has ended and everything was taken.
  bool take(std::vector<std::pair<RawRecord, std::string>>& out, size_t max,
            std::chrono::milliseconds wait) {
    Shared& s = *shared_;
    std::unique_lock lock(s.mutex);
    s.ready.wait_for(lock, wait, [&] { return !s.queue.empty() || s.ended; });
    while (!s.queue.empty() && out.size() < max) {
      out.push_back(std::move(s.queue.front()));
      s.queue.pop_front();
    }
    s.space.notify_all();
    if (s.error) {
      std::cerr << "slawatch: " << *s.error << "\n";
      s.error.reset();
    }
    return !(s.ended && s.queue.empty());
  }

  // Records read ahead and waiting: the file input's lag.
  size_t queued() const {
    std::lock_guard lock(shared_->mutex);
    return shared_->queue.size();
  }

 private:
  struct Shared {
    std::unique_ptr<RecordSource> source;
    size_t capacity = 0;
    mutable std::mutex mutex;
    std::condition_variable ready, space;
    std::deque<std::pair<RawRecord, std::string>> queue;
    bool ended = false;
    bool stopping = false;
    std::optional<std::string> error;
  };

  static void loop(Shared& s) {
    RawRecord record;
    for (;;) {
      auto more = s.source->next(record);
      std::unique_lock lock(s.mutex);
      if (!more.ok() || !*more) {
        if (!more.ok()) s.error = more.error().message;
        s.ended = true;
        s.ready.notify_all();
        return;
      }
      s.space.wait(lock, [&] { return s.queue.size() < s.capacity || s.stopping; });
      if (s.stopping) return;
      s.queue.emplace_back(std::move(record), s.source->position());
      s.ready.notify_all();
    }
  }

  std::shared_ptr<Shared> shared_;
};

// Shadow rules on file input: the candidate's own state, alert file, lane and
// metrics. Declared after the active lane's parts it reads.
struct FileShadow {
  OpenedState state;
  std::unique_ptr<RecordSink> alerts;
  std::unique_ptr<ShadowLane> lane;
  std::unique_ptr<ShadowPipelineMetrics> metrics;
};

}  // namespace

int run_live(const RunArgs& args) {
  Config config;
  try {
    config = load_config(args.config_path);
  } catch (const ConfigError& e) {
    std::cerr << "slawatch: bad config: " << e.what() << "\n";
    return 1;
  }
  if (args.events) {
    config.input = *args.events;
    config.kafka.reset();  // --events reads that file instead of Kafka
  }
  auto rules = load_rules_or_report(config.rules_path, config.calendar_paths);
  if (!rules) return 1;
  std::shared_ptr<const Roster> roster;
  if (!load_roster_or_report(config.roster_path, roster)) return 1;
  std::optional<Duration> idle;
  if (args.exit_when_idle) {
    auto parsed = parse_duration(*args.exit_when_idle);
    if (!parsed.ok()) {
      std::cerr << "slawatch: --exit-when-idle: " << parsed.error().message << "\n";
      return 2;
    }
    idle = *parsed;
  }
  if (config.kafka) {
    if (args.restart_input) {
      // A partition's state names its topic; another topic needs another state directory.
      std::cerr << "slawatch: --restart-input applies to file input only\n";
      return 2;
    }
    return run_kafka_monitor(config, rules, roster, idle);
  }
  auto fail = [](const Error& e) {
    std::cerr << "slawatch: " << e.message << "\n";
    return 1;
  };
  auto state = open_state(config.state_dir, config.sync_writes);
  if (!state.ok()) return fail(state.error());
  auto source = JsonLinesSource::open(config.input, config.max_record_bytes);
  if (!source.ok()) return fail(source.error());
  auto alerts = JsonLinesSink::open(config.alerts_output, true);
  if (!alerts.ok()) return fail(alerts.error());
  std::unique_ptr<RecordSink> dead_letters = std::make_unique<NullSink>();
  if (!config.dead_letter_output.empty()) {
    auto opened = JsonLinesSink::open(config.dead_letter_output, true);
    if (!opened.ok()) return fail(opened.error());
    dead_letters = std::make_unique<DeadLetterJsonSink>(std::move(opened).value());
  }

  WallClock clock;
  prometheus::Registry registry;
  auto alertmanager = start_alertmanager(config, registry, rules, clock);
  if (!alertmanager.ok()) return fail(alertmanager.error());
  RecordSink& alert_sink = *alertmanager ? (*alertmanager)->wrap(**alerts) : **alerts;

  StateStore& store = *state->store;
  EngineOptions engine_options;
  engine_options.grace = config.grace;
  engine_options.retain_closed = config.retain_closed;
  Engine engine(rules, store, engine_options);
  PipelineOptions pipeline_options;
  pipeline_options.batch_records = config.batch_records;
  pipeline_options.max_record_bytes = config.max_record_bytes;
  pipeline_options.alert_source = config.alert_source;
  pipeline_options.roster = roster;
  RosterInForce roster_in_force(roster);  // what the case API names people from
  Pipeline pipeline(engine, store, alert_sink, *dead_letters, pipeline_options);
  MetricsHub hub(registry, clock, BuildInfo{SLAWATCH_VERSION, rules->version});
  PipelineObservers log_rejects;
  log_rejects.reject = [](const RawRecord& record, const std::string& reason) {
    std::cerr << "slawatch: rejected " << record.origin << ": " << reason << "\n";
  };
  auto metrics = hub.attach(pipeline, "0", std::move(log_rejects));
  if (state->database) hub.watch_database(state->database);
  HealthState health;
  health.set_partitions_assigned(true);  // a file has no partitions to wait for
  spdlog::logger log("slawatch", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  RuleReloader reloader(config.rules_path, config.calendar_paths, rules, hub.rules(), log);
  reloader.watch_files(config.reload.watch_interval, clock);
  if (!config.roster_path.empty()) {
    reloader.watch_roster(config.roster_path,
                          [&](const std::shared_ptr<const Roster>& next) {
                            pipeline.set_roster(next);
                            roster_in_force.set(next);
                          });
  }
  std::unique_ptr<AuditTrail> audit_trail;
  if (config.audit) {
    auto started = AuditTrail::start(
        config.audit->path, [](const std::string& notice) { std::cerr << "slawatch: " << notice << "\n"; },
        *rules, config.rules_path, clock.now(), "run", audit::OpenOptions{config.audit->accept_missing_head});
    if (!started.ok()) return fail(started.error());
    audit_trail = std::move(started).value();
    pipeline.set_delivery_observer(audit_trail->observer(engine));
  }
  std::string last_position;
  // The case API (RocksDB state only: it reads what the commits wrote, from the HTTP threads).
  RulesInForce rules_in_force(rules);
  std::unique_ptr<StateReader> state_reader;
  std::unique_ptr<CaseApi> case_api;
  if (state->database) {
    state_reader = std::make_unique<StateReader>(state->database);
    case_api = std::make_unique<CaseApi>(*state_reader, rules_in_force, roster_in_force, case_api_options(config));
  }
  std::unique_ptr<FileShadow> shadow;  // with a `shadow:` section, opened once the active state is ready
  auto reload_everywhere = [&](const std::shared_ptr<const RuleSet>& next,
                               const std::string& origin) -> Result<RepairReport> {
    auto repaired = pipeline.reload_rules(next, last_position);
    if (!repaired.ok()) return repaired;
    // The repair committed at last_position: the shadow commits there too, so both stay in step.
    if (shadow) {
      if (auto s = shadow->lane->commit(last_position); !s.ok()) return s.error();
    }
    rules_in_force.set(next);
    metrics->rules_replaced();
    hub.rules_version(next->version);
    if (audit_trail) {
      auto recorded = audit_trail->record_rules(*next, config.rules_path, clock.now(), "reload by " + origin);
      if (!recorded.ok()) return recorded.error();
    }
    return repaired;
  };
  // The candidate's reloader exists before the server, so POST /-/reload/shadow is routed from the start.
  std::unique_ptr<RuleReloader> shadow_reloader;
  if (config.shadow) {
    const ShadowConfig& wanted = *config.shadow;
    if (wanted.alerts_output.empty() || wanted.alerts_output == "-") {
      std::cerr << "slawatch: bad config: 'shadow.alerts_output' must name a file for file input\n";
      return 1;
    }
    auto candidate = load_rules_or_report(wanted.rules_path, wanted.calendar_paths);
    if (!candidate) return 1;
    shadow_reloader = std::make_unique<RuleReloader>(wanted.rules_path, wanted.calendar_paths, candidate,
                                                     hub.shadow_rules(), log, "shadow rules");
    shadow_reloader->watch_files(config.reload.watch_interval, clock);
  }
  auto server = serve_http(config, hub, health, [&](HttpRoutes& routes) {
    reloader.add_routes(routes, config.reload.token, std::chrono::seconds(30));
    if (shadow_reloader) {
      shadow_reloader->add_routes(routes, config.reload.token, std::chrono::seconds(30), "/-/reload/shadow");
    }
    if (case_api) {
      case_api->add_routes(routes);
      add_ui_routes(routes);
    }
  });
  if (!server.ok()) return fail(server.error());
  if (*server) {
    std::cerr << "slawatch: serving " << (*server)->url() << "/metrics, /livez, /readyz"
              << (case_api ? ", /api/v1/cases/{id}, /api/v1/alerts, /api/v1/ledger, the workbench /ui/" : "") << "\n";
  }
  if (auto s = engine.open(); !s.ok()) return fail(s.error());
  auto position = pipeline.recover();
  if (!position.ok()) return fail(position.error());
  if (*alertmanager) {
    // The alerts firing before a restart go to Alertmanager again before their leases run out.
    if (auto reposted = repost_firing_alerts(store, *(*alertmanager)->sender); !reposted.ok()) {
      return fail(reposted.error());
    }
  }
  if (args.restart_input) {
    *position = "";  // the state is kept; the input is read again from its start
  } else if (!position->empty()) {
    if (auto s = (*source)->seek(*position); !s.ok()) return fail(s.error());
  }
  last_position = *position;
  if (!pipeline.stored_rules_version().empty() && pipeline.stored_rules_version() != rules->version) {
    // The rule files changed while the monitor was down: bring the cases up to them first.
    auto repaired = reload_everywhere(rules, "start-up");
    if (!repaired.ok()) return fail(repaired.error());
    log.info("rules changed since the last run ({} -> {}): repaired {} case(s), {} changed",
             repaired->from_version, repaired->to_version, repaired->cases, repaired->changed);
  }
  if (config.shadow) {
    const ShadowConfig& wanted = *config.shadow;
    const std::shared_ptr<const RuleSet>& candidate = shadow_reloader->in_force();
    shadow = std::make_unique<FileShadow>();
    auto shadow_state = open_state(wanted.state_dir, config.sync_writes);
    if (!shadow_state.ok()) return fail(shadow_state.error());
    shadow->state = std::move(shadow_state).value();
    if (shadow->state.database) hub.watch_database(shadow->state.database);
    auto shadow_alerts = JsonLinesSink::open(wanted.alerts_output, true);
    if (!shadow_alerts.ok()) return fail(shadow_alerts.error());
    shadow->alerts = std::move(shadow_alerts).value();
    shadow->lane = std::make_unique<ShadowLane>(candidate, *shadow->state.store, *shadow->alerts, engine_options,
                                                pipeline_options);
    shadow->metrics = hub.attach_shadow(shadow->lane->pipeline());
    auto started = shadow->lane->open(store);
    if (!started.ok()) return fail(started.error());
    log.info("shadow rules {} (version {}): {}; alerts to {}", wanted.rules_path, candidate->version,
             describe(*started), wanted.alerts_output);
    if (auto s = shadow->lane->pipeline().deliver_pending(); !s.ok()) return fail(s.error());
  }
  // A new candidate: the active lane commits first, so both repair from the same position.
  auto reload_shadow = [&](const std::shared_ptr<const RuleSet>& next, const std::string&) -> Result<RepairReport> {
    if (auto s = pipeline.commit_if_due(last_position, true); !s.ok()) return s.error();
    auto repaired = shadow->lane->pipeline().reload_rules(next, last_position);
    if (!repaired.ok()) return repaired;
    shadow->metrics->rules_replaced();
    return repaired;
  };
  health.set_state_open(true);

  install_stop_signals();
  install_reload_signal();
  RecordReader reader(std::move(source).value());
  std::vector<std::pair<RawRecord, std::string>> taken;
  bool input_open = true;
  if (*alertmanager) std::cerr << "slawatch: alerts also go to Alertmanager at " << config.alertmanager->url << "\n";
  std::cerr << "slawatch: monitoring " << config.input << " with " << rules->deadlines.size()
            << " deadline and " << rules->counts.size() << " count rules (version "
            << rules->version << ")\n";
  // A file is one partition: one lane, driven by the loop every monitor shares.
  LiveLane lane(pipeline, shadow ? shadow->lane.get() : nullptr, metrics.get(), last_position);
  LiveLane* lanes[] = {&lane};
  SteadyMonotonicClock steady;
  MonitorLoop loop(monitor_policy(config), clock, steady, [&log](const std::string& w) { log.warn("{}", w); },
                   [&log](const std::string& i) { log.info("{}", i); });
  auto last_record_at = steady.elapsed();
  while (!stop_requested().load()) {
    taken.clear();
    if (input_open) {
      input_open = reader.take(taken, config.batch_records, std::chrono::milliseconds(100));
    } else if (idle && steady.elapsed() - last_record_at >= *idle) {
      std::cerr << "slawatch: input read to its end and idle for " << idle->count() << " ms: stopping\n";
      break;
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // live clock: wait for due timers
    }
    if (!taken.empty()) last_record_at = steady.elapsed();
    for (auto& [record, pos] : taken) {
      if (auto s = lane.apply(record, std::move(pos)); !s.ok()) return fail(s.error());
    }
    last_position = lane.position();
    // Caught up once a read leaves nothing waiting behind it; until then the
    // lane fires on the input's event time (contract section 4).
    const size_t waiting = reader.queued();
    lane.set_caught_up(!input_open || (taken.size() < config.batch_records && waiting == 0));
    health.set_caught_up(lane.caught_up());
    if (auto stepped = loop.step(lanes); !stepped.ok()) return fail(stepped.error());
    metrics->sample(static_cast<int64_t>(waiting));
    if (shadow) shadow->metrics->sample();
    const bool hangup = take_reload_signal();
    if (auto s = reloader.serve(hangup, reload_everywhere); !s.ok()) return fail(s.error());
    if (shadow) {
      if (auto s = shadow_reloader->serve(hangup, reload_shadow); !s.ok()) return fail(s.error());
    }
  }
  auto left = loop.drain(lanes, std::chrono::seconds(10));
  if (!left.ok()) return fail(left.error());
  if (*left > 0) log.warn("{} record(s) stay in the outbox for the next start", *left);
  if (*alertmanager) {
    (*alertmanager)->sender->stop();  // one last attempt for the alerts just delivered
    std::cerr << "slawatch: " << (*alertmanager)->probe->sent_total() << " alert(s) accepted by Alertmanager at "
              << config.alertmanager->url << "\n";
  }
  std::cerr << "slawatch: stopped after " << pipeline.counters().records << " records\n";
  return 0;
}

}  // namespace slawatch
