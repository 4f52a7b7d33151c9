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
  for (auto& [seq, payload] : written_) hand_over(payload);
  written_.clear();
  return ok_status();
}

Status AlertmanagerTeeSink::collect_acknowledged(std::span<const uint64_t> written,
                                                 std::vector<uint64_t>& acknowledged) {
  const size_t before = acknowledged.size();
  auto status = inner_.collect_acknowledged(written, acknowledged);
  for (size_t i = before; i < acknowledged.size(); ++i) {
    auto it = written_.find(acknowledged[i]);
    if (it == written_.end()) continue;
    hand_over(it->second);
    written_.erase(it);
  }
  return status;
}

void AlertmanagerTeeSink::hand_over(const std::string& payload) {
  auto alert = decode_alert_cloudevent(payload);
  if (!alert.ok()) {
    sender_.dropped("undecodable");
    return;
  }
  sender_.enqueue(std::move(alert).value());
}

}  // namespace slawatch
