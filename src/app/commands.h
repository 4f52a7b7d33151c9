#pragma once
// The command-line commands (contract section 5). Each returns the process
// exit code: 0 ok, 1 bad input/rules/config, 2 usage.
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "model/time.h"

namespace slawatch {

struct ReplayArgs {
  std::string rules_path;
  std::vector<std::string> calendar_paths;
  std::string events = "-";
  std::optional<std::string> until;
  std::optional<std::string> config_path;
  std::string alerts = "-";
  std::string dead_letter;
  std::string state_dir;  // empty: in-memory state
  std::string roster_path;  // empty: the config's, else none
  // Replay commits less often than the live monitor (config batch_records,
  // 2000), which delivers alerts at each commit: a replay's batch only sets how
  // much a killed run redoes and what it holds until its commit. A case's
  // several events in one batch are one write, its timer one net change: up to
  // 100,000 records per commit (fewer once 10,000 alerts wait, or the engine's
  // cache is full) wrote 2.10 keys per record where 20,000 and 2,000 alerts
  // wrote 2.58, in 0.88x the CPU, for 50-65 MiB more (docs/benchmarks.md, stop 24).
  size_t batch_records = 100000;
  std::optional<std::string> retain_closed;  // overrides the config's (default 400d)
  bool quiet = false;
  bool exit_when_ready = false;  // open state, recover, report, exit (restart-time measurement)
  std::string audit_path;  // empty: no audit log
  size_t partitions = 1;   // lanes by case-id hash, each on its own worker thread
  std::optional<size_t> max_record_bytes;  // unset: the config's, else the default
  bool restart_input = false;  // read --events from its beginning even if the state has a checkpoint
  bool audit_accept_missing_head = false;  // append to a non-empty log that has no head file
};
int run_replay(const ReplayArgs& args);

struct RunArgs {
  std::string config_path;
  std::optional<std::string> events;  // overrides the config's input
  std::optional<std::string> exit_when_idle;  // duration: stop once the input is read to its end and idle that long
  bool restart_input = false;  // file input: read it from its beginning even if the state has a checkpoint
};
int run_live(const RunArgs& args);

struct SimulateArgs {
  uint64_t seed = 12345;
  int64_t cases = 10000;
  std::string span = "24h";
  std::optional<std::string> start;
  std::string out = "-";
  std::optional<std::string> kafka_brokers;  // produce to Kafka instead of `out`
  std::string topic = "hotline.case-events";
  double rate = 0;  // records per second; 0: as fast as possible
  bool leave_open = false;
  double late_fraction = 0, reorder_fraction = 0, duplicate_fraction = 0, malformed_fraction = 0;
  double late_first_response = 0.15;
};
int run_simulate(const SimulateArgs& args);

struct DemoArgs {
  uint64_t seed = 20260302;
  int64_t cases = 2400;
  double seconds = 60;  // wall time for the simulated day
  std::string rules_path = "rules";
  std::string roster_path = "config/roster.yaml";  // empty: alerts name roles only
  bool color = true;
  bool show_warnings = false;
};
int run_demo(const DemoArgs& args);

struct AuditVerifyArgs {
  std::string log_path;
  std::optional<std::string> expect_head;  // anchor: a head hash recorded elsewhere
  std::optional<std::string> head_file;    // anchor: a head file ({"seq":N,"hash":"..."})
};
// Prints "audit OK: ..." (exit 0) or "audit FAILED: <log>: line L (seq S): ..." (exit 1).
int run_audit_verify(const AuditVerifyArgs& args, std::ostream& out, std::ostream& err);
struct BacktestArgs {
  std::string baseline_path;
  std::string candidate_path;
  std::vector<std::string> calendar_paths;
  std::string events;
  std::optional<std::string> until;
  std::string format = "md";  // md | json | html
  std::string out = "-";
  std::string store = "rocksdb";  // rocksdb (temporary directories) | memory
  std::string temp_dir;           // parent of the temporary RocksDB directories
  size_t samples = 20;
};
int run_backtest_command(const BacktestArgs& args);

int run_rules_check(const std::string& path, const std::vector<std::string>& calendar_paths);

}  // namespace slawatch
