// Delivery logic with a ManualClock and a recording client: sent at once,
// firing alerts resent every `resend`, resolved ones resent for
// `resolved_resend_for` then forgotten, roles carried over or taken from the
// rules, batches, exponential backoff with jitter on failures, rejected
// payloads and full queue / active set counted as dropped; the sender's
// thread and final flush; the tee sink hands over only flushed alerts.
#include "alertmanager/dispatcher.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <condition_variable>
#include <mutex>
#include <set>
#include <tuple>

#include "alertmanager/sender.h"
#include "alertmanager/tee_sink.h"
#include "alertmanager_fixture.h"
#include "io/alert_json.h"

namespace slawatch {
namespace {

using namespace slawatch::testing;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::milliseconds;

double metric(prometheus::Registry& registry, const std::string& name,
              const std::map<std::string, std::string>& labels = {}) {
  for (const auto& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const auto& m : family.metric) {
      size_t matched = 0;
      for (const auto& label : m.label) {
        auto it = labels.find(label.name);
        if (it != labels.end() && it->second == label.value) ++matched;
      }
      if (matched != labels.size()) continue;
      return family.type == prometheus::MetricType::Counter ? m.counter.value : m.gauge.value;
    }
  }
  ADD_FAILURE() << "no metric " << name;
  return -1;
}

AlertmanagerOptions test_options() {
  AlertmanagerOptions o;
  o.resend = minutes{1};
  o.resolved_resend_for = minutes{15};
  o.queue = 3;
  o.max_active = 100;
  o.batch = 500;
  o.retry_initial = seconds{1};
  o.retry_max = seconds{30};
  o.generator_base_url = "http://slawatch:9464";
  return o;
}

std::shared_ptr<const RuleSet> shipped_rules() {
  auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
  EXPECT_TRUE(loaded.diagnostics.empty());
  return loaded.rules;
}

struct DispatcherTest : ::testing::Test {
  ManualClock clock{at("2026-03-02T10:01:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerOptions options = test_options();
  AlertmanagerDispatcher dispatcher{options, client, clock, probe, notify_roles_from(shipped_rules()), 7};
};

TEST_F(DispatcherTest, FiringAlertIsSentAtOnceThenEveryResendWithEndsAtMovingAhead) {
  dispatcher.accept(fired_alert());
  EXPECT_EQ(dispatcher.run_due(), 2u);  // two roles
  ASSERT_EQ(client.posts.size(), 1u);
  EXPECT_EQ(client.posts[0][0]["endsAt"], "2026-03-02T10:05:00.000Z");
  EXPECT_EQ(dispatcher.next_due(), at("2026-03-02T10:02:00Z"));

  clock.advance(seconds{59});
  EXPECT_EQ(dispatcher.run_due(), 0u);  // not due yet
  EXPECT_EQ(client.posts.size(), 1u);
  for (int i = 1; i <= 30; ++i) {
    clock.set(at("2026-03-02T10:01:00Z") + minutes{i});
    EXPECT_EQ(dispatcher.run_due(), 2u);
  }
  ASSERT_EQ(client.posts.size(), 31u);
  EXPECT_EQ(client.posts.back()[0]["endsAt"], "2026-03-02T10:35:00.000Z");
  EXPECT_EQ(client.posts.back()[0]["annotations"]["overdue_by"], "31m");
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_alerts_sent_total"), 62);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_active_alerts", {{"state", "firing"}}), 1);
}

TEST_F(DispatcherTest, ResolvedAlertIsResentForAWhileThenForgotten) {
  const Alert fired = fired_alert();
  dispatcher.accept(fired);
  dispatcher.run_due();
  clock.advance(seconds{30});
  dispatcher.accept(resolved_alert(fired, at("2026-03-02T10:01:20Z")));
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_active_alerts", {{"state", "resolved"}}), 1);
  EXPECT_EQ(dispatcher.run_due(), 2u);  // sent at once, not at the firing alert's next resend
  const auto resolved_post = client.posts.back();
  // The roles and people of the firing event, so the same Alertmanager alerts end.
  EXPECT_EQ(resolved_post[0]["labels"], client.posts[0][0]["labels"]);
  EXPECT_EQ(resolved_post[1]["labels"], client.posts[0][1]["labels"]);
  EXPECT_EQ(resolved_post[0]["annotations"]["on_duty"], "Li Wei, Zhang Min");
  EXPECT_EQ(resolved_post[0]["endsAt"], "2026-03-02T10:01:20.000Z");

  size_t resends = 0;
  for (int second = 1; second <= 20 * 60; ++second) {
    clock.advance(seconds{1});
    if (dispatcher.run_due() > 0) ++resends;
  }
  // Sent at 0 and again at 1..14 minutes; at 15 minutes it is forgotten.
  EXPECT_EQ(resends, 14u);
  EXPECT_FALSE(dispatcher.is_active(fired.alert_id));
  EXPECT_EQ(dispatcher.next_due(), kMaxInstant);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_active_alerts", {{"state", "resolved"}}), 0);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_active_alerts", {{"state", "firing"}}), 0);
}

