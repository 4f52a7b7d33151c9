#include "io/alert_json.h"

#include <nlohmann/json.hpp>

namespace slawatch {
namespace {

std::string base64(std::string_view in) {
  static constexpr char kTable[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                       static_cast<uint8_t>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kTable[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kTable[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::string_view or_unassigned(const std::string& department) {
  return department.empty() ? std::string_view("unassigned") : std::string_view(department);
}

}  // namespace

std::string encode_alert_cloudevent(const Alert& alert, std::string_view source) {
  nlohmann::ordered_json data;
  data["alert_id"] = alert.alert_id;
  data["case_id"] = alert.case_id.str();
  data["rule"] = alert.rule.str();
  data["cycle"] = alert.cycle;
  data["stage"] = alert.stage;
  data["severity"] = alert.severity;
  data["department"] = or_unassigned(alert.department);
  data["due_at"] = format_rfc3339_utc(alert.due_at);
  data["rule_version"] = alert.rule_version;
  switch (alert.kind) {
    case AlertKind::fired: {
      data["fired_at"] = format_rfc3339_utc(alert.fired_at);
      data["started_at"] = format_rfc3339_utc(alert.started_at);
      auto notify = nlohmann::ordered_json::array();
      for (const auto& target : alert.notify) {
        nlohmann::ordered_json t;
        t["role"] = target.role;
        t["person"] = target.person.empty() ? nlohmann::ordered_json(nullptr)
                                            : nlohmann::ordered_json(target.person);
        notify.push_back(std::move(t));
      }
      data["notify"] = std::move(notify);
      break;
    }
    case AlertKind::resolved:
      data["closed_at"] = format_rfc3339_utc(*alert.closed_at);
      data["overdue_seconds"] =
          static_cast<double>((*alert.closed_at - alert.due_at).count()) / 1000.0;
      break;
    case AlertKind::retracted:
      data["closed_at"] = alert.closed_at ? nlohmann::ordered_json(format_rfc3339_utc(*alert.closed_at))
                                          : nlohmann::ordered_json(nullptr);
      data["reason"] = alert.reason;
      data["event_id"] = alert.event_id.empty() ? nlohmann::ordered_json(nullptr)
                                                : nlohmann::ordered_json(alert.event_id.str());
      break;
  }
  nlohmann::ordered_json event;
  event["specversion"] = "1.0";
  // Deterministic: the same alert event found again (after a crash, say) gets
  // the same id. The due time is part of it because a retracted stage can
  // fire again under the same alert_id with a different due time, and that
  // is a different event that a consumer must not drop as a duplicate.
  event["id"] = alert.alert_id + "/" + std::string(to_string(alert.kind)) + "/" +
                std::to_string(to_millis(alert.due_at));
  event["source"] = source;
  event["type"] = "slawatch.alert." + std::string(to_string(alert.kind));
  event["subject"] = alert.case_id.str();
  event["time"] = format_rfc3339_utc(alert.emitted_at);
  event["datacontenttype"] = "application/json";
  event["data"] = std::move(data);
  return event.dump();
}

std::string encode_dead_letter(std::string_view original, std::string_view reason,
                               std::string_view origin) {
  nlohmann::ordered_json j;
  j["reason"] = reason;
  j["origin"] = origin;
  try {
    j["original"] = original;
    return j.dump();
  } catch (const nlohmann::json::type_error&) {
    // Invalid UTF-8 cannot travel in a JSON string; keep the bytes exactly.
    j.erase("original");
    j["original_base64"] = base64(original);
    return j.dump();
  }
}

}  // namespace slawatch
