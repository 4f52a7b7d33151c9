#pragma once
// `slawatch run` on Kafka: the live monitor of contract section 4.
#include <memory>
#include <optional>

#include "app/config.h"
#include "roster/roster.h"
#include "rules/rules.h"

namespace slawatch {

// Runs until SIGINT/SIGTERM (or, with `exit_when_idle`, until no record came
// for that long after the first one); returns the process exit code.
int run_kafka_monitor(const Config& config, std::shared_ptr<const RuleSet> rules, std::shared_ptr<const Roster> roster,
                      std::optional<Duration> exit_when_idle = std::nullopt);

}  // namespace slawatch
