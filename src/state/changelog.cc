#include "state/changelog.h"

#include <algorithm>
#include <set>

#include "state/case_record.h"

namespace slawatch {
namespace {
// Format 1 had no instance; it is still read (markers written by older versions).
constexpr uint8_t kMarkerFormatWithoutInstance = 1;
constexpr uint8_t kMarkerFormat = 2;
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
  codec::put_string(out, instance);
  return out;
}

std::optional<ChangelogMarker> ChangelogMarker::decode(std::string_view bytes) {
  codec::Reader in(bytes);
  uint8_t format = 0;
  ChangelogMarker marker;
  if (!in.byte(format) || (format != kMarkerFormat && format != kMarkerFormatWithoutInstance) ||
      !in.string(marker.lineage) || !in.varint(marker.commit) || !in.string(marker.writer) ||
      (format == kMarkerFormat && !in.string(marker.instance)) || !in.done() || marker.lineage.empty()) {
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

std::string ChangelogPosition::encode() const {
  std::string out;
  codec::put_string(out, marker.encode());
  codec::put_signed(out, offset.next);
  codec::put_signed(out, to_millis(offset.written_at));
  return out;
}

std::optional<ChangelogPosition> ChangelogPosition::decode(std::string_view bytes) {
  codec::Reader in(bytes);
  std::string marker_bytes;
  int64_t next = 0;
  int64_t written_ms = 0;
  if (!in.string(marker_bytes) || !in.signed_varint(next) || !in.signed_varint(written_ms) || !in.done()) {
    return std::nullopt;
  }
  auto marker = ChangelogMarker::decode(marker_bytes);
  if (!marker) return std::nullopt;
  return ChangelogPosition{std::move(*marker), ChangelogOffset{next, from_millis(written_ms)}};
}

Status StateChangelog::read(uint16_t partition, const std::function<Status(ChangelogRecord&&)>& fn) {
  auto range = bounds(partition);
  if (!range.ok()) return range.error();
  return read_from(partition, range->start,
                   [&fn](ChangelogRecord&& record, const ChangelogOffset&) { return fn(std::move(record)); });
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
  auto& stamps = stamps_[partition];
  auto& next = next_offset_[partition];
  for (auto& record : flight) {
    log.push_back(std::move(record));
    stamps.push_back(Stamp{next++, now_});
  }
  flight.clear();
  return ok_status();
}

Result<bool> MemoryChangelog::poll_acknowledged(uint16_t partition) {
  if (in_flight_[partition].empty()) return true;
  if (holding_ && broker_up_) return false;
  if (auto s = wait_acknowledged(partition); !s.ok()) return s.error();
  return true;
}

std::optional<ChangelogOffset> MemoryChangelog::last_acknowledged(uint16_t partition) {
  const auto& stamps = stamps_[partition];
  if (stamps.empty()) return std::nullopt;
  return ChangelogOffset{stamps.back().offset + 1, stamps.back().written_at};
}

Result<ChangelogBounds> MemoryChangelog::bounds(uint16_t partition) {
  return ChangelogBounds{log_start_[partition], next_offset_[partition]};
}

Status MemoryChangelog::read_from(uint16_t partition, int64_t from,
                                  const std::function<Status(ChangelogRecord&&, const ChangelogOffset&)>& fn) {
  const auto& log = log_[partition];
  const auto& stamps = stamps_[partition];
  for (size_t i = 0; i < log.size(); ++i) {
    if (stamps[i].offset < from) continue;
    ChangelogRecord record = log[i];
    if (auto s = fn(std::move(record), ChangelogOffset{stamps[i].offset + 1, stamps[i].written_at}); !s.ok()) return s;
  }
  return ok_status();
}

void MemoryChangelog::delete_before(uint16_t partition, int64_t offset) {
  auto& log = log_[partition];
  auto& stamps = stamps_[partition];
  size_t keep = 0;
  while (keep < stamps.size() && stamps[keep].offset < offset) ++keep;
  log.erase(log.begin(), log.begin() + static_cast<std::ptrdiff_t>(keep));
  stamps.erase(stamps.begin(), stamps.begin() + static_cast<std::ptrdiff_t>(keep));
  log_start_[partition] = std::max(log_start_[partition], offset);
}

Result<std::optional<ChangelogRecord>> MemoryChangelog::last_record(uint16_t partition) {
  const auto& log = log_[partition];
  if (log.empty()) return std::optional<ChangelogRecord>{};
  return std::optional<ChangelogRecord>{log.back()};
}

void MemoryChangelog::compact(uint16_t partition) {
  auto& log = log_[partition];
  auto& stamps = stamps_[partition];
  std::set<std::pair<StoreFamily, std::string>> seen;
  std::vector<ChangelogRecord> kept;
  std::vector<Stamp> kept_stamps;
  for (size_t i = log.size(); i-- > 0;) {
    if (!seen.emplace(log[i].family, log[i].key).second) continue;
    kept.push_back(std::move(log[i]));
    kept_stamps.push_back(stamps[i]);
  }
  std::reverse(kept.begin(), kept.end());
  std::reverse(kept_stamps.begin(), kept_stamps.end());
  log = std::move(kept);
  stamps = std::move(kept_stamps);
}

void MemoryChangelog::truncate_tail(uint16_t partition, size_t count) {
  auto& log = log_[partition];
  auto& stamps = stamps_[partition];
  const size_t dropped = std::min(count, log.size());
  log.resize(log.size() - dropped);
  stamps.resize(stamps.size() - dropped);
  // The offsets of records that never arrived are given to the next ones, as Kafka would.
  next_offset_[partition] = stamps.empty() ? log_start_[partition] : stamps.back().offset + 1;
}

}  // namespace slawatch
