// The config file: parsed once into typed values; every mistake names the
// file, line and column and the key; the `kafka:` section switches `run` to Kafka.
#include "app/config.h"
#include "roster/roster.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace slawatch {
namespace {

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("slawatch-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& text) {
    const auto path = (dir_ / "slawatch.yaml").string();
    std::ofstream(path) << text;
    return path;
  }

  std::string error_of(const std::string& text) {
    try {
      load_config(write(text));
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigTest, NoKafkaSectionMeansFileInput) {
  const Config config = load_config(write("grace: 5s\n"));
  EXPECT_FALSE(config.kafka.has_value());
  EXPECT_EQ(config.grace, std::chrono::seconds(5));
}

TEST_F(ConfigTest, KafkaSectionWithDefaultsAndPassThroughProperties) {
  const Config config = load_config(write(
      "kafka:\n"
      "  brokers: 10.0.0.1:9092,10.0.0.2:9092\n"
      "  group_id: city\n"
      "  alerts_mode: binary\n"
      "  topics: {alerts: sla.alerts}\n"
      "  properties:\n"
      "    security.protocol: SASL_SSL\n"
      "    consumer.fetch.max.bytes: 1048576\n"));
  ASSERT_TRUE(config.kafka.has_value());
  const KafkaConfig& kafka = *config.kafka;
  EXPECT_EQ(kafka.brokers, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(kafka.group_id, "city");
  EXPECT_TRUE(kafka.alerts_binary_mode);
  EXPECT_EQ(kafka.events_topic, "hotline.case-events");
  EXPECT_EQ(kafka.alerts_topic, "sla.alerts");
  EXPECT_EQ(kafka.dead_letter_topic, "hotline.case-events.dlq");
  EXPECT_EQ(kafka.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(kafka.properties.at("consumer.fetch.max.bytes"), "1048576");
}

TEST_F(ConfigTest, EmptyKafkaSectionTakesAllDefaults) {
  const Config config = load_config(write("kafka:\n"));
  ASSERT_TRUE(config.kafka.has_value());
  EXPECT_EQ(config.kafka->brokers, "127.0.0.1:9092");
  EXPECT_EQ(config.kafka->group_id, "slawatch");
}

TEST_F(ConfigTest, MistakesNameFileLineColumnAndKey) {
  EXPECT_NE(error_of("kafka:\n  brokerz: x\n").find("slawatch.yaml:2:3: unknown key 'kafka.brokerz'"),
            std::string::npos)
      << error_of("kafka:\n  brokerz: x\n");
  EXPECT_NE(error_of("kafka:\n  alerts_mode: xml\n").find("must be structured or binary"), std::string::npos);
  EXPECT_NE(error_of("kafka:\n  topics: {inbox: x}\n").find("unknown key 'kafka.topics.inbox'"),
            std::string::npos);
  EXPECT_NE(error_of("kafka:\n  brokers: ''\n").find("'kafka.brokers' is empty"), std::string::npos);
  EXPECT_NE(error_of("max_timers_per_second: 0\n").find("max_timers_per_second must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of("grace: soon\n").find("slawatch.yaml:1:1"), std::string::npos) << error_of("grace: soon\n");
}

// The shipped config files are what a new operator starts from: they must load.
TEST(ShippedConfig, FileAndKafkaConfigsLoad) {
  const std::string config_dir = std::string(SLAWATCH_SOURCE_DIR) + "/config/";
  const Config file_config = load_config(config_dir + "slawatch.yaml");
  EXPECT_FALSE(file_config.kafka.has_value());
  const Config kafka_config = load_config(config_dir + "kafka.yaml");
  ASSERT_TRUE(kafka_config.kafka.has_value());
  EXPECT_EQ(kafka_config.kafka->events_topic, "hotline.case-events");
  EXPECT_EQ(kafka_config.max_timers_per_second, 20000u);
  EXPECT_TRUE(kafka_config.http.has_value());
  // Both name the shipped duty roster (relative to the config folder), and it loads.
  EXPECT_EQ(file_config.roster_path, config_dir + "roster.yaml");
  EXPECT_EQ(kafka_config.roster_path, config_dir + "roster.yaml");
  EXPECT_EQ(load_roster_or_throw(file_config.roster_path)->departments().size(), 91u);
}

}  // namespace
}  // namespace slawatch
