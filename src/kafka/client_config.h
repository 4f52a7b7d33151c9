#pragma once
// Builds librdkafka configurations from KafkaConfig: the settings slawatch
// depends on, then the user's pass-through properties. Start-up only.
#include <memory>
#include <string>

#include "kafka/kafka_config.h"
#include "model/result.h"

namespace RdKafka {
class Conf;
}

namespace slawatch {

enum class KafkaClientRole { consumer, producer };

// Errors name the property and librdkafka's reason.
Result<std::unique_ptr<RdKafka::Conf>> make_client_conf(const KafkaConfig& config, KafkaClientRole role);

}  // namespace slawatch
