#pragma once
// A small embedded HTTP server (civetweb) for the operational endpoints:
// /metrics, /livez, /readyz, the case API, and POST /-/reload. Handlers are
// registered per method by exact path (GET also by path prefix) before the
// server starts and never change afterwards. Handlers run on civetweb's worker threads, several at a time,
// so everything they touch must be thread-safe.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "model/result.h"

struct mg_context;
struct mg_connection;

namespace slawatch {

struct HttpRequest {
  std::string_view method;  // GET, HEAD or POST
  std::string_view path;    // decoded, without the query; valid UTF-8 without control characters
  std::string_view query;   // after '?', empty when absent
  std::string_view authorization;  // the Authorization header, empty when absent
  std::string_view accept_language;  // the Accept-Language header, empty when absent
  std::string_view remote_address;
  std::string_view body;    // POST only, at most kMaxRequestBody bytes
};

inline constexpr size_t kMaxRequestBody = 64 * 1024;

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// The handler table. Exact paths win over prefixes; the longest prefix wins.
class HttpRoutes {
 public:
  HttpRoutes& get(std::string path, HttpHandler handler);
  HttpRoutes& get_prefix(std::string prefix, HttpHandler handler);
  HttpRoutes& post(std::string path, HttpHandler handler);
  // Null when no route matches (GET and HEAD share the GET routes).
  const HttpHandler* find(std::string_view path) const;
  const HttpHandler* find_post(std::string_view path) const;

 private:
  std::map<std::string, HttpHandler, std::less<>> post_;
  std::map<std::string, HttpHandler, std::less<>> exact_;
  std::map<std::string, HttpHandler, std::less<>> prefixes_;
};

// `inner` behind a bearer token: with a non-empty `token`, a request without
// "Authorization: Bearer <token>" gets 401 (no header) or 403 (another token),
// as JSON errors; with an empty one, `inner` itself.
HttpHandler require_bearer(std::string token, HttpHandler inner);

struct HttpServerOptions {
  // civetweb's listening_ports syntax: "127.0.0.1:9464", "[::1]:9464"; port 0
  // picks a free port (see HttpServer::port()).
  std::string listen = "127.0.0.1:9464";
  // Each connection holds one worker thread until it is answered, however
  // slowly its client sends: enough of them that a few slow clients leave
  // threads free for the probes.
  int threads = 32;
  // Everything of a request (request line, headers, body) must arrive within
  // this time from its first byte; a slower one is dropped, freeing its thread.
  int request_timeout_ms = 5000;
  // Connections from one client address whose request is being handled at
  // once (from its headers in to its answer out: reading a body, waiting
  // for a reload); a further one is answered 429 at once (except /livez and
  // /readyz, which cost no more than the refusal would). civetweb gives no
  // hook with the client's address before the headers are in; until then a
  // connection is bounded by request_timeout_ms only.
  int max_connections_per_client = 8;
};

// True when `authorization` is exactly "Bearer <token>", in time that does not
// depend on where the two first differ (so a caller cannot guess the token
// byte by byte from response times). An empty token matches nothing.
bool bearer_token_matches(std::string_view authorization, std::string_view token);

// Decodes a request path's %XX escapes. An error for a bad escape, a decoded
// NUL or other control character, or bytes that are not UTF-8: such a path
// names nothing, and must not be cut short at the NUL and name something else.
Result<std::string> decode_request_path(std::string_view raw);

// Serves the routes until destroyed. The destructor waits for running
// handlers, so whatever they capture must outlive the server.
class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> start(HttpServerOptions options, HttpRoutes routes);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:9464"
  std::string url() const;

 private:
  HttpServer(HttpServerOptions options, HttpRoutes routes);
  class ClientSlot;
  static int handle(mg_connection* connection, void* self);

  HttpServerOptions options_;
  HttpRoutes routes_;
  // Requests being handled per client address (handlers run on several
  // worker threads, hence the lock).
  std::mutex clients_mutex_;
  std::unordered_map<std::string, int> requests_by_client_;
  mg_context* context_ = nullptr;
  uint16_t port_ = 0;
};

// What /readyz reports: the app sets each flag as it gets there. Lock-free;
// written by the processing thread(s), read by HTTP threads.
class HealthState {
 public:
  void set_state_open(bool value) { state_open_.store(value, std::memory_order_relaxed); }
  void set_partitions_assigned(bool value) { partitions_assigned_.store(value, std::memory_order_relaxed); }
  void set_caught_up(bool value) { caught_up_.store(value, std::memory_order_relaxed); }
  bool ready() const { return not_ready_reason().empty(); }
  // Empty when ready; otherwise the first missing condition.
  std::string_view not_ready_reason() const;

 private:
  std::atomic<bool> state_open_{false};
  std::atomic<bool> partitions_assigned_{false};
  std::atomic<bool> caught_up_{false};
};

// /livez (200 while the process serves requests) and /readyz (200 when
// `health` is ready, 503 with the reason otherwise). `health` must outlive
// the server.
void add_health_routes(HttpRoutes& routes, const HealthState& health);

}  // namespace slawatch
