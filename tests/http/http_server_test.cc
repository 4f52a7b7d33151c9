// The embedded HTTP server, through real requests on a loopback port picked
// by the kernel: routing (exact over prefix, longest prefix), methods, HEAD,
// errors from handlers, the health endpoints, start-up failures, the
// bearer-token guard of the read routes and the Accept-Language header, and
// hostile clients (slow ones, many connections, bad lengths and paths).
// Timeouts are civetweb's own (no clock to inject): tests set them short and
// bound the wait with a steady clock, never sleeping.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <memory>
#include <string>
#include <vector>

namespace slawatch {
namespace {

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
};

// A connection to the server from `source` (any 127.x.y.z address: the
// kernel routes all of 127/8 over loopback, so each stands for another client).
int connect_from(uint16_t port, const char* source = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof(local)), 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  return fd;
}

void send_text(int fd, const std::string& text) {
  EXPECT_EQ(::send(fd, text.data(), text.size(), MSG_NOSIGNAL), static_cast<ssize_t>(text.size()));
}

// Reads until the server closes the connection, then splits the reply.
Reply receive(int fd) {
  std::string received;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) received.append(buffer, static_cast<size_t>(n));
  ::close(fd);
  Reply reply;
  const auto split = received.find("\r\n\r\n");
  EXPECT_NE(split, std::string::npos) << received;
  if (split == std::string::npos) return reply;
  reply.head = received.substr(0, split);
  reply.body = received.substr(split + 4);
  reply.status = std::stoi(reply.head.substr(reply.head.find(' ') + 1, 3));
  return reply;
}

// Reads one answer (headers, then Content-Length bytes of body) without
// waiting for the server to close the connection.
Reply receive_answer(int fd) {
  std::string received;
  char buffer[4096];
  Reply reply;
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    received.append(buffer, static_cast<size_t>(n));
    const auto split = received.find("\r\n\r\n");
    if (split == std::string::npos) continue;
    reply.head = received.substr(0, split);
    const auto length_at = reply.head.find("Content-Length: ");
    if (length_at == std::string::npos) break;
    const size_t length = std::stoul(reply.head.substr(length_at + 16));
    if (received.size() - split - 4 < length) continue;
    reply.body = received.substr(split + 4, length);
    reply.status = std::stoi(reply.head.substr(reply.head.find(' ') + 1, 3));
    break;
  }
  ::close(fd);
  return reply;
}

// Exactly these bytes as the request, over a fresh connection from `source`.
Reply raw_request(uint16_t port, const std::string& text, const char* source = "127.0.0.1") {
  const int fd = connect_from(port, source);
  send_text(fd, text);
  return receive(fd);
}

// One request over a fresh connection; the server closes it after the reply.
Reply request(uint16_t port, const std::string& method, const std::string& path, const std::string& headers = {},
              const std::string& body = {}, const char* source = "127.0.0.1") {
  return raw_request(port,
                     method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers +
                         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body,
                     source);
}

// A client that has sent the request line and one header and then goes
// quiet, holding its connection (and the worker thread serving it) open.
class SlowClient {
 public:
  SlowClient(uint16_t port, const char* source, const std::string& method = "GET", const std::string& more = {})
      : fd_(connect_from(port, source)) {
    send_text(fd_, method + " /slow HTTP/1.1\r\nHost: localhost\r\n" + more);
  }
  ~SlowClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  SlowClient(const SlowClient&) = delete;
  SlowClient& operator=(const SlowClient&) = delete;
  // What the server answers once it gives up on the rest (it then closes).
  Reply give_up() {
    const int fd = fd_;
    fd_ = -1;
    return receive(fd);
  }

 private:
  int fd_;
};

using SteadyClock = std::chrono::steady_clock;

HttpHandler text(std::string body) {
  return [body = std::move(body)](const HttpRequest&) { return HttpResponse{200, "text/plain", body}; };
}

