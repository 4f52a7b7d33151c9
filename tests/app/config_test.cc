// The config file: parsed once into typed values; every mistake names the
// file, line and column and the key; the `kafka:` section switches `run` to Kafka.
#include "app/config.h"
#include "roster/roster.h"

#include <gtest/gtest.h>

#include <thread>

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

TEST_F(ConfigTest, MaxRecordBytesDefaultsToOneMebibyteWithinItsRange) {
  EXPECT_EQ(load_config(write("grace: 5s\n")).max_record_bytes, 1048576u);
  EXPECT_EQ(load_config(write("max_record_bytes: 1024\n")).max_record_bytes, 1024u);
  EXPECT_EQ(load_config(write("max_record_bytes: 67108864\n")).max_record_bytes, 67108864u);
  EXPECT_NE(error_of("max_record_bytes: 1023\n").find("max_record_bytes must be between 1024 and 67108864"),
            std::string::npos);
  EXPECT_NE(error_of("max_record_bytes: 67108865\n").find("max_record_bytes must be between"), std::string::npos);
}

TEST_F(ConfigTest, MalformedYamlIsAMistakeWithItsPlaceNeverAHang) {
  // yaml-cpp 0.7.0 alone would silently drop everything from the ',' on.
  EXPECT_NE(error_of("\"grace\", 5s\n").find("slawatch.yaml:1:8: unexpected ','"), std::string::npos)
      << error_of("\"grace\", 5s\n");
  EXPECT_NE(error_of("grace: 5s\n\"x\", y\n").find("slawatch.yaml:2:4: end of map not found"), std::string::npos);
  EXPECT_NE(error_of("grace: 5s\n---\nworkers: 2\n").find("slawatch.yaml:3:1: a second YAML document"),
            std::string::npos);
}

TEST_F(ConfigTest, AListOrMapAsAKeyIsAMistakeWithItsPlace) {
  EXPECT_NE(error_of("[a, b]: 1\n").find("slawatch.yaml:1:1: a key must be a name"), std::string::npos)
      << error_of("[a, b]: 1\n");
  EXPECT_NE(error_of("kafka:\n  {x: 1}: 2\n").find("a key must be a name"), std::string::npos)
      << error_of("kafka:\n  {x: 1}: 2\n");
}

TEST_F(ConfigTest, WorkersDefaultToTheCoresWithinOneTo256) {
  EXPECT_EQ(load_config(write("grace: 5s\n")).workers,
            std::max<size_t>(1, std::thread::hardware_concurrency()));
  EXPECT_EQ(load_config(write("workers: 1\n")).workers, 1u);
  EXPECT_EQ(load_config(write("workers: 256\n")).workers, 256u);
  EXPECT_NE(error_of("workers: 0\n").find("workers must be between 1 and 256"), std::string::npos);
  EXPECT_NE(error_of("workers: 257\n").find("workers must be between 1 and 256"), std::string::npos);
  EXPECT_NE(error_of("workers: two\n").find("slawatch.yaml:1:10: 'workers': wrong type"), std::string::npos)
      << error_of("workers: two\n");
}

TEST_F(ConfigTest, RetainClosedDefaultsTo400DaysAndNeverKeepsClosedCases) {
  EXPECT_EQ(load_config(write("grace: 5s\n")).retain_closed, std::optional<Duration>(std::chrono::days{400}));
  EXPECT_EQ(load_config(write("retain_closed: 90d\n")).retain_closed, std::optional<Duration>(std::chrono::days{90}));
  EXPECT_EQ(load_config(write("retain_closed: never\n")).retain_closed, std::nullopt);
  EXPECT_NE(error_of("retain_closed: forever\n").find("slawatch.yaml:1:1"), std::string::npos)
      << error_of("retain_closed: forever\n");
  EXPECT_NE(error_of("retain_closed: forever\n").find("'never'"), std::string::npos);
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
  EXPECT_TRUE(config.kafka->changelog);
}

