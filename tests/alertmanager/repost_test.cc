// Re-posting after a restart: every alert whose latest event in the state is
// `fired` goes to the sender, beyond the sender's queue capacity; resolved and
// retracted ones do not; an entry that does not decode (a value of the earlier
// format whose text is not an alert) is counted as dropped.
#include "alertmanager/repost.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "alertmanager_fixture.h"
#include "io/alert_json.h"
#include "state/temp_database.h"

namespace slawatch {
namespace {

using namespace slawatch::testing;

TEST(RepostFiringAlerts, HandsEveryFiringAlertOfTheStateToTheSenderAndNothingElse) {
  TempDatabase temp("slawatch-repost-test");
  RocksDbStateStore store(temp.database, 0);
  StateBatch batch;
  for (int i = 0; i < 5; ++i) {
    const Alert alert = fired_alert("F-" + std::to_string(i));
    batch.alert_index.push_back(IndexedAlert{alert, "/test"});
  }
  const Alert ended = fired_alert("E-1");
  Alert resolved = ended;
  resolved.kind = AlertKind::resolved;
  resolved.closed_at = ended.due_at + Duration{60'000};
  batch.alert_index.push_back(IndexedAlert{ended, "/test"});
  batch.alert_index.push_back(IndexedAlert{resolved, "/test"});  // the later event of the id wins
  ASSERT_TRUE(store.commit(batch).ok());
  // A value of the earlier format (state, department, the CloudEvent's text)
  // whose text is not an alert.
  std::string legacy(1, '\0');
  codec::put_string(legacy, "");
  legacy += "{not an alert";
  const std::string key = std::string("\0\0", 2) + "X-1/first-response/1/breach";
  ASSERT_TRUE(temp.database->db()->Put(rocksdb::WriteOptions(), temp.database->alerts(), key, legacy).ok());

  ManualClock clock{at("2026-03-02T10:01:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerOptions options;
  options.queue = 3;  // fewer than the firing alerts: a restore is not bounded by it
  AlertmanagerSender sender{options, client, clock, probe, {}, 1};
  auto reposted = repost_firing_alerts(store, sender);
  ASSERT_TRUE(reposted.ok());
  EXPECT_EQ(*reposted, 5u);
  EXPECT_EQ(sender.queued(), 5u);
  sender.pump();
  EXPECT_EQ(sender.dispatcher().firing(), 5u);
  EXPECT_FALSE(sender.dispatcher().is_active(ended.alert_id));
  bool counted = false;
  for (const auto& family : registry.Collect()) {
    if (family.name != "slawatch_alertmanager_dropped_total") continue;
    for (const auto& metric : family.metric) {
      const bool undecodable = metric.label.size() == 1 && metric.label[0].value == "undecodable";
      EXPECT_EQ(metric.counter.value, undecodable ? 1 : 0) << metric.label[0].value;
      counted = counted || (undecodable && metric.counter.value == 1);
    }
  }
  EXPECT_TRUE(counted) << "the undecodable entry is counted as dropped";
}

}  // namespace
}  // namespace slawatch