std::unique_ptr<HttpServer> start(HttpRoutes routes, HttpServerOptions options = {}) {
  options.listen = "127.0.0.1:0";
  auto server = HttpServer::start(options, std::move(routes));
  EXPECT_TRUE(server.ok()) << server.error().message;
  return std::move(server).value();
}

TEST(HttpServer, ExactRouteWinsOverPrefixAndLongestPrefixWins) {
  HttpRoutes routes;
  routes.get("/a/b", text("exact")).get_prefix("/a/", text("short")).get_prefix("/a/b/", text("long"));
  auto server = start(std::move(routes));
  ASSERT_NE(server->port(), 0);
  EXPECT_EQ(request(server->port(), "GET", "/a/b").body, "exact");
  EXPECT_EQ(request(server->port(), "GET", "/a/x").body, "short");
  EXPECT_EQ(request(server->port(), "GET", "/a/b/c").body, "long");
  const auto missing = request(server->port(), "GET", "/b");
  EXPECT_EQ(missing.status, 404);
}

TEST(HttpServer, HandlerSeesThePathWithoutTheQuery) {
  HttpRoutes routes;
  routes.get("/echo", [](const HttpRequest& r) {
    return HttpResponse{200, "text/plain", std::string(r.path) + "|" + std::string(r.query)};
  });
  auto server = start(std::move(routes));
  EXPECT_EQ(request(server->port(), "GET", "/echo?x=1").body, "/echo|x=1");
}

TEST(HttpServer, HeadAnswersHeadersOnlyAndOtherMethodsAreRefused) {
  HttpRoutes routes;
  routes.get("/m", text("twelve bytes"));
  auto server = start(std::move(routes));
  const auto head = request(server->port(), "HEAD", "/m");
  EXPECT_EQ(head.status, 200);
  EXPECT_NE(head.head.find("Content-Length: 12"), std::string::npos) << head.head;
  EXPECT_EQ(head.body, "");
  const auto post = request(server->port(), "POST", "/m");
  EXPECT_EQ(post.status, 405);
  EXPECT_NE(post.head.find("Allow: GET, HEAD"), std::string::npos) << post.head;
}

TEST(HttpServer, PostRouteSeesBodyAuthorizationAndMethod) {
  HttpRoutes routes;
  routes.post("/-/do", [](const HttpRequest& r) {
    return HttpResponse{202, "text/plain",
                        std::string(r.method) + "|" + std::string(r.authorization) + "|" + std::string(r.body)};
  });
  auto server = start(std::move(routes));
  const auto reply = request(server->port(), "POST", "/-/do", "Authorization: Bearer s3cret\r\n", "payload");
  EXPECT_EQ(reply.status, 202);
  EXPECT_EQ(reply.body, "POST|Bearer s3cret|payload");
  EXPECT_EQ(request(server->port(), "GET", "/-/do").status, 404);  // POST-only route
  EXPECT_EQ(request(server->port(), "PUT", "/-/do").status, 405);
}

TEST(HttpServer, StatusAndContentTypeComeFromTheHandlerAndExceptionsStayInside) {
  HttpRoutes routes;
  routes.get("/teapot", [](const HttpRequest&) { return HttpResponse{503, "application/json", "{}"}; });
  routes.get("/throws", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  auto server = start(std::move(routes));
  const auto reply = request(server->port(), "GET", "/teapot");
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.head.find("Content-Type: application/json"), std::string::npos) << reply.head;
  const auto thrown = request(server->port(), "GET", "/throws");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_EQ(thrown.body, "internal error\n");
}

