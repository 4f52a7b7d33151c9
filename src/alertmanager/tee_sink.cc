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
  for (auto& [seq, payload] : written_) {
    auto alert = decode_alert_cloudevent(payload);
    if (!alert.ok()) {
      sender_.dropped("undecodable");
      continue;
    }
    sender_.enqueue(std::move(alert).value());
  }
  written_.clear();
  return ok_status();
}

}  // namespace slawatch
