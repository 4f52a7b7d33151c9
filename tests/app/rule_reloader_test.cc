// RuleReloader: requests are served on the processing thread; a bad rule set
// or roster is rejected and the old ones stay; an identical set is unchanged;
// a changed roster is put in force without touching the rules.
#include "app/rule_reloader.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>

namespace slawatch {
namespace {

namespace fs = std::filesystem;

class RuleReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("slawatch-reloader-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    fs::copy(std::string(SLAWATCH_SOURCE_DIR) + "/rules", dir_ / "rules",
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::remove(dir_ / "rules" / "calendars");
    fs::copy(std::string(SLAWATCH_SOURCE_DIR) + "/config/calendars", dir_ / "rules" / "calendars",
             fs::copy_options::recursive);
    fs::copy_file(std::string(SLAWATCH_SOURCE_DIR) + "/config/roster.yaml", dir_ / "roster.yaml");
    auto loaded = load_rules((dir_ / "rules").string());
    ASSERT_TRUE(loaded.rules) << loaded.diagnostics.front().to_string();
    rules_ = loaded.rules;
  }
  void TearDown() override { fs::remove_all(dir_); }

  void append(const fs::path& file, const std::string& text) { std::ofstream(file, std::ios::app) << text; }

  // One request, served at once with an `apply` that records what it got.
  ReloadOutcome reload(RuleReloader& reloader) {
    auto future = reloader.request("test");
    EXPECT_TRUE(reloader.serve(false, [&](const std::shared_ptr<const RuleSet>& next, const std::string&) {
      applied_rules.push_back(next);
      return Result<RepairReport>(RepairReport{});
    }).ok());
    return future.get();
  }

  fs::path dir_;
  std::shared_ptr<const RuleSet> rules_;
  prometheus::Registry registry_;
  RulesProbe probe_{registry_};
  spdlog::logger log_{"test", std::make_shared<spdlog::sinks::null_sink_mt>()};
  std::vector<std::shared_ptr<const RuleSet>> applied_rules;
};

TEST_F(RuleReloaderTest, SameFilesAreUnchangedAndAChangedTargetIsAccepted) {
  RuleReloader reloader((dir_ / "rules").string(), {}, rules_, probe_, log_);
  EXPECT_EQ(reload(reloader).kind, ReloadOutcome::Kind::unchanged);
  EXPECT_TRUE(applied_rules.empty());
  append(dir_ / "rules" / "first-response.yaml", "# a comment changes the content hash\n");
  const auto outcome = reload(reloader);
  EXPECT_EQ(outcome.kind, ReloadOutcome::Kind::accepted);
  ASSERT_EQ(applied_rules.size(), 1u);
  EXPECT_NE(outcome.version, rules_->version);
  EXPECT_EQ(reloader.in_force()->version, outcome.version);
}

TEST_F(RuleReloaderTest, InvalidRulesAreRejectedWithFileLineColumnAndTheOldSetStays) {
  RuleReloader reloader((dir_ / "rules").string(), {}, rules_, probe_, log_);
  append(dir_ / "rules" / "first-response.yaml", "stages: [oops\n");
  const auto outcome = reload(reloader);
  EXPECT_EQ(outcome.kind, ReloadOutcome::Kind::rejected);
  ASSERT_FALSE(outcome.diagnostics.empty());
  EXPECT_NE(outcome.diagnostics.front().find("first-response.yaml:"), std::string::npos) << outcome.diagnostics.front();
  EXPECT_TRUE(applied_rules.empty());
  EXPECT_EQ(reloader.in_force(), rules_);
}

TEST_F(RuleReloaderTest, AChangedRosterIsPutInForceAndABrokenOneRejected) {
  RuleReloader reloader((dir_ / "rules").string(), {}, rules_, probe_, log_);
  std::vector<std::shared_ptr<const Roster>> rosters;
  reloader.watch_roster((dir_ / "roster.yaml").string(),
                        [&](const std::shared_ptr<const Roster>& next) { rosters.push_back(next); });
  EXPECT_EQ(reload(reloader).kind, ReloadOutcome::Kind::unchanged);
  EXPECT_TRUE(rosters.empty());
  append(dir_ / "roster.yaml", "# handover notes changed\n");
  auto outcome = reload(reloader);
  EXPECT_EQ(outcome.kind, ReloadOutcome::Kind::accepted);
  EXPECT_TRUE(outcome.roster_reloaded);
  EXPECT_EQ(rosters.size(), 1u);
  EXPECT_TRUE(applied_rules.empty()) << "the rules did not change: no repair";
  append(dir_ / "roster.yaml", "city: [not, a, map\n");
  outcome = reload(reloader);
  EXPECT_EQ(outcome.kind, ReloadOutcome::Kind::rejected);
  EXPECT_NE(outcome.diagnostics.front().find("roster.yaml:"), std::string::npos) << outcome.diagnostics.front();
  EXPECT_EQ(rosters.size(), 1u);
}

TEST_F(RuleReloaderTest, TheFileWatchNoticesAnEditedRosterFile) {
  RuleReloader reloader((dir_ / "rules").string(), {}, rules_, probe_, log_);
  std::vector<std::shared_ptr<const Roster>> rosters;
  ManualClock clock(Instant{} + std::chrono::hours(1));
  reloader.watch_files(std::chrono::minutes(1), clock);
  reloader.watch_roster((dir_ / "roster.yaml").string(),
                        [&](const std::shared_ptr<const Roster>& next) { rosters.push_back(next); });
  append(dir_ / "roster.yaml", "# edited\n");
  const auto later = fs::last_write_time(dir_ / "roster.yaml") + std::chrono::seconds(5);
  fs::last_write_time(dir_ / "roster.yaml", later);
  auto apply = [&](const std::shared_ptr<const RuleSet>&, const std::string&) { return Result<RepairReport>(RepairReport{}); };
  // Not yet 1 ms before the watch is due; exactly at it, the edit is seen.
  clock.advance(std::chrono::minutes(1) - std::chrono::milliseconds(1));
  ASSERT_TRUE(reloader.serve(false, apply).ok());
  EXPECT_TRUE(rosters.empty());
  clock.advance(std::chrono::milliseconds(1));
  ASSERT_TRUE(reloader.serve(false, apply).ok());
  EXPECT_EQ(rosters.size(), 1u);
}

}  // namespace
}  // namespace slawatch
