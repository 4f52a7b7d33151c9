// The real pipeline with the Alertmanager tee on its alert sink: alerts reach
// the sender only after the commit that recorded them and the sink's flush;
// a failed flush holds them back until the retried delivery succeeds; a
// late acknowledgement's retraction ends the same Alertmanager alerts.
#include <gtest/gtest.h>

#include "alertmanager/sender.h"
#include "alertmanager/tee_sink.h"
#include "alertmanager_fixture.h"
#include "pipeline/pipeline.h"
#include "rules/rules.h"
#include "state/store.h"

namespace slawatch {
namespace {

using namespace slawatch::testing;

// Counts what the pipeline delivered; refuses flushes while `down`.
class FlakySink final : public RecordSink {
 public:
  Status write(const OutboundRecord&) override { return ok_status(); }
  Status flush() override { return down ? Status(make_error("sink down")) : ok_status(); }
  bool down = false;
};

std::string event_line(const std::string& id, const std::string& type, const std::string& time,
                       const std::string& data) {
  return R"({"specversion":"1.0","id":")" + id + R"(","source":"/test","type":"hotline.case.)" + type +
         R"(","subject":"C-1","time":")" + time + R"(","data":)" + data + "}";
}

RawRecord raw(std::string bytes) {
  RawRecord r;
  r.bytes = std::move(bytes);
  r.origin = "test";
  return r;
}

TEST(AlertmanagerPipeline, AlertsReachAlertmanagerOnlyAfterCommitAndFlush) {
  auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  ASSERT_TRUE(loaded.diagnostics.empty());
  MemoryStateStore store;
  Engine engine(loaded.rules, store, EngineOptions{});
  ASSERT_TRUE(engine.open().ok());
  FlakySink file;
  NullSink dead;
  ManualClock clock{at("2026-03-02T03:00:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerOptions options;
  AlertmanagerSender sender{options, client, clock, probe, notify_roles_from(loaded.rules), 1};
  AlertmanagerTeeSink tee{file, sender};
  Pipeline pipeline(engine, store, tee, dead, PipelineOptions{.batch_records = 100});

  ASSERT_TRUE(pipeline.on_record_live(raw(event_line("e1", "created", "2026-03-02T01:00:00Z",
                                                     R"({"category":"noise","priority":"normal","channel":"phone"})")))
                  .ok());
  ASSERT_TRUE(pipeline.on_record_live(raw(event_line("e2", "dispatched", "2026-03-02T01:00:00Z",
                                                     R"({"department":"noise"})")))
                  .ok());
  ASSERT_TRUE(pipeline.advance(at("2026-03-02T01:31:00Z")).ok());  // warning (24m) and breach (30m) fire
  EXPECT_EQ(pipeline.counters().alerts_fired, 2u);
  EXPECT_EQ(sender.queued(), 0u);  // produced, not committed

  file.down = true;
  EXPECT_FALSE(pipeline.maybe_commit("pos", true).ok());  // committed, delivery failed
  EXPECT_EQ(sender.queued(), 0u);  // not delivered: Alertmanager must not hear of them yet
  file.down = false;
  ASSERT_TRUE(pipeline.deliver_pending().ok());
  EXPECT_EQ(sender.queued(), 2u);
  EXPECT_EQ(sender.pump(), 2u);  // breach: duty officer and head
  clock.advance(std::chrono::seconds{1});
  EXPECT_EQ(sender.pump(), 1u);  // warning: duty officer, once Alertmanager has had time to learn of its breach
  const auto fired = by_role(client.alerts());
  ASSERT_TRUE(fired.contains("breach/department.head"));
  EXPECT_EQ(fired.at("breach/department.head")["labels"]["department"], "noise");
  EXPECT_EQ(fired.at("breach/department.head")["startsAt"], "2026-03-02T01:30:00.000Z");

  // A late acknowledgement from before the warning's due time: both stages are retracted.
  ASSERT_TRUE(pipeline.on_record_live(raw(event_line("e3", "acknowledged", "2026-03-02T01:10:00Z",
                                                     R"({"department":"noise"})")))
                  .ok());
  ASSERT_TRUE(pipeline.maybe_commit("pos2", true).ok());
  client.posts.clear();
  EXPECT_EQ(sender.pump(), 3u);
  const auto ended = by_role(client.alerts());
  for (const auto& [key, alert] : fired) {
    ASSERT_TRUE(ended.contains(key)) << key;
    EXPECT_EQ(ended.at(key)["labels"], alert["labels"]);
    EXPECT_EQ(ended.at(key)["endsAt"], alert["startsAt"]);
  }
}

}  // namespace
}  // namespace slawatch