TEST_F(DispatcherTest, RetractedAlertEndsAndAFreshFiringRevivesIt) {
  const Alert fired = fired_alert();
  dispatcher.accept(fired);
  dispatcher.run_due();
  dispatcher.accept(retracted_alert(fired, at("2026-03-02T09:59:00Z")));
  dispatcher.run_due();
  EXPECT_EQ(client.posts.back()[0]["endsAt"], client.posts.back()[0]["startsAt"]);
  EXPECT_EQ(client.posts.back()[0]["annotations"]["retracted"], "acknowledged before the due time");
  // The stage fires again (a later event moved its due time): firing again, resent forever.
  Alert again = fired;
  again.due_at = at("2026-03-02T10:30:00Z");
  clock.advance(minutes{40});
  dispatcher.accept(again);
  dispatcher.run_due();
  EXPECT_EQ(client.posts.back()[0]["startsAt"], "2026-03-02T10:30:00.000Z");
  EXPECT_EQ(dispatcher.firing(), 1u);
  clock.advance(minutes{30});
  EXPECT_EQ(dispatcher.run_due(), 2u);
  EXPECT_TRUE(dispatcher.is_active(fired.alert_id));
}

TEST_F(DispatcherTest, ResolvedAlertNeverSeenFiringTakesItsRolesFromTheRules) {
  // It fired before a restart: the rules say first-response breach notifies the duty officer and the head.
  dispatcher.accept(resolved_alert(fired_alert(), at("2026-03-02T10:01:00Z")));
  dispatcher.run_due();
  ASSERT_EQ(client.posts.size(), 1u);
  ASSERT_EQ(client.posts[0].size(), 2u);
  EXPECT_EQ(client.posts[0][0]["labels"]["role"], "department.duty_officer");
  EXPECT_EQ(client.posts[0][1]["labels"]["role"], "department.head");
  EXPECT_FALSE(client.posts[0][0]["annotations"].contains("on_duty"));
}

TEST_F(DispatcherTest, RedeliveredAlertStaysOneActiveAlert) {
  dispatcher.accept(fired_alert());
  dispatcher.run_due();
  dispatcher.accept(fired_alert());  // the same event again after a crash
  EXPECT_EQ(dispatcher.active(), 1u);
  EXPECT_EQ(dispatcher.run_due(), 2u);
  EXPECT_EQ(client.posts.size(), 2u);
}

TEST_F(DispatcherTest, FailuresBackOffExponentiallyWithJitterThenRecover) {
  std::vector<std::string> logged;
  dispatcher.set_logger([&](const std::string& message) { logged.push_back(message); });
  for (int i = 0; i < 8; ++i) client.answers.push_back(refused());
  dispatcher.accept(fired_alert());
  const Duration expected_max[] = {seconds{1}, seconds{2}, seconds{4}, seconds{8},
                                   seconds{16}, seconds{30}, seconds{30}, seconds{30}};
  for (int attempt = 0; attempt < 8; ++attempt) {
    EXPECT_EQ(dispatcher.run_due(), 0u);
    EXPECT_EQ(client.posts.size(), static_cast<size_t>(attempt + 1));
    EXPECT_EQ(dispatcher.failures(), attempt + 1);
    const Duration wait = dispatcher.last_backoff();
    EXPECT_GE(wait, expected_max[attempt] / 2) << "attempt " << attempt;
    EXPECT_LE(wait, expected_max[attempt]) << "attempt " << attempt;
    EXPECT_EQ(dispatcher.next_due(), clock.now() + wait);
    // Nothing is posted while backing off.
    clock.advance(wait - Duration{1});
    EXPECT_EQ(dispatcher.run_due(), 0u);
    EXPECT_EQ(client.posts.size(), static_cast<size_t>(attempt + 1));
    clock.advance(Duration{1});
  }
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_post_failures_total", {{"reason", "connect"}}), 8);
  EXPECT_EQ(dispatcher.run_due(), 2u);  // Alertmanager is back
  EXPECT_EQ(dispatcher.failures(), 0);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_alerts_sent_total"), 2);
  // Logged when it starts failing and when it recovers, not on every retry.
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_NE(logged[0].find("connection refused; retrying with backoff"), std::string::npos) << logged[0];
  EXPECT_NE(logged[1].find("after 8 failed attempt(s)"), std::string::npos) << logged[1];
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_dropped_total", {{"reason", "rejected"}}), 0);
}

