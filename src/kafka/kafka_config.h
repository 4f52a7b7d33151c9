#pragma once
// Kafka settings of the live monitor, parsed from the `kafka:` section of the
// config file (app/config.cc) and validated there, once, at start-up.
#include <map>
#include <string>

#include "model/time.h"

namespace slawatch {

struct KafkaConfig {
  std::string brokers = "127.0.0.1:9092";
  std::string events_topic = "hotline.case-events";
  std::string alerts_topic = "hotline.sla-alerts";
  std::string dead_letter_topic = "hotline.case-events.dlq";
  std::string group_id = "slawatch";
  bool alerts_binary_mode = false;  // CloudEvents binary mode (ce_* headers) instead of structured
  // How long one delivery attempt waits for the broker's acknowledgements
  // before the monitor goes back to polling and retries later.
  Duration delivery_wait = std::chrono::milliseconds{200};
  // Mirror every state commit to the compacted topic `<group_id>.state-changelog`
  // and restore a partition's state from it on assignment (kafka_changelog.h).
  bool changelog = true;
  // Passed through to librdkafka as they are (security.protocol, sasl.*, ssl.*,
  // fetch sizes...). Both clients get them; "consumer." and "producer." prefixed
  // keys go to one client only, without the prefix.
  std::map<std::string, std::string> properties;
};

}  // namespace slawatch
