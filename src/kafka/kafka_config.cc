#include "kafka/kafka_config.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace slawatch {
namespace {

bool instance_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == '-';
}

std::string sanitized(std::string_view text) {
  std::string out(text);
  std::replace_if(out.begin(), out.end(), [](char c) { return !instance_id_char(c); }, '_');
  return out;
}

// FNV-1a: stable across builds and platforms, unlike std::hash.
uint32_t fnv1a(std::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) hash = (hash ^ c) * 16777619u;
  return hash;
}

}  // namespace

Duration heartbeat_interval(Duration session_timeout) {
  return std::min<Duration>(session_timeout / 3, std::chrono::seconds{3});
}

Status check_instance_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxInstanceIdLength) {
    return make_error("'kafka.instance_id' must be 1 to " + std::to_string(kMaxInstanceIdLength) +
                      " characters, not " + std::to_string(id.size()));
  }
  if (auto bad = std::find_if_not(id.begin(), id.end(), instance_id_char); bad != id.end()) {
    return make_error("'kafka.instance_id' '" + std::string(id) + "': character '" + std::string(1, *bad) +
                      "' is not one of A-Z a-z 0-9 . _ - (the broker refuses it)");
  }
  return ok_status();
}

std::string default_instance_id(std::string_view host_name, std::string_view absolute_state_dir) {
  // "/srv/a/" and "/srv/a" name one directory: one id.
  std::filesystem::path dir = std::filesystem::path(absolute_state_dir).lexically_normal();
  if (!dir.has_filename() && dir.has_parent_path() && dir != dir.root_path()) dir = dir.parent_path();
  char hash[9];
  std::snprintf(hash, sizeof hash, "%08x", fnv1a(dir.string()));
  std::string host = sanitized(host_name.empty() ? std::string_view("host") : host_name);
  std::string dir_name = sanitized(dir.filename().string());
  // Room for "-<dir>-<hash>" under the broker's limit, host and directory name cut to fit.
  const size_t room = kMaxInstanceIdLength - 2 - 8;
  if (host.size() > room / 2) host.resize(room / 2);
  if (dir_name.size() > room - host.size()) dir_name.resize(room - host.size());
  return host + "-" + dir_name + "-" + hash;
}

}  // namespace slawatch
