#pragma once
// Test support: a pipeline on the live clock over a MemoryStateStore, in small
// batches, collecting every alert as "kind id due" in emission order.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../engine/engine_fixture.h"
#include "pipeline/pipeline.h"

namespace slawatch {

struct LiveHarness {
  explicit LiveHarness(std::shared_ptr<const RuleSet> rules, StateStore& s, EngineOptions engine_options = {})
      : store(s), engine(std::move(rules), store, engine_options), pipeline(engine, store, sink, sink, options()) {
    EXPECT_TRUE(engine.open().ok());
    EXPECT_TRUE(pipeline.recover().ok());
    pipeline.set_alert_observer([this](const Alert& a) { alerts.push_back(testing::describe(a)); });
  }
  static PipelineOptions options() {
    PipelineOptions o;
    o.batch_records = 2;  // small slices: the repair commits several times
    return o;
  }
  std::vector<std::string> take() { return std::exchange(alerts, {}); }
  StateStore& store;
  NullSink sink;
  Engine engine;
  Pipeline pipeline;
  std::vector<std::string> alerts;
};

}  // namespace slawatch
