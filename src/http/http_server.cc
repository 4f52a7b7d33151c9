#include "http/http_server.h"

#include <civetweb.h>

#include <vector>

namespace slawatch {
namespace {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 202: return "Accepted";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

void send(mg_connection* connection, const HttpResponse& response, bool with_body,
          std::string_view extra_headers = {}) {
  const std::string head = "HTTP/1.1 " + std::to_string(response.status) + " " +
                           std::string(reason_phrase(response.status)) +
                           "\r\nContent-Type: " + response.content_type +
                           "\r\nContent-Length: " + std::to_string(response.body.size()) +
                           "\r\nCache-Control: no-store\r\nConnection: close\r\n" +
                           std::string(extra_headers) + "\r\n";
  mg_write(connection, head.data(), head.size());
  if (with_body && !response.body.empty()) mg_write(connection, response.body.data(), response.body.size());
}

// civetweb would print its own errors to stderr; slawatch's stderr is for its own log lines.
int quiet_log(const mg_connection*, const char*) { return 1; }

HttpResponse plain(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body)};
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past U+10FFFF.
bool is_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    const auto byte = [&](size_t at) { return static_cast<unsigned char>(bytes[at]); };
    const unsigned char lead = byte(i);
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // the allowed range of the second byte
    if (lead < 0x80) length = 1;
    else if (lead >= 0xC2 && lead <= 0xDF) length = 2;
    else if (lead == 0xE0) length = 3, low = 0xA0;
    else if (lead == 0xED) length = 3, high = 0x9F;
    else if (lead >= 0xE1 && lead <= 0xEF) length = 3;
    else if (lead == 0xF0) length = 4, low = 0x90;
    else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
    else if (lead == 0xF4) length = 4, high = 0x8F;
    else return false;
    if (i + length > bytes.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      const unsigned char c = byte(i + k);
      if (k == 1 ? (c < low || c > high) : (c < 0x80 || c > 0xBF)) return false;
    }
    i += length;
  }
  return true;
}

// A Content-Length civetweb would read loosely ("1e12" as 1): digits only.
bool is_decimal(std::string_view text) {
  return !text.empty() && text.size() <= 18 && text.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

bool bearer_token_matches(std::string_view authorization, std::string_view token) {
  constexpr std::string_view kScheme = "Bearer ";
  if (token.empty()) return false;
  const size_t expected_size = kScheme.size() + token.size();
  // Every byte of the expected value is compared, whatever differs first; only
  // the lengths (not secret beyond the token's size) decide early.
  unsigned difference = authorization.size() == expected_size ? 0U : 1U;
  for (size_t i = 0; i < expected_size; ++i) {
    const char expected = i < kScheme.size() ? kScheme[i] : token[i - kScheme.size()];
    const char given = i < authorization.size() ? authorization[i] : '\0';
    difference |= static_cast<unsigned char>(expected ^ given);
  }
  return difference == 0;
}

Result<std::string> decode_request_path(std::string_view raw) {
  std::string path;
  path.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      path.push_back(raw[i]);
      continue;
    }
    const int high = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
    const int low = i + 2 < raw.size() ? hex_value(raw[i + 2]) : -1;
    if (high < 0 || low < 0) return make_error("bad escape at byte " + std::to_string(i) + " of the path");
    path.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  for (size_t i = 0; i < path.size(); ++i) {
    const auto c = static_cast<unsigned char>(path[i]);
    if (c < 0x20 || c == 0x7F) return make_error("control character at byte " + std::to_string(i) + " of the path");
  }
  if (!is_utf8(path)) return make_error("the path is not UTF-8");
  return path;
}

HttpRoutes& HttpRoutes::get(std::string path, HttpHandler handler) {
  exact_.insert_or_assign(std::move(path), std::move(handler));
  return *this;
}

HttpRoutes& HttpRoutes::get_prefix(std::string prefix, HttpHandler handler) {
  prefixes_.insert_or_assign(std::move(prefix), std::move(handler));
  return *this;
}

