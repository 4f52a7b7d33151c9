#pragma once
// slawatch's configuration file, parsed once at start-up into typed,
// validated values. Bad config throws ConfigError (start-up only).
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "alertmanager/options.h"
#include "kafka/kafka_config.h"
#include "model/record_header.h"
#include "model/time.h"
#include "pipeline/lane_clock.h"

namespace slawatch {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The `http:` section: where /metrics, /livez and /readyz are served.
struct HttpConfig {
  std::string listen = "127.0.0.1:9464";  // IP:port ("[::1]:9464" for IPv6); port 0 picks a free one
  // When set, the case API and the workbench's data (/api/v1/...) want
  // "Authorization: Bearer <read_token>"; empty: open to whoever reaches the listener.
  std::string read_token;
  // The city's IANA time zone: the workbench (/ui/) shows times in it.
  std::string time_zone = "UTC";
};

// The `reload:` section: how a new rule set is taken without a restart
// (SIGHUP always works).
struct ReloadConfig {
  Duration watch_interval = std::chrono::seconds{2};  // poll the rule files; 0 turns watching off
  std::string token;  // enables POST /-/reload (with an http: section); empty: the endpoint refuses
};

// The `audit:` section: the tamper-evident audit log of delivered alerts and
// loaded rule sets (src/audit; docs/escalation.md, "Audit log").
struct AuditConfig {
  std::string path;  // the log; its anchor is written next to it as <path>.head
  bool accept_missing_head = false;  // append to a non-empty log whose head file is gone
};

// The `shadow:` section: a candidate rule set the live monitor runs beside
// the active one (src/shadow; docs/rule-editing.md, "Shadow"). Its alerts go
// to their own file or topic; it notifies nobody.
struct ShadowConfig {
  std::string rules_path;                   // required
  std::vector<std::string> calendar_paths;
  bool own_calendars = false;  // false: calendar_paths are the active set's
  // Its own RocksDB state; default: <state_dir>-shadow (in memory when the active state is).
  std::string state_dir;
  std::string alerts_output;  // file input: required, a file (not stdout)
  std::string alerts_topic;   // Kafka: default <kafka.topics.alerts>-shadow
};

inline constexpr Duration kDefaultRetainClosed = std::chrono::days{400};

// `retain_closed` as written in the config or on the command line: a duration
// (e.g. 400d) or `never`. Throws ConfigError.
std::optional<Duration> parse_retain_closed(const std::string& text);

// The number of cores (at least 1).
size_t default_workers();
inline constexpr size_t kMaxWorkers = 256;

struct Config {
  std::string rules_path = "rules";
  std::vector<std::string> calendar_paths;
  std::string state_dir = "var/state";
  bool sync_writes = false;
  Duration grace = std::chrono::seconds{30};
  // While a partition is behind, its clock is no later than its event-time
  // watermark minus this (contract section 4, catching up).
  LaneClockPolicy lane_clock;
  // A closed case is deleted once the clock (event time in replay) is more
  // than this past its last event; nullopt (`retain_closed: never`) keeps it.
  std::optional<Duration> retain_closed = kDefaultRetainClosed;
  size_t batch_records = 2000;
  // Larger input records are dead-lettered as oversize; no reader holds more of one.
  size_t max_record_bytes = kDefaultMaxRecordBytes;
  size_t max_timers_per_tick = 1000;  // bounded firing between reads of input
  // After downtime the overdue backlog fires at most this fast, so it does not
  // flood the alerts topic (and the people behind it).
  size_t max_timers_per_second = 20000;
  // Threads that drive the live lanes (Kafka: one lane per assigned
  // partition, each lane on one worker). Default: the number of cores.
  size_t workers = default_workers();
  // Present when the config has a `kafka:` section: `run` consumes from and
  // produces to Kafka instead of input/alerts_output.
  std::optional<KafkaConfig> kafka;
  // Present when the config has an `http:` section (an empty one takes the defaults).
  std::optional<HttpConfig> http;
  ReloadConfig reload;
  // Present when the config has an `audit:` section: `run` appends to that log.
  std::optional<AuditConfig> audit;
  // Present when the config has an `alertmanager:` section: alerts are also
  // posted to that Alertmanager (after they are delivered to their sink).
  std::optional<AlertmanagerOptions> alertmanager;
  // Present when the config has a `shadow:` section.
  std::optional<ShadowConfig> shadow;
  std::string input = "-";            // JSON Lines file or "-" (stdin) for `run`
  std::string alerts_output = "-";
  std::string dead_letter_output;  // empty: dead letters are logged to stderr only
  std::string alert_source = "/slawatch";
  // Duty roster file naming the people behind notify roles; empty: none
  // (every alert's `person` is null).
  std::string roster_path;
};

// Relative paths in the file are taken relative to the file's folder.
Config load_config(const std::string& path);

}  // namespace slawatch
