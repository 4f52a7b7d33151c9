#include "alertmanager/tee_sink.h"

#include "io/alert_json.h"

namespace slawatch {

Status AlertmanagerTeeSink::write(const OutboundRecord& record) {
  if (auto s = inner_.write(record); !s.ok()) return s;
  written_[record.seq] = std::string(record.payload);
  return ok_status();
}

Status AlertmanagerTeeSink::flush() {
  if (auto s = inner_.flush(); !s.ok()) return s;
  std::vector<Alert> group;
  for (auto& [seq, payload] : written_) decode_into(payload, group);
  written_.clear();
  sender_.enqueue_all(std::move(group));
  return ok_status();
}

Status AlertmanagerTeeSink::collect_acknowledged(std::span<const uint64_t> written,
                                                 std::vector<uint64_t>& acknowledged) {
  const size_t before = acknowledged.size();
  auto status = inner_.collect_acknowledged(written, acknowledged);
  std::vector<Alert> group;
  for (size_t i = before; i < acknowledged.size(); ++i) {
    auto it = written_.find(acknowledged[i]);
    if (it == written_.end()) continue;
    decode_into(it->second, group);
    written_.erase(it);
  }
  if (!group.empty()) sender_.enqueue_all(std::move(group));
  return status;
}

void AlertmanagerTeeSink::decode_into(const std::string& payload, std::vector<Alert>& group) {
  auto alert = decode_alert_cloudevent(payload);
  if (!alert.ok()) {
    sender_.dropped("undecodable");
    return;
  }
  group.push_back(std::move(alert).value());
}

}  // namespace slawatch
