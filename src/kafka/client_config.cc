#include "kafka/client_config.h"

#include <librdkafka/rdkafkacpp.h>

#include <utility>
#include <vector>

namespace slawatch {
namespace {

Status set(RdKafka::Conf& conf, const std::string& name, const std::string& value) {
  std::string reason;
  if (conf.set(name, value, reason) != RdKafka::Conf::CONF_OK) {
    return make_error("kafka property '" + name + "': " + reason);
  }
  return ok_status();
}

int64_t milliseconds(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace

Result<std::unique_ptr<RdKafka::Conf>> make_client_conf(const KafkaConfig& config, KafkaClientRole role) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", config.brokers},
      {"client.id", "slawatch"},
      // librdkafka 2.0.2 waits for Nagle on small requests otherwise.
      {"socket.nagle.disable", "true"},
  };
  if (role == KafkaClientRole::consumer) {
    settings.insert(settings.end(), {
        {"group.id", config.group_id},
        // Offsets live in RocksDB with the state they produced; the ones
        // committed to Kafka only make lag visible to standard tools.
        {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"},
        {"auto.offset.reset", "earliest"},
        // Eager assignment: cooperative-sticky loops in librdkafka 2.0.2.
        {"partition.assignment.strategy", "range,roundrobin"},
        {"enable.partition.eof", "false"},
        // Static membership: a restarted instance takes its partitions back
        // without a rebalance; a dead one is noticed after session_timeout.
        {"session.timeout.ms", std::to_string(milliseconds(config.session_timeout))},
        {"heartbeat.interval.ms", std::to_string(milliseconds(heartbeat_interval(config.session_timeout)))},
    });
    if (!config.instance_id.empty()) settings.emplace_back("group.instance.id", config.instance_id);
  } else {
    settings.insert(settings.end(), {
        {"enable.idempotence", "true"},
        {"acks", "all"},
        {"linger.ms", "5"},
        {"compression.type", "lz4"},
    });
  }
  for (const auto& [name, value] : settings) {
    if (auto s = set(*conf, name, value); !s.ok()) return s.error();
  }
  const std::string own_prefix = role == KafkaClientRole::consumer ? "consumer." : "producer.";
  const std::string other_prefix = role == KafkaClientRole::consumer ? "producer." : "consumer.";
  for (const auto& [name, value] : config.properties) {
    if (name.starts_with(other_prefix)) continue;
    const std::string key = name.starts_with(own_prefix) ? name.substr(own_prefix.size()) : name;
    if (auto s = set(*conf, key, value); !s.ok()) return s.error();
  }
  return conf;
}

}  // namespace slawatch