TEST_F(DispatcherTest, JitterSpreadsTheWaits) {
  std::set<int64_t> waits;
  for (int i = 0; i < 20; ++i) {
    client.answers.push_back(refused());
    dispatcher.accept(fired_alert("C-" + std::to_string(i)));
    dispatcher.run_due();
    waits.insert(dispatcher.last_backoff().count());
    clock.advance(minutes{1});
    client.answers.clear();
    dispatcher.run_due();  // succeeds: failures back to 0, so the next wait is from the first step
  }
  EXPECT_GT(waits.size(), 10u);
  for (int64_t w : waits) {
    EXPECT_GE(w, 500);
    EXPECT_LE(w, 1000);
  }
}

TEST_F(DispatcherTest, RejectedPayloadIsCountedAndWaitsForTheNextResend) {
  client.answers.push_back(PostResult{PostResult::Outcome::rejected, "http_4xx", "HTTP 400"});
  dispatcher.accept(fired_alert());
  EXPECT_EQ(dispatcher.run_due(), 0u);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_dropped_total", {{"reason", "rejected"}}), 1);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_post_failures_total", {{"reason", "http_4xx"}}), 1);
  EXPECT_EQ(dispatcher.failures(), 0);  // no backoff: the payload was the problem
  EXPECT_EQ(dispatcher.next_due(), clock.now() + minutes{1});
  clock.advance(minutes{1});
  EXPECT_EQ(dispatcher.run_due(), 2u);
}

TEST_F(DispatcherTest, PostsInBatches) {
  options.batch = 2;
  AlertmanagerDispatcher batched{options, client, clock, probe, {}, 1};
  for (int i = 0; i < 5; ++i) batched.accept(fired_alert("B-" + std::to_string(i)));
  EXPECT_EQ(batched.run_due(), 10u);
  ASSERT_EQ(client.posts.size(), 3u);
  EXPECT_EQ(client.posts[0].size(), 4u);  // 2 alerts x 2 roles
  EXPECT_EQ(client.posts[2].size(), 2u);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_posts_total"), 3);
}

