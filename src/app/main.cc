// The composition root: parses the command line and hands over to a command.
#include <CLI/CLI.hpp>

#include <iostream>

#include "app/commands.h"
#include "report/accountability.h"
#include "roster/roster.h"
#include "rules/rules.h"

int main(int argc, char** argv) {
  using namespace slawatch;
  CLI::App app{"slawatch: real-time SLA monitor for city service hotlines"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "slawatch 0.1.0");

  ReplayArgs replay;
  auto* replay_cmd = app.add_subcommand("replay", "Replay case events (JSON Lines) on event time");
  replay_cmd->add_option("--rules", replay.rules_path, "Rule file or folder")->required();
  replay_cmd->add_option("--events", replay.events, "Events file, or - for stdin")->required();
  replay_cmd->add_option("--until", replay.until, "Move the clock to this RFC 3339 time at the end");
  replay_cmd->add_option("--config", replay.config_path, "Config file (calendars, alert source)");
  replay_cmd->add_option("--alerts", replay.alerts, "Alerts output file, or - for stdout");
  replay_cmd->add_option("--dead-letter", replay.dead_letter, "Dead-letter output file");
  replay_cmd->add_option("--state", replay.state_dir,
                         "Durable state directory (RocksDB); resumes where a killed run stopped");
  replay_cmd->add_option("--calendars", replay.calendar_paths, "Extra calendar files or folders");
  replay_cmd->add_option("--roster", replay.roster_path,
                         "Duty roster: name the people behind notify roles (default: the config's roster)");
  replay_cmd->add_option("--batch", replay.batch_records, "Records per state commit (default 100000; fewer once 10000 alerts wait)")
      ->check(CLI::PositiveNumber);
  replay_cmd->add_option("--partitions", replay.partitions,
                         "Split the input by case id over N partitions, each on its own core (standing alerts are "
                         "the same for every N)")
      ->check(CLI::Range(1, 256));
  replay_cmd->add_option("--retain-closed", replay.retain_closed,
                         "Delete a closed case once event time is this far past its last event (default: the "
                         "config's retain_closed, else 400d; 'never' keeps them)");
  replay_cmd->add_flag("--quiet", replay.quiet, "No per-record rejection messages or summary");
  replay_cmd->add_option("--audit", replay.audit_path,
                         "Append delivered alerts and the loaded rule set to this hash-chained audit log");
  replay_cmd->add_option("--max-record-bytes", replay.max_record_bytes,
                         "Dead-letter larger input records as oversize (default: the config's, else 1048576)")
      ->check(CLI::Range(kMinRecordLimitBytes, kMaxRecordLimitBytes));
  replay_cmd->add_flag("--restart-input", replay.restart_input,
                       "With --state: read --events from its beginning even though the state was built from "
                       "another input (events already applied count as duplicates)");
  replay_cmd->add_flag("--audit-accept-missing-head", replay.audit_accept_missing_head,
                       "Append to an audit log that has entries but no head file (its end cannot be checked)");
  replay_cmd->add_flag("--exit-when-ready", replay.exit_when_ready,
                       "Open the state, deliver its outbox, print the time to ready and exit");

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Live monitor on the wall clock");
  run_cmd->add_option("--config", run.config_path, "Config file")->required();
  run_cmd->add_option("--events", run.events, "Events file or - (overrides the config's input)");
  run_cmd->add_flag("--restart-input", run.restart_input,
                    "File input: read it from its beginning even though the state was built from another input");
  run_cmd->add_option("--exit-when-idle", run.exit_when_idle,
                      "Stop cleanly once the input is read to its end and no record arrived for this long (e.g. "
                      "5s; benchmarks and tests). Kafka: only when every partition of the topic is assigned here "
                      "and caught up");

  auto* rules_cmd = app.add_subcommand("rules", "Rule tools");
  rules_cmd->require_subcommand(1);
  std::string check_path;
  std::vector<std::string> check_calendars;
  auto* check_cmd = rules_cmd->add_subcommand("check", "Validate rules; errors name file:line:column");
  check_cmd->add_option("path", check_path, "Rule file or folder")->required();
  check_cmd->add_option("--calendars", check_calendars, "Extra calendar files or folders");

  auto* audit_cmd = app.add_subcommand("audit", "Audit log tools");
  audit_cmd->require_subcommand(1);
  AuditVerifyArgs verify;
  auto* verify_cmd = audit_cmd->add_subcommand(
      "verify", "Check an audit log's hash chain; names the first entry altered, removed, inserted or reordered");
  verify_cmd->add_option("--log", verify.log_path, "Audit log file")->required();
  auto* expect_head = verify_cmd->add_option(
      "--expect-head", verify.expect_head, "A head hash recorded earlier: catches entries removed from the end");
  verify_cmd->add_option("--head-file", verify.head_file, "Anchor from a head file (the log's .head, or a copy)")
      ->excludes(expect_head);
  auto* roster_cmd = app.add_subcommand("roster", "Duty roster tools");
  roster_cmd->require_subcommand(1);
  std::string roster_check_path, roster_check_rules;
  auto* roster_check_cmd = roster_cmd->add_subcommand(
      "check", "Validate a duty roster (and that it covers the rules); errors name file:line:column");
  roster_check_cmd->add_option("--roster", roster_check_path, "Roster file")->required();
  roster_check_cmd->add_option("--rules", roster_check_rules, "Rule file or folder to check the roster against");

  auto* report_cmd = app.add_subcommand("report", "Reports from replayed history");
  report_cmd->require_subcommand(1);
  AccountabilityArgs accountability;
  auto* accountability_cmd = report_cmd->add_subcommand(
      "accountability", "Breached stages per department and duty officer on duty (replay-based)");
  auto* report_events = accountability_cmd->add_option("--events", accountability.events,
                                                       "Events file (JSON Lines), or - for stdin");
  accountability_cmd->add_option("--state", accountability.state,
                                 "Instead of --events: a state directory written by `replay --state`")
      ->excludes(report_events);
  accountability_cmd->add_option("--rules", accountability.rules, "Rule file or folder")->required();
  accountability_cmd->add_option("--roster", accountability.roster, "Duty roster file")->required();
  accountability_cmd->add_option("--from", accountability.from, "Stages due from this RFC 3339 time")->required();
  accountability_cmd->add_option("--to", accountability.to, "... up to this one (excluded)")->required();
  accountability_cmd->add_option("--format", accountability.format, "md, csv or html")
      ->check(CLI::IsMember({"md", "csv", "html"}));
  accountability_cmd->add_option("--out", accountability.out, "Output file, or - for stdout");

  SimulateArgs simulate;
  auto* sim_cmd = app.add_subcommand("simulate", "Generate seeded hotline traffic as JSON Lines");
  sim_cmd->add_option("--seed", simulate.seed, "Random seed");
  sim_cmd->add_option("--cases", simulate.cases, "Number of cases")->check(CLI::PositiveNumber);
  sim_cmd->add_option("--span", simulate.span, "Creation times spread over this duration (e.g. 24h, 30d)");
  sim_cmd->add_option("--start", simulate.start,
                     "First creation time (RFC 3339); default the sample day, or now with --kafka");
  sim_cmd->add_option("--out", simulate.out, "Output file, or - for stdout");
  sim_cmd->add_option("--kafka", simulate.kafka_brokers, "Produce to Kafka at these brokers instead of --out");
  sim_cmd->add_option("--topic", simulate.topic, "Kafka topic (with --kafka)");
  sim_cmd->add_option("--rate", simulate.rate, "Records per second (default: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  sim_cmd->add_flag("--leave-open", simulate.leave_open, "Stop each case after its first response");
  sim_cmd->add_option("--late", simulate.late_fraction, "Fraction of records delivered late")
      ->check(CLI::Range(0.0, 1.0));
  sim_cmd->add_option("--reorder", simulate.reorder_fraction, "Fraction of records swapped")
      ->check(CLI::Range(0.0, 1.0));
  sim_cmd->add_option("--duplicates", simulate.duplicate_fraction, "Fraction of records duplicated")
      ->check(CLI::Range(0.0, 1.0));
  sim_cmd->add_option("--malformed", simulate.malformed_fraction, "Fraction of extra malformed records")
      ->check(CLI::Range(0.0, 1.0));
  sim_cmd->add_option("--late-first-response", simulate.late_first_response,
                      "Fraction of first responses after 30 minutes")
      ->check(CLI::Range(0.0, 1.0));

  DemoArgs demo;
  bool no_color = false;
  auto* demo_cmd = app.add_subcommand("demo", "Watch the monitor on a simulated hotline day");
  demo_cmd->add_option("--cases", demo.cases, "Cases in the day")->check(CLI::PositiveNumber);
  demo_cmd->add_option("--seconds", demo.seconds, "Wall-clock seconds for the day")
      ->check(CLI::PositiveNumber);
  demo_cmd->add_option("--seed", demo.seed, "Random seed");
  demo_cmd->add_option("--rules", demo.rules_path, "Rule file or folder");
  demo_cmd->add_option("--roster", demo.roster_path, "Duty roster (\"\" for none)");
  demo_cmd->add_flag("--no-color", no_color, "Plain output");
  demo_cmd->add_flag("--warnings", demo.show_warnings, "Also print warning stages");

  BacktestArgs backtest;
  auto* backtest_cmd =
      app.add_subcommand("backtest", "Replay a history through two rule sets and compare their breaches");
  backtest_cmd->add_option("--baseline", backtest.baseline_path, "Current rule file or folder")->required();
  backtest_cmd->add_option("--candidate", backtest.candidate_path, "Proposed rule file or folder")->required();
  backtest_cmd->add_option("--events", backtest.events, "Case events (JSON Lines)")->required();
  backtest_cmd->add_option("--until", backtest.until, "Move the clock to this RFC 3339 time at the end");
  backtest_cmd->add_option("--format", backtest.format, "Report format")
      ->check(CLI::IsMember({"md", "json", "html"}));
  backtest_cmd->add_option("--out", backtest.out, "Report file, or - for stdout");
  backtest_cmd->add_option("--calendars", backtest.calendar_paths, "Extra calendar files or folders");
  backtest_cmd->add_option("--store", backtest.store, "State of each side: rocksdb (temporary dirs) or memory")
      ->check(CLI::IsMember({"rocksdb", "memory"}));
  backtest_cmd->add_option("--temp-dir", backtest.temp_dir, "Parent of the temporary RocksDB dirs");
  backtest_cmd->add_option("--samples", backtest.samples, "Case ids listed per rule, stage and direction");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  if (*replay_cmd) return run_replay(replay);
  if (*run_cmd) return run_live(run);
  if (*check_cmd) return run_rules_check(check_path, check_calendars);
  if (*verify_cmd) return run_audit_verify(verify, std::cout, std::cerr);
  if (*accountability_cmd) return accountability_command(accountability);
  if (*roster_check_cmd) return check_roster_command(roster_check_path, roster_check_rules, std::cout, std::cerr);
  if (*backtest_cmd) return run_backtest_command(backtest);
  if (*sim_cmd) return run_simulate(simulate);
  if (*demo_cmd) {
    demo.color = !no_color;
    return run_demo(demo);
  }
  return 2;
}

namespace slawatch {
int run_rules_check(const std::string& path, const std::vector<std::string>& calendar_paths) {
  return check_rules_command(path, calendar_paths, std::cout, std::cerr);
}
}  // namespace slawatch