TEST_F(ConfigTest, KafkaChangelogCanBeTurnedOffAndWantsABoolean) {
  EXPECT_FALSE(load_config(write("kafka:\n  changelog: false\n")).kafka->changelog);
  EXPECT_TRUE(load_config(write("kafka:\n  changelog: true\n")).kafka->changelog);
  EXPECT_NE(error_of("kafka:\n  changelog: sometimes\n").find("'kafka.changelog': wrong type"), std::string::npos)
      << error_of("kafka:\n  changelog: sometimes\n");
}

TEST_F(ConfigTest, KafkaStandbyReplicasDefaultToNoneAndAreTakenFromZeroToEight) {
  EXPECT_EQ(load_config(write("kafka:\n")).kafka->standby_replicas, 0u);
  EXPECT_EQ(load_config(write("kafka:\n  standby_replicas: 0\n")).kafka->standby_replicas, 0u);
  EXPECT_EQ(load_config(write("kafka:\n  standby_replicas: 1\n")).kafka->standby_replicas, 1u);
  EXPECT_EQ(load_config(write("kafka:\n  standby_replicas: 8\n")).kafka->standby_replicas, 8u);
  for (const std::string bad : {"9", "-1"}) {
    const auto error = error_of("kafka:\n  standby_replicas: " + bad + "\n");
    EXPECT_NE(error.find("'kafka.standby_replicas' must be from 0 to 8, not " + bad), std::string::npos) << error;
    EXPECT_NE(error.find(":2:"), std::string::npos) << error;
  }
  EXPECT_NE(error_of("kafka:\n  standby_replicas: two\n").find("'kafka.standby_replicas': wrong type"),
            std::string::npos);
  EXPECT_NE(error_of("kafka:\n  changelog: false\n  standby_replicas: 1\n").find("needs the changelog"),
            std::string::npos);
}

TEST_F(ConfigTest, KafkaStaticMembershipDefaultsToTenSecondSessionsAndAnIdFromHostAndStateDir) {
  const Config config = load_config(write("state_dir: st\nkafka:\n"));
  ASSERT_TRUE(config.kafka.has_value());
  EXPECT_EQ(config.kafka->session_timeout, std::chrono::seconds(10));
  EXPECT_EQ(heartbeat_interval(config.kafka->session_timeout), std::chrono::seconds(3));
  // "<host>-st-<hash>": the state directory's name and a hash of its path.
  const std::string& id = config.kafka->instance_id;
  EXPECT_TRUE(check_instance_id(id).ok()) << id;
  EXPECT_NE(id.find("-st-"), std::string::npos) << id;
  // The same file loaded again (a restart) keeps the id.
  EXPECT_EQ(load_config(write("state_dir: st\nkafka:\n")).kafka->instance_id, id);
}

TEST_F(ConfigTest, KafkaInstanceIdAndSessionTimeoutAreTakenWithinTheirLimits) {
  const Config config = load_config(write("kafka:\n  instance_id: node-1.a_b\n  session_timeout: 6s\n"));
  EXPECT_EQ(config.kafka->instance_id, "node-1.a_b");
  EXPECT_EQ(config.kafka->session_timeout, std::chrono::seconds(6));
  EXPECT_EQ(heartbeat_interval(config.kafka->session_timeout), std::chrono::seconds(2));
  EXPECT_EQ(load_config(write("kafka:\n  session_timeout: 30m\n")).kafka->session_timeout, std::chrono::minutes(30));
  EXPECT_EQ(load_config(write("kafka:\n  instance_id: " + std::string(249, 'x') + "\n")).kafka->instance_id.size(),
            249u);
}

TEST_F(ConfigTest, KafkaInstanceIdAndSessionTimeoutOutsideTheirLimitsAreRefused) {
  EXPECT_NE(error_of("kafka:\n  session_timeout: 5999ms\n").find("'kafka.session_timeout' must be from 6s to 30m"),
            std::string::npos)
      << error_of("kafka:\n  session_timeout: 5999ms\n");
  EXPECT_NE(error_of("kafka:\n  session_timeout: 1800001ms\n").find("must be from 6s to 30m"), std::string::npos);
  EXPECT_NE(error_of("kafka:\n  session_timeout: soon\n").find("slawatch.yaml:2:3"), std::string::npos);
  EXPECT_NE(error_of("kafka:\n  instance_id: 'node 1'\n").find("character ' ' is not one of"), std::string::npos)
      << error_of("kafka:\n  instance_id: 'node 1'\n");
  EXPECT_NE(error_of("kafka:\n  instance_id: ''\n").find("must be 1 to 249 characters, not 0"), std::string::npos);
  EXPECT_NE(error_of("kafka:\n  instance_id: " + std::string(250, 'x') + "\n").find("not 250"), std::string::npos);
}

