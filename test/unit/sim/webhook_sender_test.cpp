// Tests of WebhookSender and the HTTP client under it, against TestServer on loopback.
// Each case's server listens on its own address (127.77.2N.x) with a kernel-chosen port.

#include "sim/http_client.h"
#include "sim/jibri_status.h"
#include "sim/webhook_sender.h"
#include "test_server.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

using jpc::sim::BusyStatus;
using jpc::sim::ExchangeError;
using jpc::sim::HealthStatus;
using jpc::sim::HttpResult;
using jpc::sim::WebhookSender;
using jpc::sim::testing::TestServer;
using jpc::sim::testing::TestServerOptions;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

TestServerOptions responding_with(std::string response) {
    TestServerOptions options;
    options.response = std::move(response);
    return options;
}

}  // namespace

TEST_CASE("WebhookSender posts from the source address") {
    TestServer server("127.77.20.1", responding_with("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
    std::string body = jpc::sim::webhook_body("jibri-0", {BusyStatus::Busy, HealthStatus::Healthy},
                                              "session-1");

    HttpResult result =
        WebhookSender().post_status("127.0.5.9", server.url("/webhook/jibri-0/v1/status"), body);
    auto received = server.join();

    INFO(result.message);
    REQUIRE(result.ok());
    CHECK(result.status_code == 200);
    CHECK(result.body == "ok");
    REQUIRE(received.size() == 1);
    CHECK(received[0].peer_address == "127.0.5.9");

    const std::string& request = received[0].bytes;
    CHECK(request.rfind("POST /webhook/jibri-0/v1/status HTTP/1.1\r\n", 0) == 0);
    CHECK_THAT(request, Catch::Contains("\r\nContent-Type: application/json\r\n"));
    CHECK_THAT(request, Catch::Contains(fmt::format("\r\nContent-Length: {}\r\n", body.size())));
    CHECK_THAT(request, Catch::Contains(fmt::format("\r\nHost: 127.77.20.1:{}\r\n", server.port())));
    CHECK(request.substr(request.find("\r\n\r\n") + 4) == body);
}

TEST_CASE("WebhookSender returns the status code") {
    TestServer server("127.77.21.1",
                      responding_with("HTTP/1.1 403 Forbidden\r\nContent-Length: 9\r\n\r\nforbidden"));
    HttpResult result = WebhookSender().post_status("127.0.5.10", server.url("/webhook/x/v1/status"), "{}");
    INFO(result.message);
    CHECK(result.ok());
    CHECK(result.status_code == 403);
    CHECK(result.body == "forbidden");
}

TEST_CASE("WebhookSender times out on a silent server") {
    TestServerOptions options;
    options.response = "";
    options.hold_open = true;
    TestServer server("127.77.22.1", options);

    auto start = Clock::now();
    HttpResult result =
        WebhookSender(1s, 300ms).post_status("127.0.5.11", server.url("/v1/status"), "{}");
    auto elapsed = Clock::now() - start;

    INFO(result.message);
    CHECK(result.error == ExchangeError::TimedOut);
    CHECK(result.status_code == 0);
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 2s);
}

TEST_CASE("WebhookSender reports connection refused") {
    // Nothing listens on 127.77.23.1: a TestServer bound there is closed before the post.
    std::string url;
    {
        TestServerOptions options;
        options.connections = 0;
        TestServer server("127.77.23.1", options);
        url = server.url("/v1/status");
    }
    HttpResult result = WebhookSender().post_status("127.0.5.12", url, "{}");
    INFO(result.message);
    CHECK(result.error == ExchangeError::ConnectionRefused);
    CHECK_THAT(result.message, Catch::Contains("127.0.5.12"));
}

TEST_CASE("WebhookSender rejects non-loopback addresses") {
    WebhookSender sender;
    CHECK_THROWS_AS(sender.post_status("127.0.5.9", "http://10.0.0.1:8080/v1/status", "{}"),
                    std::invalid_argument);
    CHECK_THROWS_AS(sender.post_status("127.0.5.9", "http://localhost:8080/v1/status", "{}"),
                    std::invalid_argument);
    CHECK_THROWS_AS(sender.post_status("127.0.5.9", "https://127.0.0.1:8080/v1/status", "{}"),
                    std::invalid_argument);
    CHECK_THROWS_AS(sender.post_status("192.168.0.5", "http://127.0.0.1:8080/v1/status", "{}"),
                    std::invalid_argument);
    CHECK_THROWS_AS(sender.send_raw("172.16.0.1", "http://127.0.0.1:8080", "x"),
                    std::invalid_argument);
}

TEST_CASE("WebhookSender sends raw bytes unchanged") {
    TestServerOptions options = responding_with("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    options.read_until_close = true;
    TestServer server("127.77.24.1", options);
    // A body longer than its Content-Length, and a wrong method.
    const std::string bytes =
        "DELETE /webhook/jibri-0/v1/status HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}{}{}";

    HttpResult result = WebhookSender().send_raw("127.0.5.13", server.url(), bytes, true);
    auto received = server.join();

    INFO(result.message);
    CHECK(result.status_code == 400);
    REQUIRE(received.size() == 1);
    CHECK(received[0].bytes == bytes);
    CHECK(received[0].peer_address == "127.0.5.13");
}

TEST_CASE("WebhookSender raw body that never ends") {
    // The server reads until end of stream, which never comes without half_close.
    TestServerOptions options = responding_with("");
    options.read_until_close = true;
    options.timeout = 2s;
    TestServer server("127.77.25.1", options);

    auto start = Clock::now();
    HttpResult result = WebhookSender(1s, 300ms).send_raw(
        "127.0.5.14", server.url(), "POST /v1/status HTTP/1.1\r\nContent-Length: 100000\r\n\r\n{\"a\"");
    auto elapsed = Clock::now() - start;

    INFO(result.message);
    CHECK(result.error == ExchangeError::TimedOut);
    CHECK(elapsed < 2s);
}

TEST_CASE("WebhookSender works from several threads") {
    constexpr int thread_count = 8;
    TestServerOptions options = responding_with("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    options.connections = thread_count;
    TestServer server("127.77.26.1", options);
    WebhookSender sender;

    std::vector<HttpResult> results(thread_count);
    std::vector<std::thread> threads;
    for (int i = 0; i < thread_count; ++i) {
        threads.emplace_back([&, i] {
            std::string source = fmt::format("127.0.6.{}", i + 1);
            results[static_cast<std::size_t>(i)] =
                sender.post_status(source, server.url("/v1/status"), "{}");
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    auto received = server.join();

    for (const auto& result : results) {
        INFO(result.message);
        CHECK(result.status_code == 200);
    }
    std::set<std::string> peers;
    for (const auto& request : received) {
        peers.insert(request.peer_address);
    }
    CHECK(peers.size() == thread_count);
    CHECK(peers.count("127.0.6.1") == 1);
    CHECK(peers.count("127.0.6.8") == 1);
}

TEST_CASE("HttpClient decodes chunked responses") {
    TestServer server("127.77.27.1",
                      responding_with("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n"));
    HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
    INFO(result.message);
    CHECK(result.ok());
    CHECK(result.body == "hello, world");
}

TEST_CASE("HttpClient skips interim responses") {
    TestServer server("127.77.28.1",
                      responding_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\n"
                                "Content-Length: 4\r\n\r\ndone"));
    HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
    INFO(result.message);
    CHECK(result.status_code == 201);
    CHECK(result.body == "done");
}

TEST_CASE("HttpClient reads a body up to end of stream") {
    TestServer server("127.77.29.1", responding_with("HTTP/1.0 200 OK\r\n\r\nuntil close"));
    HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
    INFO(result.message);
    CHECK(result.ok());
    CHECK(result.body == "until close");
}

TEST_CASE("HttpClient reports broken responses") {
    SECTION("not HTTP") {
        TestServer server("127.77.30.1", responding_with("SSH-2.0-OpenSSH\r\n\r\n"));
        HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
        CHECK(result.error == ExchangeError::InvalidResponse);
    }
    SECTION("closed before the status line") {
        TestServer server("127.77.30.2", responding_with(""));
        HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
        CHECK(result.error == ExchangeError::ClosedEarly);
        CHECK(result.status_code == 0);
    }
    SECTION("closed inside the body") {
        TestServer server("127.77.30.3", responding_with("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"));
        HttpResult result = jpc::sim::http_get("127.0.0.1", server.url("/"), 2s);
        CHECK(result.error == ExchangeError::ClosedEarly);
        CHECK(result.status_code == 200);
        CHECK(result.body == "abc");
    }
}

TEST_CASE("ClientConnection binds the source address") {
    TestServerOptions options;
    options.hold_open = true;
    options.timeout = 2s;
    TestServer server("127.77.31.1", options);

    jpc::sim::ClientConnection connection("127.0.7.3", "127.77.31.1", server.port());
    auto status = connection.connect(1s);
    INFO(status.message);
    REQUIRE(status.ok());
    CHECK(connection.local_endpoint().rfind("127.0.7.3:", 0) == 0);
}
