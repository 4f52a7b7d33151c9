#include "state/state_reader.h"

#include <rocksdb/db.h>

#include "state/alert_index_value.h"

namespace slawatch {
namespace {

std::string partition_prefix(uint16_t partition) {
  return std::string{static_cast<char>(partition >> 8), static_cast<char>(partition & 0xff)};
}

std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// Alert index values (alert_index_value.h) under [partition][alert id].
// Every key starts with its partition, big-endian (rocksdb_store.cc).
uint16_t key_partition(std::string_view key) {
  return static_cast<uint16_t>((static_cast<uint8_t>(key[0]) << 8) | static_cast<uint8_t>(key[1]));
}

Result<AlertIndexEntry> decode_entry(std::string_view key, std::string_view value) {
  if (key.size() < 2) return make_error("corrupt alert index entry");
  return decode_alert_index_entry(key.substr(2), value);
}

}  // namespace

bool StateReader::valid_cursor(std::string_view cursor) { return from_hex(cursor).has_value(); }

Result<Checkpoint> StateReader::checkpoint(uint16_t partition) const {
  // A store instance only for its checkpoint decoding: load_checkpoint is one RocksDB read.
  return RocksDbStateStore(database_, partition).load_checkpoint();
}

Result<std::vector<uint16_t>> StateReader::partitions() const {
  std::vector<uint16_t> out;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(rocksdb::ReadOptions(), database_->meta()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const auto key = it->key();
    if (key.size() == 2 + 10 && key.ToStringView().substr(2) == "checkpoint") {
      out.push_back(key_partition(key.ToStringView()));
    }
  }
  if (!it->status().ok()) return make_error("listing partitions: " + it->status().ToString());
  return out;
}

Result<std::optional<StateReader::StoredCase>> StateReader::find_case(const CaseId& id) const {
  auto parts = partitions();
  if (!parts.ok()) return parts.error();
  for (const uint16_t partition : *parts) {
    std::string value;
    auto s = database_->db()->Get(rocksdb::ReadOptions(), database_->cases(),
                                  partition_prefix(partition) + std::string(id.str()), &value);
    if (s.ok()) return std::optional<StoredCase>{StoredCase{partition, std::move(value)}};
    if (!s.IsNotFound()) return make_error("reading case '" + std::string(id.str()) + "': " + s.ToString());
  }
  return std::optional<StoredCase>{};
}

Result<std::vector<AlertIndexEntry>> StateReader::alerts_of_case(uint16_t partition, const CaseId& id) const {
  const std::string prefix = partition_prefix(partition) + std::string(id.str()) + "/";
  std::vector<AlertIndexEntry> out;
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(rocksdb::ReadOptions(), database_->alerts()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    auto entry = decode_entry(it->key().ToStringView(), it->value().ToStringView());
    if (!entry.ok()) return entry.error();
    out.push_back(std::move(entry).value());
  }
  if (!it->status().ok()) return make_error("reading alerts: " + it->status().ToString());
  return out;
}

Result<StateReader::AlertPage> StateReader::list_alerts(const AlertFilter& filter, std::string_view cursor,
                                                        size_t limit, size_t scan_budget) const {
  AlertPage page;
  std::string after;
  if (!cursor.empty()) {
    auto decoded = from_hex(cursor);
    if (!decoded) return make_error("bad cursor");
    after = std::move(*decoded);
  }
  std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(rocksdb::ReadOptions(), database_->alerts()));
  it->Seek(after);
  if (!after.empty() && it->Valid() && it->key().ToStringView() == after) it->Next();
  size_t scanned = 0;
  std::string last_key;
  for (; it->Valid(); it->Next()) {
    if (page.alerts.size() >= limit || scanned >= scan_budget) {
      page.next_cursor = to_hex(last_key);
      break;
    }
    ++scanned;
    last_key = it->key().ToString();
    if (filter.partition && last_key.size() >= 2 && !filter.partition(key_partition(last_key))) continue;
    const auto value = it->value().ToStringView();
    if (filter.state && alert_index_state(value) != filter.state) continue;
    auto entry = decode_entry(it->key().ToStringView(), value);
    if (!entry.ok()) return entry.error();
    if (filter.department && entry->department != *filter.department) continue;
    if (filter.accept && !filter.accept(*entry)) continue;
    page.alerts.push_back(std::move(entry).value());
  }
  if (!it->status().ok()) return make_error("listing alerts: " + it->status().ToString());
  return page;
}

}  // namespace slawatch