TEST(HttpServer, ReadyzFollowsTheHealthFlagsInOrder) {
  HealthState health;
  HttpRoutes routes;
  add_health_routes(routes, health);
  auto server = start(std::move(routes));
  EXPECT_EQ(request(server->port(), "GET", "/livez").status, 200);
  auto reply = request(server->port(), "GET", "/readyz");
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body, "not ready: state not open\n");
  health.set_state_open(true);
  EXPECT_EQ(request(server->port(), "GET", "/readyz").body, "not ready: no partitions assigned\n");
  health.set_partitions_assigned(true);
  EXPECT_EQ(request(server->port(), "GET", "/readyz").body, "not ready: not caught up with the input\n");
  health.set_caught_up(true);
  reply = request(server->port(), "GET", "/readyz");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "ready\n");
  health.set_caught_up(false);
  EXPECT_EQ(request(server->port(), "GET", "/readyz").status, 503);
}

TEST(HttpServer, BearerGuardAnswers401WithoutAToken403ForAnotherAndPassesTheRightOne) {
  HttpRoutes routes;
  routes.get("/data", require_bearer("read-token-0123456789", text("secret")));
  routes.get("/open", require_bearer("", text("public")));
  auto server = start(std::move(routes));
  const Reply none = request(server->port(), "GET", "/data");
  EXPECT_EQ(none.status, 401);
  EXPECT_NE(none.head.find("application/json"), std::string::npos);
  EXPECT_EQ(none.body.find("secret"), std::string::npos);
  EXPECT_EQ(request(server->port(), "GET", "/data", "Authorization: Bearer read-token-012345678\r\n").status, 403);
  EXPECT_EQ(request(server->port(), "GET", "/data", "Authorization: read-token-0123456789\r\n").status, 403);
  const Reply right = request(server->port(), "GET", "/data", "Authorization: Bearer read-token-0123456789\r\n");
  EXPECT_EQ(right.status, 200);
  EXPECT_EQ(right.body, "secret");
  EXPECT_EQ(request(server->port(), "GET", "/open").body, "public");  // no token configured: open
}

TEST(HttpServer, HandlerSeesAcceptLanguage) {
  HttpRoutes routes;
  routes.get("/lang", [](const HttpRequest& r) { return HttpResponse{200, "text/plain", std::string(r.accept_language)}; });
  auto server = start(std::move(routes));
  EXPECT_EQ(request(server->port(), "GET", "/lang", "Accept-Language: zh-CN,zh;q=0.9\r\n").body, "zh-CN,zh;q=0.9");
  EXPECT_EQ(request(server->port(), "GET", "/lang").body, "");
}

TEST(HttpServer, PortInUseIsAnErrorValue) {
  auto first = start(HttpRoutes{});
  HttpServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(first->port());
  auto second = HttpServer::start(options, HttpRoutes{});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen on 127.0.0.1:"), std::string::npos)
      << second.error().message;
}

TEST(HttpServer, UrlNamesTheBoundPort) {
  auto server = start(HttpRoutes{});
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()));
}

HttpHandler echo_path() {
  return [](const HttpRequest& r) { return HttpResponse{200, "text/plain", std::string(r.path)}; };
}

