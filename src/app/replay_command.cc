#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
#include <mutex>

#include "app/commands.h"
#include "app/audit_trail.h"
#include "app/config.h"
#include "app/runtime.h"
#include "io/io.h"
#include "pipeline/pipeline.h"
#include "replay/replay_driver.h"

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
  if (args.retain_closed) {
    try {
      config.retain_closed = parse_retain_closed(*args.retain_closed);
    } catch (const ConfigError& e) {
      std::cerr << "slawatch: --retain-closed: " << e.what() << "\n";
      return 2;
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

  if (args.partitions == 0 || args.partitions > 256) {
    std::cerr << "slawatch: --partitions must be between 1 and 256\n";
    return 2;
  }
  if (args.partitions > 1 && !args.audit_path.empty()) {
    std::cerr << "slawatch: --audit needs a single partition (the audit log is one hash chain)\n";
    return 2;
  }
  auto state = open_partitioned_state(args.state_dir, false, args.partitions);
  if (!state.ok()) {
    std::cerr << "slawatch: " << state.error().message << "\n";
    return 1;
  }
  const size_t max_record_bytes = args.max_record_bytes.value_or(config.max_record_bytes);
  auto source = JsonLinesSource::open(args.events, max_record_bytes);
  if (!source.ok()) {
    std::cerr << "slawatch: " << source.error().message << "\n";
    return 1;
  }
  std::vector<std::string> stored_positions;
  for (auto& store : state->stores) {
    auto checkpoint = store->load_checkpoint();
    if (!checkpoint.ok()) {
      std::cerr << "slawatch: " << checkpoint.error().message << "\n";
      return 1;
    }
    stored_positions.push_back(checkpoint->source_position);
  }
  // Resuming a durable replay appends to the earlier output instead of truncating it.
  const bool resuming = std::any_of(stored_positions.begin(), stored_positions.end(),
                                    [](const auto& p) { return !p.empty(); });
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
  // Every partition writes to the same files, one record at a time.
  LockedSink alert_sink(*alertmanager ? (*alertmanager)->wrap(**alerts) : **alerts);
  LockedSink dead_letter_sink(*dead_letters);

  EngineOptions engine_options;
  engine_options.grace = Duration{0};         // contract: replay has no grace
  engine_options.fire_at_due_time = false;    // contract: a stage fires once the clock has passed it
  engine_options.retain_closed = config.retain_closed;
  // Without --state the in-memory store is thrown away at exit and nothing
  // reads it on the way, so cases are written to it only as they leave the
  // engine's cache instead of for each of their events.
  engine_options.write_back_cases = args.state_dir.empty();
  PipelineOptions pipeline_options;
  pipeline_options.index_alerts = !args.state_dir.empty();
  // Output ends a batch too: alerts do not coalesce, each is held until the
  // commit. With timers fired in slices of this bound (Pipeline::
  // replay_timer_slice), 10,000 kept the dense history's peak at 662 MiB,
  // below the 698 MiB that 2,000 with unsliced timers reached.
  pipeline_options.max_batch_output = 10000;
  pipeline_options.batch_records = args.batch_records;
  pipeline_options.max_record_bytes = max_record_bytes;
  pipeline_options.alert_source = alert_source;
  pipeline_options.roster = roster;
  std::mutex stderr_mutex;
  std::vector<std::unique_ptr<Engine>> engines;
  std::vector<std::unique_ptr<Pipeline>> pipelines;
  std::vector<Pipeline*> lanes;
  for (auto& store : state->stores) {
    engines.push_back(std::make_unique<Engine>(rules, *store, engine_options));
    pipelines.push_back(
        std::make_unique<Pipeline>(*engines.back(), *store, alert_sink, dead_letter_sink, pipeline_options));
    pipelines.back()->set_reject_observer([&](const RawRecord& record, const std::string& reason) {
      if (args.quiet) return;
      std::lock_guard lock(stderr_mutex);
      std::cerr << "slawatch: rejected " << record.origin << ": " << reason << "\n";
    });
    lanes.push_back(pipelines.back().get());
  }

  auto fail = [](const Error& e) {
    std::cerr << "slawatch: " << e.message << "\n";
    return 1;
  };
  if (args.exit_when_ready) {
    for (auto& engine : engines) {
      if (auto s = engine->open(); !s.ok()) return fail(s.error());
    }
    for (auto& pipeline : pipelines) {
      if (auto p = pipeline->recover(); !p.ok()) return fail(p.error());
    }
    const auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() -
                                                              process_start);
    std::cout << "ready in " << ms.count() << " ms (clock " << format_rfc3339_utc(engines[0]->clock())
              << ", input position " << (stored_positions[0].empty() ? "none" : stored_positions[0]) << ")\n";
    return 0;
  }
  std::unique_ptr<AuditTrail> audit_trail;
  if (!args.audit_path.empty()) {
    if (auto s = engines[0]->open(); !s.ok()) return fail(s.error());
    auto started = AuditTrail::start(
        args.audit_path, [](const std::string& notice) { std::cerr << "slawatch: " << notice << "\n"; }, *rules,
        args.rules_path, engines[0]->clock(), "replay", audit::OpenOptions{args.audit_accept_missing_head});
    if (!started.ok()) return fail(started.error());
    audit_trail = std::move(started).value();
    pipelines[0]->set_delivery_observer(audit_trail->observer(*engines[0]));
  }

  const auto started = std::chrono::steady_clock::now();
  auto replayed = replay_history(**source, lanes, ReplayOptions{until, args.batch_records, args.restart_input});
  if (!replayed.ok()) return fail(replayed.error());
  if (!args.quiet && !replayed->repairs.empty()) {
    RepairReport total = replayed->repairs.front();
    for (size_t i = 1; i < replayed->repairs.size(); ++i) total.add(replayed->repairs[i]);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::cerr << "slawatch: rules changed since the last run (" << total.from_version << " -> "
              << total.to_version << "): repaired " << total.cases << " cases in " << seconds
              << " s: " << total.changed << " changed, " << total.fired << " fired, " << total.resolved
              << " resolved, " << total.retracted << " retracted\n";
  }
  if (*alertmanager) (*alertmanager)->sender->stop();  // posts what is left, once
  PipelineCounters c;
  for (const auto& pipeline : pipelines) c += pipeline->counters();
  if (!args.quiet) {
    std::cerr << "slawatch: replayed " << c.records << " records: " << c.applied << " applied, "
              << c.duplicates << " duplicates, " << c.dead_letters << " dead-lettered; alerts: "
              << c.alerts_fired << " fired, " << c.alerts_resolved << " resolved, "
              << c.alerts_retracted << " retracted";
    uint64_t purged = 0;
    for (const auto& engine : engines) purged += engine->counters().purged;
    if (purged > 0) std::cerr << "; " << purged << " closed cases purged";
    std::cerr << "\n";
    if (!args.state_dir.empty()) {
      CommitTotals totals;
      for (const auto& store : state->stores) totals += store->commit_totals();
      const auto per_record = [records = static_cast<double>(std::max<uint64_t>(c.records, 1))](uint64_t n) {
        return static_cast<double>(n) / records;
      };
      std::cerr << "slawatch: state: " << totals.commits << " commits wrote " << totals.keys() << " keys ("
                << std::fixed << std::setprecision(2) << per_record(totals.keys())
                << " per record: cases " << per_record(totals.keys_of(StoreFamily::cases)) << ", timers "
                << per_record(totals.keys_of(StoreFamily::timers)) << ", outbox "
                << per_record(totals.keys_of(StoreFamily::outbox)) << ", alert index "
                << per_record(totals.keys_of(StoreFamily::alerts)) << ", meta "
                << per_record(totals.keys_of(StoreFamily::meta)) << "), "
                << totals.bytes << " bytes (" << std::setprecision(0) << per_record(totals.bytes)
                << " per record)\n";
    }
  }
  return 0;
}

}  // namespace slawatch
