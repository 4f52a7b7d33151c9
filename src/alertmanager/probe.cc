#include "alertmanager/probe.h"

namespace slawatch {

AlertmanagerProbe::AlertmanagerProbe(prometheus::Registry& registry)
    : sent_(prometheus::BuildCounter()
                .Name("slawatch_alertmanager_alerts_sent_total")
                .Help("Alertmanager alerts (one per slawatch alert and notified role) accepted by Alertmanager, "
                      "resends included.")
                .Register(registry)
                .Add({})),
      posts_(prometheus::BuildCounter()
                 .Name("slawatch_alertmanager_posts_total")
                 .Help("POSTs to Alertmanager's /api/v2/alerts that it accepted.")
                 .Register(registry)
                 .Add({})),
      failed_(prometheus::BuildCounter()
                  .Name("slawatch_alertmanager_post_failures_total")
                  .Help("POSTs to Alertmanager that failed, by reason (connect, timeout, transport, http_4xx, "
                        "http_5xx); all but http_4xx are retried with backoff.")
                  .Register(registry)),
      dropped_(prometheus::BuildCounter()
                   .Name("slawatch_alertmanager_dropped_total")
                   .Help("Alert events not delivered to Alertmanager, by reason (queue_full, active_full, "
                         "rejected, undecodable).")
                   .Register(registry)),
      queue_depth_(prometheus::BuildGauge()
                       .Name("slawatch_alertmanager_queue_depth")
                       .Help("Alert events waiting for the Alertmanager sender thread.")
                       .Register(registry)
                       .Add({})),
      active_(prometheus::BuildGauge()
                  .Name("slawatch_alertmanager_active_alerts")
                  .Help("Alerts held for resending to Alertmanager, by state (firing; resolved: resolved or "
                        "retracted, resent until forgotten).")
                  .Register(registry)) {
  // Every reason exists from the start, so dashboards see zeros rather than gaps.
  for (const char* reason : {"connect", "timeout", "transport", "http_4xx", "http_5xx"}) failed_.Add({{"reason", reason}});
  for (const char* reason : {"queue_full", "active_full", "rejected", "undecodable"}) dropped_.Add({{"reason", reason}});
  active(0, 0);
}

void AlertmanagerProbe::sent(size_t count) {
  sent_.Increment(static_cast<double>(count));
  posts_.Increment();
}

void AlertmanagerProbe::failed(std::string_view reason) { failed_.Add({{"reason", std::string(reason)}}).Increment(); }

void AlertmanagerProbe::dropped(std::string_view reason, size_t count) {
  dropped_.Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(count));
}

void AlertmanagerProbe::queue_depth(size_t depth) { queue_depth_.Set(static_cast<double>(depth)); }

void AlertmanagerProbe::active(size_t firing, size_t resolved) {
  active_.Add({{"state", "firing"}}).Set(static_cast<double>(firing));
  active_.Add({{"state", "resolved"}}).Set(static_cast<double>(resolved));
}

}  // namespace slawatch
