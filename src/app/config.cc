#include "app/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace slawatch {
namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
}

Duration duration_value(const YAML::Node& value) {
  auto d = parse_duration(value.as<std::string>());
  if (!d.ok()) throw ConfigError(d.error().message);
  return *d;
}

KafkaConfig load_kafka(const std::string& path, const YAML::Node& section) {
  KafkaConfig kafka;
  if (section.IsNull()) return kafka;
  if (!section.IsMap()) throw ConfigError("'kafka' must be a map");
  static const std::set<std::string> kKnown = {"brokers", "topics", "group_id", "alerts_mode",
                                               "delivery_wait", "properties"};
  for (const auto& kv : section) {
    const auto key = kv.first.as<std::string>();
    const auto& value = kv.second;
    try {
      if (!kKnown.contains(key)) throw ConfigError("unknown key 'kafka." + key + "'");
      if (key == "brokers") kafka.brokers = value.as<std::string>();
      else if (key == "group_id") kafka.group_id = value.as<std::string>();
      else if (key == "delivery_wait") kafka.delivery_wait = duration_value(value);
      else if (key == "alerts_mode") {
        const auto mode = value.as<std::string>();
        if (mode != "structured" && mode != "binary") {
          throw ConfigError("'kafka.alerts_mode' must be structured or binary, not '" + mode + "'");
        }
        kafka.alerts_binary_mode = mode == "binary";
      } else if (key == "topics") {
        for (const auto& topic : value) {
          const auto name = topic.first.as<std::string>();
          const auto topic_value = topic.second.as<std::string>();
          if (topic_value.empty()) throw ConfigError("'kafka.topics." + name + "' is empty");
          if (name == "events") kafka.events_topic = topic_value;
          else if (name == "alerts") kafka.alerts_topic = topic_value;
          else if (name == "dead_letter") kafka.dead_letter_topic = topic_value;
          else throw ConfigError("unknown key 'kafka.topics." + name + "' (events, alerts, dead_letter)");
        }
      } else if (key == "properties") {
        for (const auto& property : value) {
          kafka.properties[property.first.as<std::string>()] = property.second.as<std::string>();
        }
      }
    } catch (const YAML::Exception& e) {
      throw ConfigError(where(path, value) + ": 'kafka." + key + "': wrong type (" + e.msg + ")");
    } catch (const ConfigError& e) {
      if (std::string(e.what()).starts_with(path)) throw;
      throw ConfigError(where(path, kv.first) + ": " + e.what());
    }
  }
  if (kafka.brokers.empty()) throw ConfigError(path + ": 'kafka.brokers' is empty");
  if (kafka.group_id.empty()) throw ConfigError(path + ": 'kafka.group_id' is empty");
  return kafka;
}

// "127.0.0.1:9464", "[::1]:9464", "0.0.0.0:0": an IP literal (civetweb does
// not resolve names) and a port.
void check_listen_address(const std::string& listen) {
  const auto colon = listen.rfind(':');
  const auto bad = [&](const std::string& why) {
    return ConfigError("'http.listen' must be IP:port, e.g. 127.0.0.1:9464 (" + why + "): '" + listen + "'");
  };
  if (colon == std::string::npos || colon == 0) throw bad("no host");
  const std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    throw bad("port must be 0-65535");
  }
  const bool ipv6 = host.front() == '[' && host.back() == ']' && host.size() > 2 &&
                    host.find_first_not_of("0123456789abcdefABCDEF:.", 1) == host.size() - 1;
  const bool ipv4 = host.find_first_not_of("0123456789.") == std::string::npos &&
                    std::count(host.begin(), host.end(), '.') == 3;
  if (!ipv4 && !ipv6) throw bad("host must be an IPv4 address or [IPv6]");
}

HttpConfig load_http(const std::string& path, const YAML::Node& section) {
  HttpConfig http;
  if (section.IsNull()) return http;
  if (!section.IsMap()) throw ConfigError("'http' must be a map");
  for (const auto& kv : section) {
    const auto key = kv.first.as<std::string>();
    try {
      if (key != "listen") throw ConfigError("unknown key 'http." + key + "' (listen)");
      http.listen = kv.second.as<std::string>();
      check_listen_address(http.listen);
    } catch (const YAML::Exception& e) {
      throw ConfigError(where(path, kv.second) + ": 'http." + key + "': wrong type (" + e.msg + ")");
    } catch (const ConfigError& e) {
      throw ConfigError(where(path, kv.first) + ": " + e.what());
    }
  }
  return http;
}

}  // namespace

Config load_config(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    throw ConfigError(path + ": " + e.what());
  }
  Config config;
  if (!root || root.IsNull()) return config;
  if (!root.IsMap()) throw ConfigError(where(path, root) + ": the config must be a map");
  const auto base = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    if (p == "-" || p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (base / p).lexically_normal().string();
  };
  static const std::set<std::string> kKnown = {
      "rules", "calendars", "state_dir", "sync_writes", "grace", "batch_records",
      "max_timers_per_tick", "max_timers_per_second", "input", "alerts_output", "dead_letter_output", "alert_source",
      "kafka", "http", "roster"};
  for (const auto& kv : root) {
    const auto key = kv.first.as<std::string>();
    const auto& value = kv.second;
    try {
      if (!kKnown.contains(key)) throw ConfigError("unknown key '" + key + "'");
      if (key == "rules") config.rules_path = resolve(value.as<std::string>());
      else if (key == "calendars") {
        for (const auto& c : value) config.calendar_paths.push_back(resolve(c.as<std::string>()));
      } else if (key == "state_dir") config.state_dir = resolve(value.as<std::string>());
      else if (key == "sync_writes") config.sync_writes = value.as<bool>();
      else if (key == "grace") config.grace = duration_value(value);
      else if (key == "max_timers_per_second") config.max_timers_per_second = value.as<size_t>();
      else if (key == "kafka") config.kafka = load_kafka(path, value);
      else if (key == "http") config.http = load_http(path, value);
      else if (key == "batch_records") config.batch_records = value.as<size_t>();
      else if (key == "max_timers_per_tick") config.max_timers_per_tick = value.as<size_t>();
      else if (key == "input") config.input = resolve(value.as<std::string>());
      else if (key == "alerts_output") config.alerts_output = resolve(value.as<std::string>());
      else if (key == "dead_letter_output") config.dead_letter_output = resolve(value.as<std::string>());
      else if (key == "alert_source") config.alert_source = value.as<std::string>();
      else if (key == "roster") config.roster_path = resolve(value.as<std::string>());
    } catch (const YAML::Exception& e) {
      throw ConfigError(where(path, value) + ": '" + key + "': wrong type (" + e.msg + ")");
    } catch (const ConfigError& e) {
      if (std::string(e.what()).starts_with(path)) throw;
      throw ConfigError(where(path, kv.first) + ": " + e.what());
    }
  }
  if (config.max_timers_per_second == 0) throw ConfigError(path + ": max_timers_per_second must be at least 1");
  if (config.batch_records == 0) throw ConfigError(path + ": batch_records must be at least 1");
  if (config.max_timers_per_tick == 0) throw ConfigError(path + ": max_timers_per_tick must be at least 1");
  return config;
}

}  // namespace slawatch