HttpRoutes& HttpRoutes::post(std::string path, HttpHandler handler) {
  post_.insert_or_assign(std::move(path), std::move(handler));
  return *this;
}

const HttpHandler* HttpRoutes::find_post(std::string_view path) const {
  auto it = post_.find(path);
  return it == post_.end() ? nullptr : &it->second;
}

const HttpHandler* HttpRoutes::find(std::string_view path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
  const HttpHandler* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, handler] : prefixes_) {
    if (path.starts_with(prefix) && (best == nullptr || prefix.size() > best_length)) {
      best = &handler;
      best_length = prefix.size();
    }
  }
  return best;
}

HttpHandler require_bearer(std::string token, HttpHandler inner) {
  if (token.empty()) return inner;
  return [expected = "Bearer " + token, inner = std::move(inner)](const HttpRequest& request) {
    const std::string json = "application/json";
    if (request.authorization.empty()) {
      return HttpResponse{401, json, R"({"error":"this needs 'Authorization: Bearer <read token>'"})" "\n"};
    }
    if (request.authorization != expected) return HttpResponse{403, json, R"({"error":"wrong read token"})" "\n"};
    return inner(request);
  };
}

HttpServer::HttpServer(HttpServerOptions options, HttpRoutes routes)
    : options_(std::move(options)), routes_(std::move(routes)) {}

Result<std::unique_ptr<HttpServer>> HttpServer::start(HttpServerOptions options, HttpRoutes routes) {
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), std::move(routes)));
  // Reference-counted by civetweb; undone in the destructor.
  mg_init_library(0);
  const std::string threads = std::to_string(server->options_.threads);
  const std::string timeout = std::to_string(server->options_.request_timeout_ms);
  const char* civet_options[] = {"listening_ports", server->options_.listen.c_str(),
                                 "num_threads", threads.c_str(),
                                 "request_timeout_ms", timeout.c_str(),
                                 "enable_keep_alive", "no",
                                 // The path is decoded here (decode_request_path), strictly:
                                 // civetweb's decoder lets "%00" cut a path short.
                                 "decode_url", "no",
                                 nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = quiet_log;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = server.get();
  init.configuration_options = civet_options;
  char error_text[256] = {0};
  mg_error_data error{};
  error.text = error_text;
  error.text_buffer_size = sizeof(error_text);
  server->context_ = mg_start2(&init, &error);
  if (server->context_ == nullptr) {
    return Error{"http: cannot listen on " + server->options_.listen + ": " + error_text};
  }
  mg_set_request_handler(server->context_, "/", &HttpServer::handle, server.get());
  mg_server_port ports[4] = {};
  const int count = mg_get_server_ports(server->context_, 4, ports);
  if (count < 1) return Error{"http: no listening port for " + server->options_.listen};
  server->port_ = static_cast<uint16_t>(ports[0].port);
  return server;
}

HttpServer::~HttpServer() {
  if (context_ != nullptr) mg_stop(context_);
  mg_exit_library();
}

std::string HttpServer::url() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  if (host.empty()) host = "0.0.0.0";
  return "http://" + host + ":" + std::to_string(port_);
}

// Counts one client's request while it is being handled; the count says
// whether the client is over the cap.
class HttpServer::ClientSlot {
 public:
  ClientSlot(HttpServer& server, std::string client) : server_(server), client_(std::move(client)) {
    std::lock_guard lock(server_.clients_mutex_);
    count_ = ++server_.requests_by_client_[client_];
  }
  ~ClientSlot() {
    std::lock_guard lock(server_.clients_mutex_);
    auto it = server_.requests_by_client_.find(client_);
    if (--it->second == 0) server_.requests_by_client_.erase(it);
  }
  ClientSlot(const ClientSlot&) = delete;
  ClientSlot& operator=(const ClientSlot&) = delete;
  bool over(int cap) const { return count_ > cap; }

 private:
  HttpServer& server_;
  std::string client_;
  int count_ = 0;
};