// A backlog fires a case's warning, breach and escalation together, all
// started long ago: Alertmanager flushes their groups at once, so a breach
// must be known to its inhibitor before the warning it silences is posted.
TEST_F(DispatcherTest, EachCaseCyclesLatestStageIsPostedBeforeTheStagesItInhibits) {
  auto stage = [](const std::string& case_id, const std::string& name, const char* due) {
    Alert a = fired_alert(case_id, name);
    a.due_at = at(due);
    a.notify = {{"department.duty_officer", ""}};
    return a;
  };
  // Accepted mildest first, as they fire.
  dispatcher.accept(stage("W-1", "warning", "2026-03-02T09:24:00Z"));
  dispatcher.accept(stage("W-1", "breach", "2026-03-02T09:30:00Z"));
  dispatcher.accept(stage("W-1", "escalated", "2026-03-02T10:00:00Z"));
  dispatcher.accept(stage("E-1", "warning", "2026-03-02T09:48:00Z"));
  dispatcher.accept(stage("E-1", "breach", "2026-03-02T09:54:00Z"));
  dispatcher.accept(stage("R-1", "breach", "2026-03-02T09:00:00Z"));
  auto stages = [&](size_t post) {
    std::vector<std::string> out;
    for (const auto& a : client.posts[post]) {
      out.push_back(a["labels"]["case_id"].get<std::string>() + "/" + a["labels"]["stage"].get<std::string>());
    }
    return out;
  };
  // Each round a settling delay (a second here) after the one before, so
  // Alertmanager's inhibitor has read a breach before its warning arrives.
  EXPECT_EQ(dispatcher.run_due(), 3u);
  ASSERT_EQ(client.posts.size(), 1u);
  EXPECT_EQ(stages(0), (std::vector<std::string>{"E-1/breach", "R-1/breach", "W-1/escalated"}));
  EXPECT_EQ(dispatcher.next_due(), clock.now() + seconds{1});
  clock.advance(seconds{1});
  EXPECT_EQ(dispatcher.run_due(), 2u);
  ASSERT_EQ(client.posts.size(), 2u);
  EXPECT_EQ(stages(1), (std::vector<std::string>{"E-1/warning", "W-1/breach"}));
  clock.advance(seconds{1});
  EXPECT_EQ(dispatcher.run_due(), 1u);
  ASSERT_EQ(client.posts.size(), 3u);
  EXPECT_EQ(stages(2), (std::vector<std::string>{"W-1/warning"}));
  // Resends after that: the same order and the same spacing again.
  clock.advance(minutes{1} - seconds{2});
  EXPECT_EQ(dispatcher.run_due(), 3u);
  for (int second = 0; second < 2; ++second) {
    clock.advance(seconds{1});
    dispatcher.run_due();
  }
  ASSERT_EQ(client.posts.size(), 6u);
  for (size_t post = 0; post < 3; ++post) EXPECT_EQ(stages(post + 3), stages(post));
}

TEST_F(DispatcherTest, FullActiveSetDropsNewAlertsAndCountsThem) {
  options.max_active = 2;
  AlertmanagerDispatcher small{options, client, clock, probe, {}, 1};
  small.accept(fired_alert("A-1"));
  small.accept(fired_alert("A-2"));
  small.accept(fired_alert("A-3"));
  EXPECT_EQ(small.active(), 2u);
  EXPECT_FALSE(small.is_active(fired_alert("A-3").alert_id));
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_dropped_total", {{"reason", "active_full"}}), 1);
  // Updates of alerts already held still get through.
  small.accept(resolved_alert(fired_alert("A-1"), clock.now()));
  EXPECT_EQ(small.active(), 2u);
  EXPECT_EQ(small.firing(), 1u);
}

TEST(AlertmanagerSender, FullQueueDropsAndCountsThenPumpDeliversTheRest) {
  ManualClock clock{at("2026-03-02T10:01:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerSender sender{test_options(), client, clock, probe, {}, 1};  // queue of 3, thread not started
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(sender.enqueue(fired_alert("Q-" + std::to_string(i))), i < 3);
  }
  EXPECT_EQ(sender.queued(), 3u);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_queue_depth"), 3);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_dropped_total", {{"reason", "queue_full"}}), 2);
  EXPECT_EQ(sender.pump(), 6u);
  EXPECT_EQ(sender.queued(), 0u);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_queue_depth"), 0);
  EXPECT_EQ(sender.dispatcher().active(), 3u);
}

