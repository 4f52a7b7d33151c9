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

}  // namespace

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

int HttpServer::handle(mg_connection* connection, void* self) {
  const auto& server = *static_cast<const HttpServer*>(self);
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method = request->request_method ? request->request_method : "";
  const bool head = method == "HEAD";
  const bool post = method == "POST";
  if (method != "GET" && !head && !post) {
    send(connection, HttpResponse{405, "text/plain; charset=utf-8", "only GET, HEAD and POST\n"}, true,
         "Allow: GET, HEAD, POST\r\n");
    return 405;
  }
  HttpRequest parsed;
  parsed.method = method;
  parsed.path = request->local_uri ? request->local_uri : "/";
  parsed.query = request->query_string ? request->query_string : "";
  parsed.remote_address = request->remote_addr;
  if (const char* authorization = mg_get_header(connection, "Authorization")) parsed.authorization = authorization;
  if (const char* languages = mg_get_header(connection, "Accept-Language")) parsed.accept_language = languages;
  std::string body;
  if (post) {
    if (request->content_length > static_cast<long long>(kMaxRequestBody)) {
      send(connection, HttpResponse{413, "text/plain; charset=utf-8", "request body too large\n"}, true);
      return 413;
    }
    char buffer[4096];
    int got = 0;
    while (body.size() < kMaxRequestBody && (got = mg_read(connection, buffer, sizeof(buffer))) > 0) {
      body.append(buffer, static_cast<size_t>(got));
    }
    parsed.body = body;
  }
  const HttpHandler* handler = post ? server.routes_.find_post(parsed.path) : server.routes_.find(parsed.path);
  if (handler == nullptr && post && server.routes_.find(parsed.path) != nullptr) {
    send(connection, HttpResponse{405, "text/plain; charset=utf-8", "only GET and HEAD here\n"}, true,
         "Allow: GET, HEAD\r\n");
    return 405;
  }
  HttpResponse response{404, "text/plain; charset=utf-8", "not found\n"};
  if (handler != nullptr) {
    try {
      response = (*handler)(parsed);
    } catch (const std::exception& e) {
      // A C callback must not let an exception through.
      response = HttpResponse{500, "text/plain; charset=utf-8", std::string("handler failed: ") + e.what() + "\n"};
    }
  }
  send(connection, response, !head);
  return response.status;
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
