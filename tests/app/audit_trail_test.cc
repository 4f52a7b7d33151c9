// The audit trail: delivered alert events go into the audit log with their
// exact CloudEvent bytes at the engine's clock; dead letters do not; the rule
// set is recorded at start-up only when its version changed.
#include "app/audit_trail.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace slawatch {
namespace {

namespace fs = std::filesystem;

// Keeps every payload it is given.
class CapturingSink final : public RecordSink {
 public:
  Status write(const OutboundRecord& record) override {
    payloads.emplace_back(record.payload);
    return ok_status();
  }
  Status flush() override { return ok_status(); }
  std::vector<std::string> payloads;
};

class AuditTrailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("slawatch-trail-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "audit.jsonl").string();
    auto loaded = load_rules(SLAWATCH_SOURCE_DIR "/rules");
    ASSERT_TRUE(loaded.diagnostics.empty());
    rules_ = loaded.rules;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::vector<nlohmann::json> entries() const {
    std::ifstream in(path_);
    std::vector<nlohmann::json> out;
    for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
    return out;
  }

  fs::path dir_;
  std::string path_;
  std::shared_ptr<const RuleSet> rules_;
};

RawRecord record(const std::string& id, const std::string& type, const std::string& time, const std::string& data) {
  RawRecord r;
  r.bytes = R"({"specversion":"1.0","id":")" + id + R"(","source":"/test","type":"hotline.case.)" + type +
            R"(","subject":"C-1","time":")" + time + R"(","data":)" + data + "}";
  r.origin = "test";
  return r;
}

TEST_F(AuditTrailTest, RulesAreRecordedOnlyWhenTheirVersionChanged) {
  const Instant at = from_millis(1'772'400'000'000);
  {
    auto trail = AuditTrail::start(path_, {}, *rules_, "rules", at, "run");
    ASSERT_TRUE(trail.ok()) << trail.error().message;
    EXPECT_EQ((*trail)->log().last_seq(), 1u);
  }
  {
    auto trail = AuditTrail::open(path_, {});
    ASSERT_TRUE(trail.ok());
    auto same = (*trail)->record_rules(*rules_, "rules", at, "run");
    ASSERT_TRUE(same.ok());
    EXPECT_FALSE(*same);
    RuleSet changed = *rules_;
    changed.version = "0123456789ab";
    auto recorded = (*trail)->record_rules(changed, "rules", kMinInstant, "replay");
    ASSERT_TRUE(recorded.ok());
    EXPECT_TRUE(*recorded);
  }
  const auto e = entries();
  ASSERT_EQ(e.size(), 2u);
  EXPECT_EQ(e[0]["kind"], "rules.loaded");
  EXPECT_EQ(e[0]["time"], format_rfc3339_utc(at));
  EXPECT_EQ(e[0]["payload"]["version"], rules_->version);
  EXPECT_EQ(e[0]["payload"]["deadline_rules"], rules_->deadlines.size());
  EXPECT_NE(e[0]["payload"]["actor"].get<std::string>().find("slawatch run (user "), std::string::npos);
  EXPECT_EQ(e[1]["payload"]["version"], "0123456789ab");
  EXPECT_TRUE(e[1]["time"].is_null());  // a replay before its first event has no clock yet
}

TEST_F(AuditTrailTest, DeliveredAlertsAreAppendedWithTheirExactBytes) {
  auto trail = AuditTrail::open(path_, {});
  ASSERT_TRUE(trail.ok());
  MemoryStateStore store;
  Engine engine(rules_, store, EngineOptions{});
  ASSERT_TRUE(engine.open().ok());
  CapturingSink alerts;
  CapturingSink dead;
  Pipeline pipeline(engine, store, alerts, dead, PipelineOptions{});
  pipeline.set_delivery_observer((*trail)->observer(engine));
  const std::string normal = R"({"category":"noise","priority":"normal","channel":"phone"})";
  for (const RawRecord& r :
       {record("e1", "created", "2026-03-02T09:00:00.000+08:00", normal),
        record("e2", "dispatched", "2026-03-02T09:00:00.000+08:00", R"({"department":"noise"})"),
        record("e3", "updated", "2026-03-02T09:40:00.000+08:00", "{}"),  // clock 09:40: warning, breach fired
        RawRecord{"not json", "test:4", "", {}, {}},                       // a dead letter: not audited
        record("e4", "acknowledged", "2026-03-02T09:45:00.000+08:00", R"({"department":"noise"})")}) {
    ASSERT_TRUE(pipeline.on_record_replay(r).ok());
  }
  ASSERT_TRUE(pipeline.maybe_commit("5", true).ok());
  ASSERT_EQ(dead.payloads.size(), 1u);
  const auto e = entries();
  ASSERT_EQ(e.size(), alerts.payloads.size());
  ASSERT_EQ(e.size(), 4u);  // warning and breach fired, then both resolved
  EXPECT_EQ(e[0]["kind"], "alert.fired");
  EXPECT_EQ(e[0]["payload"]["alert_id"], "C-1/first-response/1/warning");
  EXPECT_EQ(e[3]["kind"], "alert.resolved");
  EXPECT_EQ(e[3]["time"], "2026-03-02T01:45:00.000Z");  // the engine clock at delivery
  std::ifstream in(path_);
  std::stringstream text;
  text << in.rdbuf();
  for (const auto& payload : alerts.payloads) {
    EXPECT_NE(text.str().find(",\"cloudevent\":" + payload + "}"), std::string::npos);
  }
  EXPECT_TRUE(audit::verify_chain(text.str()).ok());
}

}  // namespace
}  // namespace slawatch