TEST(AlertmanagerSender, StopMakesOneLastAttemptForWhatIsQueued) {
  ManualClock clock{at("2026-03-02T10:01:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerSender sender{test_options(), client, clock, probe, {}, 1};
  client.answers.push_back(refused());
  sender.enqueue(fired_alert());
  sender.pump();  // fails: backing off
  sender.enqueue(resolved_alert(fired_alert(), clock.now()));
  sender.stop();  // the backoff does not hold back the last attempt
  ASSERT_EQ(client.posts.size(), 2u);
  EXPECT_EQ(client.posts[1][0]["endsAt"], "2026-03-02T10:01:00.000Z");
}

// A client the sender thread posts to while the test waits for it.
class SignallingClient final : public AlertmanagerClient {
 public:
  PostResult post(const std::string& alerts_json) override {
    std::lock_guard lock(mutex);
    bodies.push_back(nlohmann::json::parse(alerts_json));
    posted.notify_all();
    return PostResult::ok();
  }
  std::mutex mutex;
  std::condition_variable posted;
  std::vector<nlohmann::json> bodies;
};

TEST(AlertmanagerSender, ThreadPostsEnqueuedAlerts) {
  WallClock clock;
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  SignallingClient client;
  AlertmanagerSender sender{test_options(), client, clock, probe, {}, 1};
  sender.start();
  sender.enqueue(fired_alert());
  {
    std::unique_lock lock(client.mutex);
    ASSERT_TRUE(client.posted.wait_for(lock, seconds{10}, [&] { return !client.bodies.empty(); }));
    EXPECT_EQ(client.bodies[0][0]["labels"]["case_id"], "C-1");
  }
  sender.stop();
  sender.stop();  // idempotent
}

// Inner sink whose flush the test controls.
class ScriptedSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    written.emplace_back(record.payload);
    return ok_status();
  }
  Status flush() override { return flush_ok ? ok_status() : Status(make_error("broker down")); }
  // Acknowledges only the seqs the test lists, like a broker answering for some records.
  Status collect_acknowledged(std::span<const uint64_t> seqs, std::vector<uint64_t>& out) override {
    for (const uint64_t seq : seqs) {
      if (std::find(acked.begin(), acked.end(), seq) != acked.end()) out.push_back(seq);
    }
    return ok_status();
  }
  std::vector<std::string> written;
  std::vector<uint64_t> acked;
  bool flush_ok = true;
};

// A tee over a scripted inner sink, handing over to a sender whose posts are recorded.
struct TeeHarness {
  explicit TeeHarness(AlertmanagerOptions options = test_options())
      : sender{options, client, clock, probe, {}, 1}, tee{inner, sender} {}
  ManualClock clock{at("2026-03-02T10:01:00Z")};
  prometheus::Registry registry;
  AlertmanagerProbe probe{registry};
  RecordingClient client;
  AlertmanagerSender sender;
  ScriptedSink inner;
  AlertmanagerTeeSink tee;
};

TEST(AlertmanagerTeeSink, HandsOverOnlyWhatTheInnerSinkAcknowledged) {
  TeeHarness h;
  auto [tee, sender, inner, client] = std::tie(h.tee, h.sender, h.inner, h.client);
  const std::string payload = encode_alert_cloudevent(fired_alert(), "/slawatch");
  ASSERT_TRUE(tee.write(OutboundRecord{1, "C-1", payload, nullptr}).ok());
  ASSERT_TRUE(tee.write(OutboundRecord{2, "C-1", payload, nullptr}).ok());
  std::vector<uint64_t> acknowledged;
  const std::vector<uint64_t> written{1, 2};
  ASSERT_TRUE(tee.collect_acknowledged(written, acknowledged).ok());
  EXPECT_TRUE(acknowledged.empty());
  EXPECT_EQ(sender.queued(), 0u);
  inner.acked = {2};
  ASSERT_TRUE(tee.collect_acknowledged(written, acknowledged).ok());
  EXPECT_EQ(acknowledged, (std::vector<uint64_t>{2}));
  EXPECT_EQ(sender.queued(), 1u);
  EXPECT_EQ(tee.waiting_for_flush(), 1u);  // seq 1 still waits for its acknowledgement
}

TEST(AlertmanagerTeeSink, AlertsDeliveredTogetherArePostedBreachFirst) {
  // A case's warning and breach committed together reach Alertmanager in one round, the breach in
  // the first request, so it is there when Alertmanager decides whether the warning it inhibits is
  // notified (its inhibitor learns of alerts on its own, not within the request).
  TeeHarness h;
  auto [tee, sender, inner, client] = std::tie(h.tee, h.sender, h.inner, h.client);
  Alert warning = fired_alert("C-1", "warning");
  warning.due_at = at("2026-03-02T09:54:00Z");
  ASSERT_TRUE(tee.write(OutboundRecord{1, "C-1", encode_alert_cloudevent(warning, "/s"), nullptr}).ok());
  ASSERT_TRUE(tee.write(OutboundRecord{2, "C-1", encode_alert_cloudevent(fired_alert("C-1", "breach"), "/s"), nullptr})
                  .ok());
  ASSERT_TRUE(tee.flush().ok());
  EXPECT_EQ(sender.queued(), 2u);
  sender.pump();
  // A post right after the breach's could still beat Alertmanager's inhibitor
  // to it: the warning waits a settling delay (at most a second).
  ASSERT_EQ(client.posts.size(), 1u);
  h.clock.advance(milliseconds{999});
  sender.pump();
  ASSERT_EQ(client.posts.size(), 1u);
  h.clock.advance(milliseconds{1});
  sender.pump();
  ASSERT_EQ(client.posts.size(), 2u);
  for (size_t post = 0; post < 2; ++post) {
    std::set<std::string> stages;
    for (const auto& posted : client.posts[post]) stages.insert(posted["labels"]["stage"].get<std::string>());
    EXPECT_EQ(stages, (std::set<std::string>{post == 0 ? "breach" : "warning"}));
  }
}

