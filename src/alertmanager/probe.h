#pragma once
// Metrics of Alertmanager delivery (prometheus-cpp), one method per thing
// that happens, like the probes in src/metrics. Thread-safe: the pipeline
// thread counts queue drops, the sender thread everything else, HTTP threads
// serialize the registry.
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

namespace slawatch {

class AlertmanagerProbe {
 public:
  explicit AlertmanagerProbe(prometheus::Registry& registry);

  // `count` Alertmanager alerts (one per role) accepted in one POST.
  void sent(size_t count);
  // One POST failed; `reason`: connect, timeout, transport, http_4xx, http_5xx.
  void failed(std::string_view reason);
  // Alert events given up: queue_full, active_full, rejected (a 4xx answer), undecodable.
  void dropped(std::string_view reason, size_t count = 1);
  void queue_depth(size_t depth);
  void active(size_t firing, size_t resolved);

  double sent_total() const { return sent_.Value(); }

 private:
  prometheus::Counter& sent_;
  prometheus::Counter& posts_;
  prometheus::Family<prometheus::Counter>& failed_;
  prometheus::Family<prometheus::Counter>& dropped_;
  prometheus::Gauge& queue_depth_;
  prometheus::Family<prometheus::Gauge>& active_;
};

}  // namespace slawatch
