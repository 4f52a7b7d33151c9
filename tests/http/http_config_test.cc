// The `http:` section of the config: absent means no server, empty means the
// defaults, and a listen address must be an IP literal with a port 0-65535;
// the workbench's read token (16 characters at least) and time zone (IANA).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/config.h"

namespace slawatch {
namespace {

class HttpConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("slawatch-http-config-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  Config load(const std::string& text) {
    const auto path = (dir_ / "slawatch.yaml").string();
    std::ofstream(path) << text;
    return load_config(path);
  }
  std::filesystem::path dir_;
};

TEST_F(HttpConfigTest, AbsentSectionMeansNoServer) {
  EXPECT_FALSE(load("grace: 1s\n").http.has_value());
}

TEST_F(HttpConfigTest, EmptySectionTakesTheLoopbackDefault) {
  const auto config = load("http: {}\n");
  ASSERT_TRUE(config.http.has_value());
  EXPECT_EQ(config.http->listen, "127.0.0.1:9464");
  EXPECT_EQ(load("http:\n").http->listen, "127.0.0.1:9464");
}

TEST_F(HttpConfigTest, AcceptsIpv4Ipv6AndTheEdgePorts) {
  EXPECT_EQ(load("http: {listen: \"0.0.0.0:0\"}\n").http->listen, "0.0.0.0:0");
  EXPECT_EQ(load("http: {listen: \"127.0.0.1:65535\"}\n").http->listen, "127.0.0.1:65535");
  EXPECT_EQ(load("http: {listen: \"[::1]:9464\"}\n").http->listen, "[::1]:9464");
}

TEST_F(HttpConfigTest, RejectsBadAddresses) {
  for (const char* bad : {"127.0.0.1:65536", "127.0.0.1", "localhost:9464", "127.0.0.1:", ":9464",
                          "127.0.0.1:-1", "[::1:9464", "127.0.0:9464"}) {
    try {
      load(std::string("http: {listen: \"") + bad + "\"}\n");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("'http.listen' must be IP:port"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("slawatch.yaml:1:"), std::string::npos) << e.what();
    }
  }
}

TEST_F(HttpConfigTest, RejectsUnknownKeysAndWrongShapes) {
  EXPECT_THROW(load("http: {port: 9464}\n"), ConfigError);
  EXPECT_THROW(load("http: [1, 2]\n"), ConfigError);
  EXPECT_THROW(load("http: {listen: [1]}\n"), ConfigError);
}

TEST_F(HttpConfigTest, ReadTokenAndTimeZoneForTheWorkbench) {
  const auto defaults = load("http: {}\n");
  EXPECT_EQ(defaults.http->read_token, "");
  EXPECT_EQ(defaults.http->time_zone, "UTC");
  const auto set = load("http: {read_token: '0123456789abcdef', time_zone: Asia/Shanghai}\n");
  EXPECT_EQ(set.http->read_token, "0123456789abcdef");
  EXPECT_EQ(set.http->time_zone, "Asia/Shanghai");
  try {
    load("http: {read_token: '0123456789abcde'}\n");  // 15 characters
    ADD_FAILURE() << "a short token was taken";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("http.read_token"), std::string::npos) << e.what();
  }
  try {
    load("http: {time_zone: Asia/Haikou}\n");
    ADD_FAILURE() << "an unknown zone was taken";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("Asia/Haikou"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace slawatch