TEST(AlertmanagerTeeSink, EndedStagesOfACycleArePostedTogetherAtOnce) {
  // Resolved and retracted alerts silence nothing: no settling delay between them.
  TeeHarness h;
  auto [tee, sender, inner, client] = std::tie(h.tee, h.sender, h.inner, h.client);
  Alert warning = fired_alert("C-1", "warning");
  warning.due_at = at("2026-03-02T09:54:00Z");
  Alert breach = fired_alert("C-1", "breach");
  ASSERT_TRUE(tee.write(OutboundRecord{1, "C-1", encode_alert_cloudevent(warning, "/s"), nullptr}).ok());
  ASSERT_TRUE(tee.write(OutboundRecord{2, "C-1", encode_alert_cloudevent(breach, "/s"), nullptr}).ok());
  ASSERT_TRUE(tee.flush().ok());
  sender.pump();
  h.clock.advance(seconds{1});
  sender.pump();
  ASSERT_EQ(client.posts.size(), 2u);
  warning.kind = AlertKind::retracted;
  breach.kind = AlertKind::retracted;
  ASSERT_TRUE(tee.write(OutboundRecord{3, "C-1", encode_alert_cloudevent(warning, "/s"), nullptr}).ok());
  ASSERT_TRUE(tee.write(OutboundRecord{4, "C-1", encode_alert_cloudevent(breach, "/s"), nullptr}).ok());
  ASSERT_TRUE(tee.flush().ok());
  sender.pump();
  ASSERT_EQ(client.posts.size(), 3u);
  std::set<std::string> stages;
  for (const auto& posted : client.posts[2]) stages.insert(posted["labels"]["stage"].get<std::string>());
  EXPECT_EQ(stages, (std::set<std::string>{"breach", "warning"}));
}

TEST(AlertmanagerTeeSink, HandsOverAlertsOnlyOnceTheInnerSinkFlushed) {
  AlertmanagerOptions options = test_options();
  options.queue = 10;
  TeeHarness h(options);
  auto [tee, sender, inner, client] = std::tie(h.tee, h.sender, h.inner, h.client);
  prometheus::Registry& registry = h.registry;
  const std::string payload = encode_alert_cloudevent(fired_alert(), "/slawatch");
  inner.flush_ok = false;
  ASSERT_TRUE(tee.write(OutboundRecord{1, "C-1", payload, nullptr}).ok());
  EXPECT_FALSE(tee.flush().ok());
  EXPECT_EQ(sender.queued(), 0u);  // not durable yet: Alertmanager must not hear of it
  // The pipeline retries the same record (same seq).
  inner.flush_ok = true;
  ASSERT_TRUE(tee.write(OutboundRecord{1, "C-1", payload, nullptr}).ok());
  ASSERT_TRUE(tee.write(OutboundRecord{2, "C-1", "{not an alert", nullptr}).ok());
  EXPECT_TRUE(tee.flush().ok());
  EXPECT_EQ(inner.written.size(), 3u);
  EXPECT_EQ(sender.queued(), 1u);
  EXPECT_EQ(tee.waiting_for_flush(), 0u);
  EXPECT_EQ(metric(registry, "slawatch_alertmanager_dropped_total", {{"reason", "undecodable"}}), 1);
  EXPECT_EQ(sender.pump(), 2u);
  EXPECT_EQ(client.posts[0][0]["annotations"]["alert_id"], "C-1/first-response/1/breach");
}

}  // namespace
}  // namespace slawatch