TEST(KafkaInstanceIdTest, DefaultIdIsStablePerStateDirAndDiffersBetweenDirsOnOneHost) {
  const std::string a = default_instance_id("node1", "/srv/a/state");
  EXPECT_EQ(a.rfind("node1-state-", 0), 0u) << a;
  EXPECT_EQ(a.size(), std::string("node1-state-").size() + 8);
  EXPECT_EQ(default_instance_id("node1", "/srv/a/state/"), a);  // one directory, one id
  EXPECT_EQ(default_instance_id("node1", "/srv/a/./state"), a);
  EXPECT_NE(default_instance_id("node1", "/srv/b/state"), a);  // same name, another directory
  EXPECT_NE(default_instance_id("node2", "/srv/a/state"), a);
  // Characters the broker refuses are replaced; a long host name is cut to fit the broker's limit.
  EXPECT_TRUE(check_instance_id(default_instance_id("h\xc3\xa9st:1", "/srv/st@te dir")).ok());
  const std::string longest = default_instance_id(std::string(500, 'h'), "/" + std::string(500, 'd'));
  EXPECT_EQ(longest.size(), kMaxInstanceIdLength);
  EXPECT_TRUE(check_instance_id(longest).ok());
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

TEST_F(ConfigTest, ReloadSectionWatchesByDefaultAndNeedsALongToken) {
  EXPECT_EQ(load_config(write("grace: 5s\n")).reload.watch_interval, std::chrono::seconds{2});
  EXPECT_TRUE(load_config(write("grace: 5s\n")).reload.token.empty());
  const Config config = load_config(write("reload:\n  watch: 0s\n  token: abcdefghijklmnopqrstuvwxyz\n"));
  EXPECT_EQ(config.reload.watch_interval, Duration{0});
  EXPECT_EQ(config.reload.token, "abcdefghijklmnopqrstuvwxyz");
  EXPECT_NE(error_of("reload:\n  token: short\n").find("slawatch.yaml:2:3: 'reload.token' must be at least 16"),
            std::string::npos)
      << error_of("reload:\n  token: short\n");
  EXPECT_NE(error_of("reload:\n  wach: 1s\n").find("unknown key 'reload.wach' (token, watch)"), std::string::npos)
      << error_of("reload:\n  wach: 1s\n");
}

TEST_F(ConfigTest, AlertmanagerSectionWithDefaultsAndValidation) {
  EXPECT_FALSE(load_config(write("grace: 5s\n")).alertmanager.has_value());
  const Config defaults = load_config(write("alertmanager: {}\n"));
  ASSERT_TRUE(defaults.alertmanager.has_value());
  EXPECT_EQ(defaults.alertmanager->url, "http://127.0.0.1:9093");
  EXPECT_EQ(defaults.alertmanager->resend, std::chrono::minutes(1));
  EXPECT_EQ(defaults.alertmanager->resolved_resend_for, std::chrono::minutes(15));
  EXPECT_EQ(defaults.alertmanager->queue, 10000u);
  EXPECT_EQ(defaults.alertmanager->timeout, std::chrono::seconds(5));
  const Config set = load_config(write(
      "alertmanager:\n"
      "  url: https://am.city.example:9093/prefix\n"
      "  resend: 30s\n"
      "  resolved_resend_for: 5m\n"
      "  queue: 50\n"
      "  max_active: 70\n"
      "  timeout: 2s\n"
      "  generator_base_url: ''\n"
      "  batch: 10\n"
      "  retry_initial: 200ms\n"
      "  retry_max: 10s\n"));
  const AlertmanagerOptions& am = *set.alertmanager;
  EXPECT_EQ(am.url, "https://am.city.example:9093/prefix");
  EXPECT_EQ(am.resend, std::chrono::seconds(30));
  EXPECT_EQ(am.resolved_resend_for, std::chrono::minutes(5));
  EXPECT_EQ(am.queue, 50u);
  EXPECT_EQ(am.max_active, 70u);
  EXPECT_EQ(am.timeout, std::chrono::seconds(2));
  EXPECT_EQ(am.generator_base_url, "");
  EXPECT_EQ(am.batch, 10u);
  EXPECT_EQ(am.retry_initial, std::chrono::milliseconds(200));
  EXPECT_EQ(am.retry_max, std::chrono::seconds(10));

  EXPECT_NE(error_of("alertmanager:\n  urll: x\n").find("slawatch.yaml:2:3: unknown key 'alertmanager.urll'"),
            std::string::npos);
  EXPECT_NE(error_of("alertmanager:\n  url: 127.0.0.1:9093\n").find("must be an http:// or https:// URL"),
            std::string::npos);
  EXPECT_NE(error_of("alertmanager:\n  resend: 0s\n").find("'alertmanager.resend' must be more than 0"),
            std::string::npos);
  EXPECT_NE(error_of("alertmanager:\n  queue: 0\n").find("'alertmanager.queue' must be at least 1"),
            std::string::npos);
  EXPECT_NE(error_of("alertmanager:\n  timeout: soon\n").find("slawatch.yaml:2:"), std::string::npos);
  EXPECT_NE(error_of("alertmanager:\n  retry_initial: 2m\n").find("must not exceed"), std::string::npos);
  EXPECT_NE(error_of("alertmanager: [x]\n").find("'alertmanager' must be a map"), std::string::npos);
}

// The shipped config files are what a new operator starts from: they must load.
TEST_F(ConfigTest, AuditSectionNamesTheLogRelativeToTheFile) {
  EXPECT_FALSE(load_config(write("grace: 5s\n")).audit.has_value());
  const Config config = load_config(write("audit: {path: ../var/audit.jsonl}\n"));
  ASSERT_TRUE(config.audit.has_value());
  EXPECT_EQ(config.audit->path, (dir_.parent_path() / "var/audit.jsonl").string());
  EXPECT_FALSE(config.audit->accept_missing_head);
  EXPECT_TRUE(load_config(write("audit: {path: a.jsonl, accept_missing_head: true}\n")).audit->accept_missing_head);
  EXPECT_NE(error_of("audit: {file: x}\n").find("unknown key 'audit.file' (path, accept_missing_head)"),
            std::string::npos);
  EXPECT_NE(error_of("audit: x\n").find("'audit' must be a map"), std::string::npos);
  EXPECT_NE(error_of("audit: {path: \"-\"}\n").find("'audit.path' must name a file"), std::string::npos);
}

TEST_F(ConfigTest, ShadowSectionDefaultsFromTheActiveSetAndValidates) {
  const Config file = load_config(write("state_dir: var/state\ncalendars: [cal]\n"
                                        "shadow: {rules: candidate, alerts_output: shadow.jsonl}\n"));
  ASSERT_TRUE(file.shadow.has_value());
  EXPECT_EQ(file.shadow->rules_path, (dir_ / "candidate").string());
  EXPECT_EQ(file.shadow->calendar_paths, std::vector<std::string>{(dir_ / "cal").string()});
  EXPECT_EQ(file.shadow->state_dir, (dir_ / "var/state").string() + "-shadow");
  EXPECT_EQ(file.shadow->alerts_output, (dir_ / "shadow.jsonl").string());

  const Config kafka = load_config(write("kafka: {brokers: b:9092, group_id: g}\n"
                                         "shadow: {rules: candidate, calendars: [], state_dir: s2}\n"));
  ASSERT_TRUE(kafka.shadow.has_value());
  EXPECT_EQ(kafka.shadow->alerts_topic, kafka.kafka->alerts_topic + "-shadow");
  EXPECT_TRUE(kafka.shadow->calendar_paths.empty());
  EXPECT_EQ(kafka.shadow->state_dir, (dir_ / "s2").string());

  EXPECT_NE(error_of("shadow: {alerts_output: x}\n").find("'shadow.rules' is required"), std::string::npos);
  EXPECT_NE(error_of("shadow: {rules: r}\n").find("'shadow.alerts_output' is required for file input"),
            std::string::npos);
  EXPECT_NE(error_of("shadow: {rules: r, alerts_output: '-'}\n").find("must name a file"), std::string::npos);
  EXPECT_NE(error_of("state_dir: s\nshadow: {rules: r, alerts_output: x, state_dir: s}\n").find("must differ"),
            std::string::npos);
  EXPECT_NE(error_of("kafka: {brokers: b:9092, group_id: g, topics: {alerts: a}}\nshadow: {rules: r, alerts_topic: a}\n")
                .find("a topic of its own"),
            std::string::npos);
  const std::string unknown = error_of("shadow:\n  rules: r\n  alerts_output: x\n  notify: everyone\n");
  EXPECT_NE(unknown.find("slawatch.yaml:4:3: unknown key 'shadow.notify'"), std::string::npos) << unknown;
}

TEST(ShippedConfig, FileAndKafkaConfigsLoad) {
  const std::string config_dir = std::string(SLAWATCH_SOURCE_DIR) + "/config/";
  const Config file_config = load_config(config_dir + "slawatch.yaml");
  EXPECT_FALSE(file_config.kafka.has_value());
  const Config kafka_config = load_config(config_dir + "kafka.yaml");
  ASSERT_TRUE(kafka_config.kafka.has_value());
  EXPECT_EQ(kafka_config.kafka->events_topic, "hotline.case-events");
  EXPECT_EQ(kafka_config.kafka->session_timeout, std::chrono::seconds(10));
  EXPECT_NE(kafka_config.kafka->instance_id.find("-state-kafka-"), std::string::npos) << kafka_config.kafka->instance_id;
  EXPECT_EQ(kafka_config.max_timers_per_second, 20000u);
  EXPECT_EQ(kafka_config.retain_closed, std::optional<Duration>(kDefaultRetainClosed));
  EXPECT_TRUE(kafka_config.http.has_value());
  // Both name the shipped duty roster (relative to the config folder), and it loads.
  EXPECT_EQ(file_config.roster_path, config_dir + "roster.yaml");
  EXPECT_EQ(kafka_config.roster_path, config_dir + "roster.yaml");
  EXPECT_EQ(load_roster_or_throw(file_config.roster_path)->departments().size(), 91u);
}

// config/slawatch.yaml documents the `alertmanager:` section commented out;
// uncommented, it must load as written.
TEST_F(ConfigTest, ShippedAlertmanagerExampleLoadsUncommented) {
  std::ifstream shipped(std::string(SLAWATCH_SOURCE_DIR) + "/config/slawatch.yaml");
  std::string line, section;
  bool inside = false;
  while (std::getline(shipped, line)) {
    if (line.starts_with("# alertmanager:")) inside = true;
    else if (inside && !line.starts_with("#   ")) break;
    if (inside) section += line.substr(2) + "\n";
  }
  ASSERT_FALSE(section.empty()) << "no '# alertmanager:' block in config/slawatch.yaml";
  const Config config = load_config(write(section));
  ASSERT_TRUE(config.alertmanager.has_value()) << section;
  EXPECT_EQ(config.alertmanager->url, "http://127.0.0.1:9093");
  EXPECT_EQ(config.alertmanager->resend, std::chrono::minutes(1));
  EXPECT_EQ(config.alertmanager->resolved_resend_for, std::chrono::minutes(15));
  EXPECT_EQ(config.alertmanager->queue, 10000u);
  EXPECT_EQ(config.alertmanager->timeout, std::chrono::seconds(5));
  EXPECT_EQ(config.alertmanager->generator_base_url, "http://127.0.0.1:9464");
}

}  // namespace
}  // namespace slawatch
