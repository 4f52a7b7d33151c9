// The libcurl client against a tiny HTTP server on a loopback socket: it
// POSTs JSON to /api/v2/alerts, and classifies 2xx / 5xx / 4xx / refused
// connections / timeouts as accepted / retry / rejected / retry / retry.
#include "alertmanager/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

namespace slawatch {
namespace {

// Answers each connection's one request with `status`, recording the request.
// `silent` keeps the connection open without answering (for timeouts).
class OneShotServer {
 public:
  OneShotServer(int status, bool silent = false) : status_(status), silent_(silent) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(::listen(fd_, 4), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~OneShotServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string request() const { return request_; }

 private:
  void serve() {
    const int conn = ::accept(fd_, nullptr, nullptr);
    if (conn < 0) return;
    char buffer[4096];
    // Read headers and the body (Content-Length) of one request.
    for (;;) {
      const auto n = ::recv(conn, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request_.append(buffer, static_cast<size_t>(n));
      const auto end = request_.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      const auto cl = request_.find("Content-Length: ");
      const size_t length = cl == std::string::npos ? 0 : std::stoul(request_.substr(cl + 16));
      if (request_.size() >= end + 4 + length) break;
    }
    if (!silent_) {
      const std::string body = status_ == 200 ? "" : "bad alert";
      const std::string response = "HTTP/1.1 " + std::to_string(status_) + " X\r\nContent-Length: " +
                                   std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      ::send(conn, response.data(), response.size(), MSG_NOSIGNAL);
    } else {
      ::recv(conn, buffer, sizeof buffer, 0);  // until the client gives up and closes
    }
    ::close(conn);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  int status_;
  bool silent_;
  std::string request_;
  std::thread thread_;
};

std::unique_ptr<CurlAlertmanagerClient> client_for(const std::string& url, Duration timeout = std::chrono::seconds{5}) {
  auto client = CurlAlertmanagerClient::create(url, timeout);
  EXPECT_TRUE(client.ok());
  return std::move(client).value();
}

TEST(CurlAlertmanagerClient, PostsJsonToTheV2AlertsEndpoint) {
  OneShotServer server(200);
  auto client = client_for(server.url() + "/");
  EXPECT_EQ(client->endpoint(), server.url() + "/api/v2/alerts");
  const PostResult result = client->post(R"([{"labels":{"alertname":"x"}}])");
  EXPECT_TRUE(result.accepted()) << result.message;
  EXPECT_TRUE(server.request().starts_with("POST /api/v2/alerts HTTP/1.1\r\n")) << server.request();
  EXPECT_NE(server.request().find("Content-Type: application/json"), std::string::npos);
  EXPECT_TRUE(server.request().ends_with(R"([{"labels":{"alertname":"x"}}])"));
}

TEST(CurlAlertmanagerClient, ServerErrorsAreRetriedClientErrorsRejected) {
  {
    OneShotServer server(503);
    const PostResult result = client_for(server.url())->post("[]");
    EXPECT_EQ(result.outcome, PostResult::Outcome::retry);
    EXPECT_EQ(result.reason, "http_5xx");
  }
  {
    OneShotServer server(400);
    const PostResult result = client_for(server.url())->post("[]");
    EXPECT_EQ(result.outcome, PostResult::Outcome::rejected);
    EXPECT_EQ(result.reason, "http_4xx");
    EXPECT_NE(result.message.find("HTTP 400: bad alert"), std::string::npos) << result.message;
  }
  {
    OneShotServer server(429);
    EXPECT_EQ(client_for(server.url())->post("[]").outcome, PostResult::Outcome::retry);
  }
}

TEST(CurlAlertmanagerClient, RefusedConnectionAndTimeoutAreRetried) {
  std::string closed_url;
  {
    OneShotServer server(200);
    closed_url = server.url();
    client_for(closed_url)->post("[]");  // let the server finish its one connection
  }
  const PostResult refused = client_for(closed_url)->post("[]");
  EXPECT_EQ(refused.outcome, PostResult::Outcome::retry);
  EXPECT_EQ(refused.reason, "connect");

  OneShotServer silent(200, true);
  const PostResult timed_out = client_for(silent.url(), std::chrono::milliseconds{200})->post("[]");
  EXPECT_EQ(timed_out.outcome, PostResult::Outcome::retry);
  EXPECT_EQ(timed_out.reason, "timeout");
}

TEST(CurlAlertmanagerClient, RefusesANonHttpUrl) {
  EXPECT_FALSE(CurlAlertmanagerClient::create("127.0.0.1:9093", std::chrono::seconds{1}).ok());
}

}  // namespace
}  // namespace slawatch
