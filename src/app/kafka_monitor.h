#pragma once
// `slawatch run` on Kafka: the live monitor of contract section 4.
#include <memory>

#include "app/config.h"
#include "rules/rules.h"

namespace slawatch {

// Runs until SIGINT/SIGTERM; returns the process exit code.
int run_kafka_monitor(const Config& config, std::shared_ptr<const RuleSet> rules);

}  // namespace slawatch