int HttpServer::handle(mg_connection* connection, void* self) {
  auto& server = *static_cast<HttpServer*>(self);
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method = request->request_method ? request->request_method : "";
  const bool head = method == "HEAD";
  const bool post = method == "POST";
  const auto reply = [&](const HttpResponse& response, std::string_view extra_headers = {}) {
    send(connection, response, !head, extra_headers);
    return response.status;
  };
  if (method != "GET" && !head && !post) {
    return reply(plain(405, "only GET, HEAD and POST\n"), "Allow: GET, HEAD, POST\r\n");
  }
  auto path = decode_request_path(request->local_uri ? request->local_uri : "/");
  if (!path.ok()) return reply(plain(400, "malformed path: " + path.error().message + "\n"));
  const ClientSlot slot(server, request->remote_addr);
  const bool probe = *path == "/livez" || *path == "/readyz";
  if (!probe && slot.over(server.options_.max_connections_per_client)) {
    return reply(plain(429, "too many connections from " + std::string(request->remote_addr) + "\n"),
                 "Retry-After: 1\r\n");
  }
  HttpRequest parsed;
  parsed.method = method;
  parsed.path = *path;
  parsed.query = request->query_string ? request->query_string : "";
  parsed.remote_address = request->remote_addr;
  if (const char* authorization = mg_get_header(connection, "Authorization")) parsed.authorization = authorization;
  if (const char* languages = mg_get_header(connection, "Accept-Language")) parsed.accept_language = languages;
  std::string body;
  if (post) {
    const char* length = mg_get_header(connection, "Content-Length");
    if (length != nullptr && !is_decimal(length)) {
      return reply(plain(400, "Content-Length must be a decimal number of bytes\n"));
    }
    if (request->content_length > static_cast<long long>(kMaxRequestBody)) {
      return reply(plain(413, "request body too large\n"));
    }
    char buffer[4096];
    int got = 0;
    while (body.size() < kMaxRequestBody && (got = mg_read(connection, buffer, sizeof(buffer))) > 0) {
      body.append(buffer, static_cast<size_t>(got));
    }
    // mg_read gives up at the request timeout: a body that stopped short is not acted on.
    if (request->content_length > 0 && body.size() < static_cast<size_t>(request->content_length)) {
      return reply(plain(408, "request body incomplete after " + std::to_string(body.size()) + " of " +
                                  std::to_string(request->content_length) + " bytes\n"));
    }
    parsed.body = body;
  }
  const HttpHandler* handler = post ? server.routes_.find_post(parsed.path) : server.routes_.find(parsed.path);
  if (handler == nullptr && post && server.routes_.find(parsed.path) != nullptr) {
    return reply(plain(405, "only GET and HEAD here\n"), "Allow: GET, HEAD\r\n");
  }
  HttpResponse response = plain(404, "not found\n");
  if (handler != nullptr) {
    try {
      response = (*handler)(parsed);
    } catch (const std::exception&) {
      // A C callback must not let an exception through; its text is internal
      // (it may quote state or input) and stays out of the response.
      response = plain(500, "internal error\n");
    }
  }
  return reply(response);
}

std::string_view HealthState::not_ready_reason() const {
  if (!state_open_.load(std::memory_order_relaxed)) return "state not open";
  if (!partitions_assigned_.load(std::memory_order_relaxed)) return "no partitions assigned";
  if (!caught_up_.load(std::memory_order_relaxed)) return "not caught up with the input";
  return {};
}

void add_health_routes(HttpRoutes& routes, const HealthState& health) {
  routes.get("/livez", [](const HttpRequest&) { return HttpResponse{200, "text/plain; charset=utf-8", "ok\n"}; });
  routes.get("/readyz", [&health](const HttpRequest&) {
    const auto reason = health.not_ready_reason();
    if (reason.empty()) return HttpResponse{200, "text/plain; charset=utf-8", "ready\n"};
    return HttpResponse{503, "text/plain; charset=utf-8", "not ready: " + std::string(reason) + "\n"};
  });
}

}  // namespace slawatch
