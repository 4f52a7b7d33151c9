#include <chrono>
#include <iostream>

#include "app/commands.h"
#include "app/audit_trail.h"
#include "app/config.h"
#include "app/runtime.h"
#include "io/io.h"
#include "pipeline/pipeline.h"

namespace slawatch {

int run_replay(const ReplayArgs& args) {
  const auto process_start = std::chrono::steady_clock::now();
  std::vector<std::string> calendar_paths = args.calendar_paths;
  std::string alert_source = "/slawatch";
  Config config;
  std::string roster_path = args.roster_path;
  if (args.config_path) {
    try {
      config = load_config(*args.config_path);
      calendar_paths.insert(calendar_paths.end(), config.calendar_paths.begin(),
                            config.calendar_paths.end());
      alert_source = config.alert_source;
      if (roster_path.empty()) roster_path = config.roster_path;
    } catch (const ConfigError& e) {
      std::cerr << "slawatch: bad config: " << e.what() << "\n";
      return 1;
    }
  }
  std::optional<Instant> until;
  if (args.until) {
    auto parsed = parse_rfc3339(*args.until);
    if (!parsed.ok()) {
      std::cerr << "slawatch: --until: " << parsed.error().message << "\n";
      return 2;
    }
    until = *parsed;
  }
  auto rules = load_rules_or_report(args.rules_path, calendar_paths);
  if (!rules) return 1;
  std::shared_ptr<const Roster> roster;
  if (!load_roster_or_report(roster_path, roster)) return 1;

  auto state = open_state(args.state_dir, false);
  if (!state.ok()) {
    std::cerr << "slawatch: " << state.error().message << "\n";
    return 1;
  }
  auto source = JsonLinesSource::open(args.events);
  if (!source.ok()) {
    std::cerr << "slawatch: " << source.error().message << "\n";
    return 1;
  }
  StateStore& store = *state->store;
  auto checkpoint = store.load_checkpoint();
  if (!checkpoint.ok()) {
    std::cerr << "slawatch: " << checkpoint.error().message << "\n";
    return 1;
  }
  // Resuming a durable replay appends to the earlier output instead of truncating it.
  const bool resuming = !checkpoint->source_position.empty();
  auto alerts = JsonLinesSink::open(args.alerts, resuming);
  if (!alerts.ok()) {
    std::cerr << "slawatch: " << alerts.error().message << "\n";
    return 1;
  }
  std::unique_ptr<RecordSink> dead_letters;
  if (args.dead_letter.empty()) {
    dead_letters = std::make_unique<NullSink>();
  } else {
    auto opened = JsonLinesSink::open(args.dead_letter, resuming);
    if (!opened.ok()) {
      std::cerr << "slawatch: " << opened.error().message << "\n";
      return 1;
    }
    dead_letters = std::make_unique<DeadLetterJsonSink>(std::move(opened).value());
  }

  // With an `alertmanager:` section in --config, the replayed alerts are posted
  // too; resends and endsAt follow the wall clock, not event time.
  WallClock wall_clock;
  prometheus::Registry registry;
  auto alertmanager = start_alertmanager(config, registry, rules, wall_clock);
  if (!alertmanager.ok()) {
    std::cerr << "slawatch: " << alertmanager.error().message << "\n";
    return 1;
  }
  RecordSink& alert_sink = *alertmanager ? (*alertmanager)->wrap(**alerts) : **alerts;

  EngineOptions engine_options;
  engine_options.grace = Duration{0};  // contract: replay has no grace
  Engine engine(rules, store, engine_options);
  PipelineOptions pipeline_options;
  pipeline_options.batch_records = args.batch_records;
  pipeline_options.alert_source = alert_source;
  pipeline_options.roster = roster;
  Pipeline pipeline(engine, store, alert_sink, *dead_letters, pipeline_options);
  pipeline.set_reject_observer([&](const RawRecord& record, const std::string& reason) {
    if (!args.quiet) std::cerr << "slawatch: rejected " << record.origin << ": " << reason << "\n";
  });

  auto fail = [](const Error& e) {
    std::cerr << "slawatch: " << e.message << "\n";
    return 1;
  };
  if (auto s = engine.open(); !s.ok()) return fail(s.error());
  auto position = pipeline.recover();
  if (!position.ok()) return fail(position.error());
  if (args.exit_when_ready) {
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              process_start);
    std::cout << "ready in " << ms.count() << " ms (clock " << format_rfc3339_utc(engine.clock())
              << ", input position " << (position->empty() ? "none" : *position) << ")\n";
    return 0;
  }
  if (!pipeline.stored_rules_version().empty() && pipeline.stored_rules_version() != rules->version) {
    // Resuming under other rules: the stored cases are brought up to them first.
    const auto started = std::chrono::steady_clock::now();
    auto repaired = pipeline.reload_rules(rules, *position);
    if (!repaired.ok()) return fail(repaired.error());
    if (auto s = pipeline.maybe_commit(*position, true); !s.ok()) return fail(s.error());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    if (!args.quiet) {
      std::cerr << "slawatch: rules changed since the last run (" << repaired->from_version << " -> "
                << repaired->to_version << "): repaired " << repaired->cases << " cases in " << seconds
                << " s: " << repaired->changed << " changed, " << repaired->fired << " fired, "
                << repaired->resolved << " resolved, " << repaired->retracted << " retracted\n";
    }
  }
  if (!position->empty()) {
    if (auto s = (*source)->seek(*position); !s.ok()) return fail(s.error());
  }
  std::unique_ptr<AuditTrail> audit_trail;
  if (!args.audit_path.empty()) {
    auto started = AuditTrail::start(
        args.audit_path, [](const std::string& notice) { std::cerr << "slawatch: " << notice << "\n"; }, *rules,
        args.rules_path, engine.clock(), "replay", audit::OpenOptions{args.audit_accept_missing_head});
    if (!started.ok()) return fail(started.error());
    audit_trail = std::move(started).value();
    pipeline.set_delivery_observer(audit_trail->observer(engine));
  }

  RawRecord record;
  for (;;) {
    auto more = (*source)->next(record);
    if (!more.ok()) return fail(more.error());
    if (!*more) break;
    if (auto s = pipeline.on_record_replay(record); !s.ok()) return fail(s.error());
    if (auto s = pipeline.maybe_commit((*source)->position()); !s.ok()) return fail(s.error());
  }
  if (until) {
    for (;;) {
      auto more = pipeline.advance(*until, args.batch_records);
      if (!more.ok()) return fail(more.error());
      if (auto s = pipeline.maybe_commit((*source)->position()); !s.ok()) return fail(s.error());
      if (!*more) break;
    }
  }
  // Twice: the second commit removes what the first one delivered from the outbox.
  for (int i = 0; i < 2; ++i) {
    if (auto s = pipeline.maybe_commit((*source)->position(), true); !s.ok()) return fail(s.error());
  }
  if (*alertmanager) (*alertmanager)->sender->stop();  // posts what is left, once
  const auto& c = pipeline.counters();
  if (!args.quiet) {
    std::cerr << "slawatch: replayed " << c.records << " records: " << c.applied << " applied, "
              << c.duplicates << " duplicates, " << c.dead_letters << " dead-lettered; alerts: "
              << c.alerts_fired << " fired, " << c.alerts_resolved << " resolved, "
              << c.alerts_retracted << " retracted\n";
  }
  return 0;
}

}  // namespace slawatch
