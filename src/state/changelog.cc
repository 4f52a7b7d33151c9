#include "state/changelog.h"

#include <algorithm>
#include <set>

#include "state/case_record.h"

namespace slawatch {
namespace {
constexpr uint8_t kMarkerFormat = 1;
}  // namespace

std::string ChangelogRecord::topic_key() const {
  std::string out;
  out.reserve(key.size() + 1);
  out.push_back(static_cast<char>(family));
  out.append(key);
  return out;
}

std::optional<ChangelogRecord> ChangelogRecord::from_topic(std::string_view topic_key,
                                                           std::optional<std::string> value) {
  if (topic_key.empty()) return std::nullopt;
  const auto family = static_cast<uint8_t>(topic_key[0]);
  if (family < static_cast<uint8_t>(StoreFamily::cases) || family > static_cast<uint8_t>(StoreFamily::alerts)) {
    return std::nullopt;
  }
  return ChangelogRecord{static_cast<StoreFamily>(family), std::string(topic_key.substr(1)), std::move(value)};
}

std::string ChangelogMarker::encode() const {
  std::string out;
  out.push_back(static_cast<char>(kMarkerFormat));
  codec::put_string(out, lineage);
  codec::put_varint(out, commit);
  codec::put_string(out, writer);
  return out;
}

std::optional<ChangelogMarker> ChangelogMarker::decode(std::string_view bytes) {
  codec::Reader in(bytes);
  uint8_t format = 0;
  ChangelogMarker marker;
  if (!in.byte(format) || format != kMarkerFormat || !in.string(marker.lineage) || !in.varint(marker.commit) ||
      !in.string(marker.writer) || !in.done() || marker.lineage.empty()) {
    return std::nullopt;
  }
  return marker;
}

std::optional<ChangelogMarker> ChangelogMarker::of(const ChangelogRecord& record) {
  if (record.family != StoreFamily::meta || record.key != kKey || !record.value) return std::nullopt;
  return decode(*record.value);
}

ChangelogRecord ChangelogMarker::record() const {
  return ChangelogRecord{StoreFamily::meta, std::string(kKey), encode()};
}

Status MemoryChangelog::append(uint16_t partition, const std::vector<ChangelogRecord>& records) {
  auto& flight = in_flight_[partition];
  flight.insert(flight.end(), records.begin(), records.end());
  return ok_status();
}

Status MemoryChangelog::wait_acknowledged(uint16_t partition) {
  auto& flight = in_flight_[partition];
  if (flight.empty()) return ok_status();
  if (!broker_up_) {
    const size_t lost = flight.size();
    flight.clear();
    return make_error("changelog partition " + std::to_string(partition) + ": " + std::to_string(lost) +
                      " record(s) refused (broker down)");
  }
  auto& log = log_[partition];
  log.insert(log.end(), std::make_move_iterator(flight.begin()), std::make_move_iterator(flight.end()));
  flight.clear();
  return ok_status();
}

Result<bool> MemoryChangelog::poll_acknowledged(uint16_t partition) {
  if (in_flight_[partition].empty()) return true;
  if (holding_ && broker_up_) return false;
  if (auto s = wait_acknowledged(partition); !s.ok()) return s.error();
  return true;
}

Result<std::optional<ChangelogRecord>> MemoryChangelog::last_record(uint16_t partition) {
  const auto& log = log_[partition];
  if (log.empty()) return std::optional<ChangelogRecord>{};
  return std::optional<ChangelogRecord>{log.back()};
}

Status MemoryChangelog::read(uint16_t partition, const std::function<Status(ChangelogRecord&&)>& fn) {
  for (ChangelogRecord record : log_[partition]) {
    if (auto s = fn(std::move(record)); !s.ok()) return s;
  }
  return ok_status();
}

void MemoryChangelog::compact(uint16_t partition) {
  auto& log = log_[partition];
  std::set<std::pair<StoreFamily, std::string>> seen;
  std::vector<ChangelogRecord> kept;
  for (auto it = log.rbegin(); it != log.rend(); ++it) {
    if (seen.emplace(it->family, it->key).second) kept.push_back(std::move(*it));
  }
  std::reverse(kept.begin(), kept.end());
  log = std::move(kept);
}

void MemoryChangelog::truncate_tail(uint16_t partition, size_t count) {
  auto& log = log_[partition];
  log.resize(log.size() - std::min(count, log.size()));
}

}  // namespace slawatch