TEST(HttpServer, PathEscapesAreDecodedStrictly) {
  HttpRoutes routes;
  routes.get_prefix("/api/v1/cases/", echo_path());
  auto server = start(std::move(routes));
  EXPECT_EQ(request(server->port(), "GET", "/api/v1/cases/HK%2D1").body, "/api/v1/cases/HK-1");
  EXPECT_EQ(request(server->port(), "GET", "/api/v1/cases/%C3%A9").body, "/api/v1/cases/\xC3\xA9");
  for (const std::string bad : {"/api/v1/cases/%ff%fe", "/api/v1/cases/HK%00x", "/api/v1/cases/HK%0Ax",
                                "/api/v1/cases/%zz", "/api/v1/cases/HK%4", "/api/v1/cases/%C0%AF",
                                "/api/v1/cases/%ED%A0%80", "/api/v1/cases/%F4%90%80%80"}) {
    const auto reply = request(server->port(), "GET", bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
    EXPECT_TRUE(reply.body.starts_with("malformed path: ")) << bad << ": " << reply.body;
  }
}

TEST(HttpServer, DecodeRequestPathNamesTheProblem) {
  EXPECT_EQ(*decode_request_path("/a%20b"), "/a b");
  EXPECT_EQ(decode_request_path("/HK%00x").error().message, "control character at byte 3 of the path");
  EXPECT_EQ(decode_request_path("/x%7f").error().message, "control character at byte 2 of the path");
  EXPECT_EQ(decode_request_path("/%g0").error().message, "bad escape at byte 1 of the path");
  EXPECT_EQ(decode_request_path("/ab%").error().message, "bad escape at byte 3 of the path");
  EXPECT_EQ(decode_request_path("/%ff").error().message, "the path is not UTF-8");
  EXPECT_EQ(*decode_request_path("/%F4%8F%BF%BF"), "/\xF4\x8F\xBF\xBF");  // U+10FFFF, the last code point
}

TEST(HttpServer, ContentLengthThatIsNotANumberIsRefusedAtOnce) {
  HttpRoutes routes;
  routes.post("/-/do", text("done"));
  HttpServerOptions options;
  options.request_timeout_ms = 60'000;  // waiting for the body would show as a timeout of the test
  auto server = start(std::move(routes), options);
  // The answer comes at once. (civetweb then drains the announced body until
  // the request timeout before it closes, so the answer is read, not the close.)
  const auto answer = [&](const std::string& length) {
    const int fd = connect_from(server->port());
    send_text(fd, "POST /-/do HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n");
    return receive_answer(fd);
  };
  const auto started = SteadyClock::now();
  const auto reply = answer("1e12");
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body, "Content-Length must be a decimal number of bytes\n");
  const auto huge = answer("1000000000000");
  EXPECT_EQ(huge.status, 413);
  // civetweb refuses a negative length itself (411), before any handler.
  EXPECT_EQ(raw_request(server->port(), "POST /-/do HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n").status, 411);
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(10));
}

TEST(HttpServer, BodyAtTheLimitIsTakenAndOnePastIt413) {
  HttpRoutes routes;
  routes.post("/-/do", [](const HttpRequest& r) { return HttpResponse{200, "text/plain", std::to_string(r.body.size())}; });
  auto server = start(std::move(routes));
  EXPECT_EQ(request(server->port(), "POST", "/-/do", {}, std::string(kMaxRequestBody, 'x')).body,
            std::to_string(kMaxRequestBody));
  const auto over = raw_request(server->port(), "POST /-/do HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                                     std::to_string(kMaxRequestBody + 1) + "\r\n\r\n");
  EXPECT_EQ(over.status, 413);
}

TEST(HttpServer, BodyThatNeverArrivesIsGivenUpAtTheTimeoutAndNotActedOn) {
  int calls = 0;
  HealthState health;
  HttpRoutes routes;
  routes.post("/slow", [&calls](const HttpRequest&) {
    ++calls;
    return HttpResponse{200, "text/plain", "acted"};
  });
  add_health_routes(routes, health);
  HttpServerOptions options;
  options.threads = 2;
  options.request_timeout_ms = 300;
  auto server = start(std::move(routes), options);
  const auto started = SteadyClock::now();
  SlowClient client(server->port(), "127.0.0.1", "POST", "Content-Length: 10\r\n\r\nabc");
  // While it waits for the rest, the other thread still answers the probe.
  EXPECT_EQ(request(server->port(), "GET", "/livez").status, 200);
  const auto reply = client.give_up();
  EXPECT_EQ(reply.status, 408);
  EXPECT_EQ(reply.body, "request body incomplete after 3 of 10 bytes\n");
  EXPECT_EQ(calls, 0);
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(5));
}

