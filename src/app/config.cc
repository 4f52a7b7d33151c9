#include "app/config.h"
#include "rules/yaml_text.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>

#include <date/tz.h>
#include <unistd.h>

namespace slawatch {
namespace {

std::string where(const std::string& file, const YAML::Node& node) {
  return file + ":" + std::to_string(node.Mark().line + 1) + ":" + std::to_string(node.Mark().column + 1);
}

// A mapping key as a name; a list or map used as a key is a mistake (yaml-cpp
// would throw its own exception, which nothing above expects).
std::string key_name(const YAML::Node& key) {
  if (!key.IsScalar()) throw ConfigError("a key must be a name, not a list or map");
  return key.as<std::string>();
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) return {};
  return name;
}

Duration duration_value(const YAML::Node& value) {
  auto d = parse_duration(value.as<std::string>());
  if (!d.ok()) throw ConfigError(d.error().message);
  return *d;
}

}  // namespace

std::optional<Duration> parse_retain_closed(const std::string& text) {
  if (text == "never") return std::nullopt;
  auto d = parse_duration(text);
  if (!d.ok()) throw ConfigError(d.error().message + " (or write 'never' to keep closed cases)");
  return *d;
}

namespace {

KafkaConfig load_kafka(const std::string& path, const YAML::Node& section) {
  KafkaConfig kafka;
  if (section.IsNull()) return kafka;
  if (!section.IsMap()) throw ConfigError("'kafka' must be a map");
  static const std::set<std::string> kKnown = {"brokers",     "topics",          "group_id",  "alerts_mode",
                                               "delivery_wait", "properties",    "changelog", "instance_id",
                                               "session_timeout", "standby_replicas"};
  for (const auto& kv : section) {
    const auto key = key_name(kv.first);
    const auto& value = kv.second;
    try {
      if (!kKnown.contains(key)) throw ConfigError("unknown key 'kafka." + key + "'");
      if (key == "brokers") kafka.brokers = value.as<std::string>();
      else if (key == "group_id") kafka.group_id = value.as<std::string>();
      else if (key == "delivery_wait") kafka.delivery_wait = duration_value(value);
      else if (key == "changelog") kafka.changelog = value.as<bool>();
      else if (key == "standby_replicas") {
        const auto replicas = value.as<int64_t>();
        if (replicas < 0 || replicas > static_cast<int64_t>(kMaxStandbyReplicas)) {
          throw ConfigError("'kafka.standby_replicas' must be from 0 to " + std::to_string(kMaxStandbyReplicas) +
                            ", not " + std::to_string(replicas));
        }
        kafka.standby_replicas = static_cast<size_t>(replicas);
      }
      else if (key == "instance_id") {
        kafka.instance_id = value.as<std::string>();
        if (auto s = check_instance_id(kafka.instance_id); !s.ok()) throw ConfigError(s.error().message);
      } else if (key == "session_timeout") {
        kafka.session_timeout = duration_value(value);
        if (kafka.session_timeout < kMinSessionTimeout || kafka.session_timeout > kMaxSessionTimeout) {
          throw ConfigError("'kafka.session_timeout' must be from 6s to 30m (what brokers accept by default), not " +
                            value.as<std::string>());
        }
      } else if (key == "alerts_mode") {
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
  if (kafka.standby_replicas > 0 && !kafka.changelog) {
    throw ConfigError(path + ": 'kafka.standby_replicas' needs the changelog ('kafka.changelog: true'): standby "
                             "copies tail it");
  }
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

// Visits each key of a small section (`name:`, a map or empty), naming the
// file, line and key in every error; `known` lists the keys for the message.
void for_each_key(const std::string& path, const YAML::Node& section, const std::string& name,
                  const std::set<std::string>& known,
                  const std::function<void(const std::string&, const YAML::Node&)>& take) {
  if (section.IsNull()) return;
  if (!section.IsMap()) throw ConfigError("'" + name + "' must be a map");
  for (const auto& kv : section) {
    const auto key = key_name(kv.first);
    try {
      if (!known.contains(key)) {
        std::string list;
        for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
        throw ConfigError("unknown key '" + name + "." + key + "' (" + list + ")");
      }
      take(key, kv.second);
    } catch (const YAML::Exception& e) {
      throw ConfigError(where(path, kv.second) + ": '" + name + "." + key + "': wrong type (" + e.msg + ")");
    } catch (const ConfigError& e) {
      throw ConfigError(where(path, kv.first) + ": " + e.what());
    }
  }
}

HttpConfig load_http(const std::string& path, const YAML::Node& section) {
  HttpConfig http;
  for_each_key(path, section, "http", {"listen", "read_token", "time_zone"},
               [&](const std::string& key, const YAML::Node& value) {
    if (key == "listen") {
      http.listen = value.as<std::string>();
      check_listen_address(http.listen);
    } else if (key == "read_token") {
      http.read_token = value.as<std::string>();
      if (http.read_token.size() < 16) throw ConfigError("'http.read_token' must be at least 16 characters");
    } else {
      http.time_zone = value.as<std::string>();
      try {
        date::locate_zone(http.time_zone);
      } catch (const std::runtime_error&) {
        throw ConfigError("'http.time_zone': unknown IANA time zone '" + http.time_zone + "'");
      }
    }
  });
  return http;
}

ReloadConfig load_reload(const std::string& path, const YAML::Node& section) {
  ReloadConfig reload;
  for_each_key(path, section, "reload", {"watch", "token"}, [&](const std::string& key, const YAML::Node& value) {
    if (key == "watch") {
      reload.watch_interval = duration_value(value);
      if (reload.watch_interval.count() < 0) throw ConfigError("'reload.watch' must not be negative");
    } else {
      reload.token = value.as<std::string>();
      if (reload.token.size() < 16) throw ConfigError("'reload.token' must be at least 16 characters");
    }
  });
  return reload;
}

AuditConfig load_audit(const YAML::Node& section, const std::function<std::string(const std::string&)>& resolve) {
  if (!section.IsMap()) throw ConfigError("'audit' must be a map with a 'path'");
  AuditConfig audit;
  for (const auto& kv : section) {
    const auto key = key_name(kv.first);
    if (key == "accept_missing_head") {
      audit.accept_missing_head = kv.second.as<bool>();
      continue;
    }
    if (key != "path") throw ConfigError("unknown key 'audit." + key + "' (path, accept_missing_head)");
    audit.path = resolve(kv.second.as<std::string>());
  }
  if (audit.path.empty() || audit.path == "-") throw ConfigError("'audit.path' must name a file");
  return audit;
}

// "http://host:port[/path]", no query: alerts go to url + /api/v2/alerts.
void check_http_url(const std::string& key, const std::string& url, bool allow_empty) {
  if (url.empty() && allow_empty) return;
  const auto scheme_end = url.find("://");
  const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
  if ((scheme != "http" && scheme != "https") || url.size() == scheme_end + 3 ||
      url.find_first_of("?# ") != std::string::npos) {
    throw ConfigError("'" + key + "' must be an http:// or https:// URL without query, e.g. http://127.0.0.1:9093: '" +
                      url + "'");
  }
}

AlertmanagerOptions load_alertmanager(const std::string& path, const YAML::Node& section) {
  AlertmanagerOptions am;
  const std::set<std::string> known = {"url", "resend", "resolved_resend_for", "queue", "max_active", "timeout",
                                       "generator_base_url", "batch", "retry_initial", "retry_max"};
  for_each_key(path, section, "alertmanager", known, [&](const std::string& key, const YAML::Node& value) {
    const std::string full = "alertmanager." + key;
    auto positive = [&](Duration d) {
      if (d <= Duration{0}) throw ConfigError("'" + full + "' must be more than 0");
      return d;
    };
    auto at_least_one = [&](size_t n) {
      if (n == 0) throw ConfigError("'" + full + "' must be at least 1");
      return n;
    };
    if (key == "url") {
      am.url = value.as<std::string>();
      check_http_url(full, am.url, false);
    } else if (key == "generator_base_url") {
      am.generator_base_url = value.as<std::string>();
      check_http_url(full, am.generator_base_url, true);
    } else if (key == "resend") am.resend = positive(duration_value(value));
    else if (key == "resolved_resend_for") am.resolved_resend_for = positive(duration_value(value));
    else if (key == "timeout") am.timeout = positive(duration_value(value));
    else if (key == "retry_initial") am.retry_initial = positive(duration_value(value));
    else if (key == "retry_max") am.retry_max = positive(duration_value(value));
    else if (key == "queue") am.queue = at_least_one(value.as<size_t>());
    else if (key == "max_active") am.max_active = at_least_one(value.as<size_t>());
    else if (key == "batch") am.batch = at_least_one(value.as<size_t>());
  });
  if (am.retry_initial > am.retry_max) {
    throw ConfigError(path + ": 'alertmanager.retry_initial' must not exceed 'alertmanager.retry_max'");
  }
  return am;
}

ShadowConfig load_shadow(const std::string& path, const YAML::Node& section,
                         const std::function<std::string(const std::string&)>& resolve) {
  ShadowConfig shadow;
  if (section.IsNull()) throw ConfigError("'shadow' needs at least 'rules'");
  for_each_key(path, section, "shadow", {"rules", "calendars", "state_dir", "alerts_output", "alerts_topic"},
               [&](const std::string& key, const YAML::Node& value) {
                 if (key == "rules") shadow.rules_path = resolve(value.as<std::string>());
                 else if (key == "calendars") {
                   shadow.own_calendars = true;
                   for (const auto& c : value) shadow.calendar_paths.push_back(resolve(c.as<std::string>()));
                 } else if (key == "state_dir") shadow.state_dir = resolve(value.as<std::string>());
                 else if (key == "alerts_output") {
                   shadow.alerts_output = resolve(value.as<std::string>());
                   if (shadow.alerts_output == "-") {
                     throw ConfigError("'shadow.alerts_output' must name a file (stdout carries the active alerts)");
                   }
                 } else if (key == "alerts_topic") {
                   shadow.alerts_topic = value.as<std::string>();
                   if (shadow.alerts_topic.empty()) throw ConfigError("'shadow.alerts_topic' is empty");
                 }
               });
  if (shadow.rules_path.empty()) throw ConfigError(where(path, section) + ": 'shadow.rules' is required");
  return shadow;
}

// Defaults of the shadow section that depend on the rest of the config, and
// the checks that need both.
void complete_shadow(const std::string& path, Config& config) {
  if (!config.shadow) return;
  ShadowConfig& shadow = *config.shadow;
  if (!shadow.own_calendars) shadow.calendar_paths = config.calendar_paths;
  if (shadow.state_dir.empty() && !config.state_dir.empty()) shadow.state_dir = config.state_dir + "-shadow";
  if (!shadow.state_dir.empty() && shadow.state_dir == config.state_dir) {
    throw ConfigError(path + ": 'shadow.state_dir' must differ from 'state_dir'");
  }
  if (!config.kafka && shadow.alerts_output.empty()) {
    throw ConfigError(path + ": 'shadow.alerts_output' is required for file input (the shadow's alert file)");
  }
  if (config.kafka) {
    if (shadow.alerts_topic.empty()) shadow.alerts_topic = config.kafka->alerts_topic + "-shadow";
    if (shadow.alerts_topic == config.kafka->alerts_topic || shadow.alerts_topic == config.kafka->events_topic ||
        shadow.alerts_topic == config.kafka->dead_letter_topic) {
      throw ConfigError(path + ": 'shadow.alerts_topic' must be a topic of its own, not '" + shadow.alerts_topic + "'");
    }
  }
}

}  // namespace

size_t default_workers() { return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, kMaxWorkers); }

Config load_config(const std::string& path) {
  YAML::Node root;
  std::ifstream in(path);
  if (!in) throw ConfigError(path + ": cannot read the config file");
  std::stringstream text;
  text << in.rdbuf();
  ParsedYaml parsed = parse_single_yaml_document(text.str());
  if (parsed.mistake) {
    const YamlMistake& mistake = *parsed.mistake;
    throw ConfigError(path + (mistake.line > 0 ? ":" + std::to_string(mistake.line) + ":" + std::to_string(mistake.column) : "") +
                      ": " + mistake.what);
  }
  root = parsed.documents.front();
  Config config;
  if (!root || root.IsNull()) return config;
  if (!root.IsMap()) throw ConfigError(where(path, root) + ": the config must be a map");
  const auto base = std::filesystem::path(path).parent_path();
  auto resolve = [&](const std::string& p) {
    if (p == "-" || p.empty() || std::filesystem::path(p).is_absolute()) return p;
    return (base / p).lexically_normal().string();
  };
  static const std::set<std::string> kKnown = {
      "rules", "calendars", "state_dir", "sync_writes", "grace", "allowed_lateness", "retain_closed", "batch_records",
      "max_timers_per_tick", "max_timers_per_second", "workers", "max_record_bytes", "input", "alerts_output", "dead_letter_output", "alert_source",
      "kafka", "http", "roster", "reload", "audit", "alertmanager", "shadow"};
  for (const auto& kv : root) {
    const auto key = kv.first.IsScalar() ? kv.first.as<std::string>() : std::string();
    if (!kv.first.IsScalar()) throw ConfigError(where(path, kv.first) + ": a key must be a name, not a list or map");
    const auto& value = kv.second;
    try {
      if (!kKnown.contains(key)) throw ConfigError("unknown key '" + key + "'");
      if (key == "rules") config.rules_path = resolve(value.as<std::string>());
      else if (key == "calendars") {
        for (const auto& c : value) config.calendar_paths.push_back(resolve(c.as<std::string>()));
      } else if (key == "state_dir") config.state_dir = resolve(value.as<std::string>());
      else if (key == "sync_writes") config.sync_writes = value.as<bool>();
      else if (key == "grace") config.grace = duration_value(value);
      else if (key == "allowed_lateness") config.lane_clock.allowed_lateness = duration_value(value);
      else if (key == "retain_closed") config.retain_closed = parse_retain_closed(value.as<std::string>());
      else if (key == "max_timers_per_second") config.max_timers_per_second = value.as<size_t>();
      else if (key == "workers") config.workers = value.as<size_t>();
      else if (key == "kafka") config.kafka = load_kafka(path, value);
      else if (key == "http") config.http = load_http(path, value);
      else if (key == "reload") config.reload = load_reload(path, value);
      else if (key == "audit") config.audit = load_audit(value, resolve);
      else if (key == "alertmanager") config.alertmanager = load_alertmanager(path, value);
      else if (key == "shadow") config.shadow = load_shadow(path, value, resolve);
      else if (key == "batch_records") config.batch_records = value.as<size_t>();
      else if (key == "max_timers_per_tick") config.max_timers_per_tick = value.as<size_t>();
      else if (key == "max_record_bytes") config.max_record_bytes = value.as<size_t>();
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
  if (config.max_record_bytes < kMinRecordLimitBytes || config.max_record_bytes > kMaxRecordLimitBytes) {
    throw ConfigError(path + ": max_record_bytes must be between " + std::to_string(kMinRecordLimitBytes) + " and " +
                      std::to_string(kMaxRecordLimitBytes));
  }
  if (config.workers == 0 || config.workers > kMaxWorkers) {
    throw ConfigError(path + ": workers must be between 1 and " + std::to_string(kMaxWorkers));
  }
  if (config.batch_records == 0) throw ConfigError(path + ": batch_records must be at least 1");
  if (config.max_timers_per_tick == 0) throw ConfigError(path + ": max_timers_per_tick must be at least 1");
  complete_shadow(path, config);
  if (config.kafka && config.kafka->instance_id.empty()) {
    config.kafka->instance_id = default_instance_id(
        host_name(), std::filesystem::absolute(std::filesystem::path(config.state_dir)).string());
  }
  return config;
}

}  // namespace slawatch
