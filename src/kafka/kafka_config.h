#pragma once
// Kafka settings of the live monitor, parsed from the `kafka:` section of the
// config file (app/config.cc) and validated there, once, at start-up.
#include <map>
#include <string>
#include <string_view>

#include "model/result.h"
#include "model/time.h"

namespace slawatch {

struct KafkaConfig {
  std::string brokers = "127.0.0.1:9092";
  std::string events_topic = "hotline.case-events";
  std::string alerts_topic = "hotline.sla-alerts";
  std::string dead_letter_topic = "hotline.case-events.dlq";
  std::string group_id = "slawatch";
  // Static group membership (group.instance.id): a member that comes back
  // under the same id within the session timeout gets its partitions back at
  // once, without a rebalance. Stable per instance; see default_instance_id.
  std::string instance_id;
  // How long the group waits for a member that stopped heartbeating (SIGKILL,
  // a lost host) before its partitions go to the others.
  Duration session_timeout = std::chrono::seconds{10};
  bool alerts_binary_mode = false;  // CloudEvents binary mode (ce_* headers) instead of structured
  // How long one delivery attempt waits for the broker's acknowledgements
  // before the monitor goes back to polling and retries later.
  Duration delivery_wait = std::chrono::milliseconds{200};
  // Mirror every state commit to the compacted topic `<group_id>.state-changelog`
  // and restore a partition's state from it on assignment (kafka_changelog.h).
  bool changelog = true;
  // How many other instances keep a warm copy of each partition by tailing
  // its changelog (standby_tailer.h), so a failover reads only the tail.
  size_t standby_replicas = 0;
  // Passed through to librdkafka as they are (security.protocol, sasl.*, ssl.*,
  // fetch sizes...). Both clients get them; "consumer." and "producer." prefixed
  // keys go to one client only, without the prefix.
  std::map<std::string, std::string> properties;
};

// The bounds a broker accepts by default (group.min/max.session.timeout.ms).
inline constexpr Duration kMinSessionTimeout = std::chrono::seconds{6};
inline constexpr Duration kMaxSessionTimeout = std::chrono::minutes{30};
inline constexpr size_t kMaxStandbyReplicas = 8;
// The broker's limit on a group.instance.id.
inline constexpr size_t kMaxInstanceIdLength = 249;

// Heartbeats at a third of the session timeout (so two may be lost before the
// member is), and never less often than Kafka's default of every 3 s.
Duration heartbeat_interval(Duration session_timeout);

// An error naming what is wrong when `id` is not 1-249 of [A-Za-z0-9._-] (the
// broker refuses any other group.instance.id).
Status check_instance_id(std::string_view id);

// The instance id when the config sets none: "<host>-<state dir name>-<8 hex
// digits of a hash of the state dir's absolute path>". Two instances on one
// host must use two state directories (RocksDB locks its directory), so they
// never share an id; the same instance restarted keeps it. Characters the
// broker refuses become '_'.
std::string default_instance_id(std::string_view host_name, std::string_view absolute_state_dir);

}  // namespace slawatch
