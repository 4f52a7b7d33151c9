#pragma once
// The HTTP edge of Alertmanager delivery: one POST of a JSON array of alerts
// to /api/v2/alerts. An interface, so the delivery logic is tested with a
// recording fake and the real one (libcurl) talks to a real Alertmanager.
#include <memory>
#include <string>

#include "model/result.h"
#include "model/time.h"

namespace slawatch {

struct PostResult {
  enum class Outcome {
    accepted,  // 2xx
    retry,     // transport error, timeout, 5xx, 429: the same alerts may succeed later
    rejected,  // other 4xx: Alertmanager refuses this payload; sending it again will not help
  };
  Outcome outcome = Outcome::accepted;
  std::string reason;   // metric label: connect, timeout, transport, http_4xx, http_5xx ("" when accepted)
  std::string message;  // for the log

  bool accepted() const { return outcome == Outcome::accepted; }
  static PostResult ok() { return PostResult{}; }
};

class AlertmanagerClient {
 public:
  virtual ~AlertmanagerClient() = default;
  // Posts `alerts_json` (a JSON array) and says how it went. Blocking, bounded by the client's timeout.
  virtual PostResult post(const std::string& alerts_json) = 0;
};

// libcurl, one easy handle kept across posts (keep-alive). Used by one
// thread at a time (the sender thread).
class CurlAlertmanagerClient final : public AlertmanagerClient {
 public:
  // `base_url` like "http://127.0.0.1:9093"; fails on a URL libcurl refuses.
  // Call at start-up, before other threads use libcurl (global init).
  static Result<std::unique_ptr<CurlAlertmanagerClient>> create(const std::string& base_url, Duration timeout);
  ~CurlAlertmanagerClient() override;
  CurlAlertmanagerClient(const CurlAlertmanagerClient&) = delete;
  CurlAlertmanagerClient& operator=(const CurlAlertmanagerClient&) = delete;

  PostResult post(const std::string& alerts_json) override;
  const std::string& endpoint() const { return endpoint_; }

 private:
  CurlAlertmanagerClient(void* handle, void* headers, std::string endpoint)
      : handle_(handle), headers_(headers), endpoint_(std::move(endpoint)) {}
  void* handle_;   // CURL*
  void* headers_;  // curl_slist*
  std::string endpoint_;
  std::string response_;
};

}  // namespace slawatch
