#pragma once
// Settings of Alertmanager delivery (the `alertmanager:` config section).
// Plain values, no dependencies, so the app's config can hold them.
#include <chrono>
#include <cstddef>
#include <string>

#include "model/time.h"

namespace slawatch {

struct AlertmanagerOptions {
  // Base URL of one Alertmanager; alerts go to `url + /api/v2/alerts`.
  std::string url = "http://127.0.0.1:9093";
  // Firing alerts are posted again this often, and carry endsAt = now + 4 x
  // resend: Alertmanager resolves them by itself if slawatch goes silent
  // (Prometheus does the same with its resend delay).
  Duration resend = std::chrono::minutes{1};
  // Resolved and retracted alerts are posted again for this long, then forgotten.
  Duration resolved_resend_for = std::chrono::minutes{15};
  size_t queue = 10000;        // alert events waiting for the sender thread
  size_t max_active = 100000;  // alerts remembered for resending (firing + recently resolved)
  Duration timeout = std::chrono::seconds{5};  // per POST, connection included
  // generatorURL = this + /api/v1/cases/{case_id}; empty: no generatorURL.
  std::string generator_base_url = "http://127.0.0.1:9464";
  size_t batch = 500;  // slawatch alerts per POST (each is one Alertmanager alert per role)
  // A failed POST is retried after retry_initial, doubling up to retry_max,
  // each wait jittered to 50-100% so several monitors do not retry in step.
  Duration retry_initial = std::chrono::seconds{1};
  Duration retry_max = std::chrono::minutes{1};
};

}  // namespace slawatch
