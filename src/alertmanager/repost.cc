#include "alertmanager/repost.h"

#include "io/alert_json.h"

namespace slawatch {

Result<size_t> repost_firing_alerts(StateStore& store, AlertmanagerSender& sender) {
  std::vector<Alert> firing;
  auto visited = store.for_each_alert([&](const AlertIndexEntry& entry) {
    if (entry.state != AlertIndexEntry::State::firing) return true;
    auto alert = decode_alert_cloudevent(entry.event);
    if (alert.ok()) {
      firing.push_back(std::move(alert).value());
    } else {
      sender.dropped("undecodable");
    }
    return true;
  });
  if (!visited.ok()) return visited.error();
  const size_t count = firing.size();
  sender.restore(std::move(firing));
  return count;
}

}  // namespace slawatch
