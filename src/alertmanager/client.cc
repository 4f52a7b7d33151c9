#include "alertmanager/client.h"

#include <curl/curl.h>

#include <mutex>

namespace slawatch {
namespace {

size_t collect(char* data, size_t size, size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  // Alertmanager's error bodies are short; keep enough for the log.
  if (body->size() < 2048) body->append(data, std::min(size * count, 2048 - body->size()));
  return size * count;
}

std::string trim_base(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

Result<std::unique_ptr<CurlAlertmanagerClient>> CurlAlertmanagerClient::create(const std::string& base_url,
                                                                                 Duration timeout) {
  static std::once_flag global_init;
  std::call_once(global_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (!base_url.starts_with("http://") && !base_url.starts_with("https://")) {
    return make_error("alertmanager url must start with http:// or https://: '" + base_url + "'");
  }
  CURL* handle = curl_easy_init();
  if (handle == nullptr) return make_error("libcurl: cannot create a handle");
  const std::string endpoint = trim_base(base_url) + "/api/v2/alerts";
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  curl_easy_setopt(handle, CURLOPT_URL, endpoint.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(handle, CURLOPT_POST, 1L);
  curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
  // The sender is a background thread; libcurl must not raise SIGPIPE or use
  // signals for DNS timeouts there.
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(handle, CURLOPT_USERAGENT, "slawatch");
  return std::unique_ptr<CurlAlertmanagerClient>(new CurlAlertmanagerClient(handle, headers, endpoint));
}

CurlAlertmanagerClient::~CurlAlertmanagerClient() {
  curl_easy_cleanup(static_cast<CURL*>(handle_));
  curl_slist_free_all(static_cast<curl_slist*>(headers_));
}

PostResult CurlAlertmanagerClient::post(const std::string& alerts_json) {
  CURL* handle = static_cast<CURL*>(handle_);
  response_.clear();
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &response_);
  curl_easy_setopt(handle, CURLOPT_POSTFIELDS, alerts_json.data());
  curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(alerts_json.size()));
  const CURLcode code = curl_easy_perform(handle);
  if (code != CURLE_OK) {
    PostResult result{PostResult::Outcome::retry, "transport", endpoint_ + ": " + curl_easy_strerror(code)};
    if (code == CURLE_COULDNT_CONNECT || code == CURLE_COULDNT_RESOLVE_HOST) result.reason = "connect";
    if (code == CURLE_OPERATION_TIMEDOUT) result.reason = "timeout";
    return result;
  }
  long status = 0;
  curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200 && status < 300) return PostResult::ok();
  const std::string message = endpoint_ + ": HTTP " + std::to_string(status) + ": " + response_;
  const std::string reason = status >= 500 ? "http_5xx" : "http_4xx";
  // Overload (429) and request timeout (408) pass; other 4xx is about the payload.
  if (status >= 500 || status == 429 || status == 408) return PostResult{PostResult::Outcome::retry, reason, message};
  return PostResult{PostResult::Outcome::rejected, reason, message};
}

}  // namespace slawatch