TEST(HttpServer, SlowClientsDoNotStarveTheProbes) {
  HealthState health;
  HttpRoutes routes;
  add_health_routes(routes, health);
  auto server = start(std::move(routes));  // the defaults, as slawatch runs them
  // Six slow clients (the measured attack was six), each from its own address
  // so the per-client cap does not stop them.
  std::vector<std::unique_ptr<SlowClient>> slow;
  for (const char* source : {"127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14", "127.0.0.15", "127.0.0.16"}) {
    slow.push_back(std::make_unique<SlowClient>(server->port(), source));
  }
  const auto started = SteadyClock::now();
  for (int probe = 0; probe < 12; ++probe) {
    EXPECT_EQ(request(server->port(), "GET", "/livez").status, 200);
    EXPECT_EQ(request(server->port(), "GET", "/readyz").status, 503);
  }
  // Well inside the 5 s request timeout: no probe waited for a slow client to be dropped.
  EXPECT_LT(SteadyClock::now() - started, std::chrono::seconds(3));
}

TEST(HttpServer, ConnectionsPerClientAreCappedButProbesStillAnswer) {
  // Two requests from 127.0.0.1 held inside their handler until released: the
  // server counts a request from its headers in to its answer out, so with
  // both inside, the count is exactly at the cap (no guessing from timing).
  std::mutex mutex;
  std::condition_variable changed;
  int inside = 0;
  bool released = false;
  HealthState health;
  HttpRoutes routes;
  routes.get("/x", text("x"));
  routes.get("/hold", [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    ++inside;
    changed.notify_all();
    changed.wait(lock, [&] { return released; });
    return HttpResponse{200, "text/plain", "held"};
  });
  add_health_routes(routes, health);
  HttpServerOptions options;
  options.max_connections_per_client = 2;
  auto server = start(std::move(routes), options);
  std::vector<std::thread> holders;
  std::vector<int> held_status(2, 0);
  for (int i = 0; i < 2; ++i) {
    holders.emplace_back([&, i] { held_status[i] = request(server->port(), "GET", "/hold").status; });
  }
  {
    std::unique_lock lock(mutex);
    // EXPECT, not ASSERT: the holders must be released and joined whatever happens.
    EXPECT_TRUE(changed.wait_for(lock, std::chrono::seconds(20), [&] { return inside == 2; }));
  }
  const Reply refused = request(server->port(), "GET", "/x");
  EXPECT_EQ(refused.status, 429);  // the third from 127.0.0.1
  EXPECT_NE(refused.head.find("Retry-After: 1"), std::string::npos) << refused.head;
  EXPECT_EQ(request(server->port(), "GET", "/livez").status, 200);  // probes are never refused
  EXPECT_EQ(request(server->port(), "GET", "/x", {}, {}, "127.0.0.2").status, 200);  // another client
  {
    std::lock_guard lock(mutex);
    released = true;
  }
  changed.notify_all();
  for (auto& holder : holders) holder.join();
  EXPECT_EQ(held_status, (std::vector<int>{200, 200}));
  // The count drops as each handler returns, just after its answer left: poll, bounded.
  const auto reopened = SteadyClock::now() + std::chrono::seconds(10);
  int status = 0;
  while ((status = request(server->port(), "GET", "/x").status) == 429 && SteadyClock::now() < reopened) {
  }
  EXPECT_EQ(status, 200);
}

TEST(BearerToken, MatchesOnlyTheExactHeader) {
  const std::string token = "0123456789abcdef";
  EXPECT_TRUE(bearer_token_matches("Bearer 0123456789abcdef", token));
  EXPECT_FALSE(bearer_token_matches("Bearer 0123456789abcdeF", token));  // last byte
  EXPECT_FALSE(bearer_token_matches("bearer 0123456789abcdef", token));  // scheme
  EXPECT_FALSE(bearer_token_matches("Bearer 0123456789abcde", token));   // one short
  EXPECT_FALSE(bearer_token_matches("Bearer 0123456789abcdef0", token)); // one long
  EXPECT_FALSE(bearer_token_matches("Bearer 0123456789abcdef", ""));     // no token configured
  EXPECT_FALSE(bearer_token_matches("Bearer ", ""));
  EXPECT_FALSE(bearer_token_matches("", token));
}

}  // namespace
}  // namespace slawatch
