// The embedded HTTP server, through real requests on a loopback port picked
// by the kernel: routing (exact over prefix, longest prefix), methods, HEAD,
// errors from handlers, the health endpoints and start-up failures; the
// bearer-token guard of the read routes and the Accept-Language header.
#include "http/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace slawatch {
namespace {

struct Reply {
  int status = 0;
  std::string head;
  std::string body;
};

// One request over a fresh connection; the server closes it after the reply.
Reply request(uint16_t port, const std::string& method, const std::string& path, const std::string& headers = {},
              const std::string& body = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string text = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + headers +
                           "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  EXPECT_EQ(::send(fd, text.data(), text.size(), 0), static_cast<ssize_t>(text.size()));
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

HttpHandler text(std::string body) {
  return [body = std::move(body)](const HttpRequest&) { return HttpResponse{200, "text/plain", body}; };
}

std::unique_ptr<HttpServer> start(HttpRoutes routes) {
  HttpServerOptions options;
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

TEST(HttpServer, StatusAndContentTypeComeFromTheHandler) {
  HttpRoutes routes;
  routes.get("/teapot", [](const HttpRequest&) { return HttpResponse{503, "application/json", "{}"}; });
  routes.get("/throws", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
  auto server = start(std::move(routes));
  const auto reply = request(server->port(), "GET", "/teapot");
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.head.find("Content-Type: application/json"), std::string::npos) << reply.head;
  const auto thrown = request(server->port(), "GET", "/throws");
  EXPECT_EQ(thrown.status, 500);
  EXPECT_NE(thrown.body.find("boom"), std::string::npos);
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

}  // namespace
}  // namespace slawatch
