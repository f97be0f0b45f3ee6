#include "http/http_server.h"
#include "http/probe_client.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>

using jpc::http::HttpRequest;
using jpc::http::HttpResponse;
using jpc::http::HttpServer;
using jpc::http::HttpServerOptions;
using jpc::http::probe_all;
using jpc::http::ProbeOptions;
using jpc::http::ProbeRequest;
using jpc::http::ProbeResult;
using namespace std::chrono_literals;

namespace {

// A socket that listens on 127.0.0.1 but never accepts: connects complete through the
// backlog and then no byte ever comes back, like a hung jibri.
class SilentListener {
public:
    SilentListener() {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd_, 64) == 0);
        socklen_t length = sizeof address;
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
    }
    ~SilentListener() { ::close(fd_); }
    std::uint16_t port() const { return port_; }

private:
    int fd_ = -1;
    std::uint16_t port_ = 0;
};

// Returns a loopback port that nothing listens on (bound once, then released).
std::uint16_t closed_port() {
    SilentListener listener;
    return listener.port();
}

HttpServerOptions loopback() {
    HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 1;
    return options;
}

// A health handler that responds 200 with an empty JSON object.
HttpResponse empty_json(const HttpRequest&) { return HttpResponse{200, "application/json", "{}", {}}; }

}  // namespace

TEST_CASE("probe reads status and body", "[probe]") {
    HttpServer server(loopback(), [](const HttpRequest& request) {
        if (request.path != "/jibri/api/v1.0/health") return HttpResponse{404, "text/plain", "no\n", {}};
        return HttpResponse{200, "application/json", R"({"status":{"busyStatus":"IDLE"}})", {}};
    });
    server.start();

    auto results = probe_all({{"127.0.0.1", server.port(), "/jibri/api/v1.0/health"},
                              {"127.0.0.1", server.port(), "/other"}},
                             ProbeOptions{});
    REQUIRE(results.size() == 2);
    CHECK(results[0].outcome == ProbeResult::Outcome::answered);
    CHECK(results[0].status == 200);
    CHECK(results[0].body == R"({"status":{"busyStatus":"IDLE"}})");
    CHECK(results[1].outcome == ProbeResult::Outcome::answered);
    CHECK(results[1].status == 404);
}

TEST_CASE("probe times out a hung peer without delaying others", "[probe]") {
    SilentListener hung;
    HttpServer server(loopback(), empty_json);
    server.start();

    ProbeOptions options;
    options.timeout = 500ms;
    std::vector<ProbeRequest> requests;
    for (int i = 0; i < 20; ++i) {
        requests.push_back({"127.0.0.1", i % 2 == 0 ? hung.port() : server.port(), "/"});
    }

    auto started = std::chrono::steady_clock::now();
    auto results = probe_all(requests, options);
    auto took = std::chrono::steady_clock::now() - started;

    for (std::size_t i = 0; i < results.size(); ++i) {
        INFO("request " << i);
        if (i % 2 == 0) {
            CHECK(results[i].outcome == ProbeResult::Outcome::timed_out);
        } else {
            CHECK(results[i].outcome == ProbeResult::Outcome::answered);
            CHECK(results[i].elapsed < 400ms);
        }
    }
    // All hung requests run at once, so the whole batch takes about one timeout.
    CHECK(took < 1500ms);
}

TEST_CASE("probe reports results as they finish", "[probe]") {
    SilentListener hung;
    HttpServer server(loopback(), empty_json);
    server.start();

    ProbeOptions options;
    options.timeout = 1000ms;
    std::vector<ProbeRequest> requests{{"127.0.0.1", hung.port(), "/"},
                                       {"127.0.0.1", server.port(), "/"},
                                       {"127.0.0.1", hung.port(), "/"},
                                       {"127.0.0.1", server.port(), "/"}};
    struct Arrival {
        std::size_t index;
        ProbeResult::Outcome outcome;
        std::chrono::steady_clock::duration at;
    };
    std::vector<Arrival> arrivals;
    auto started = std::chrono::steady_clock::now();
    auto results = probe_all(requests, options, [&](std::size_t index, const ProbeResult& result) {
        arrivals.push_back({index, result.outcome, std::chrono::steady_clock::now() - started});
    });

    REQUIRE(arrivals.size() == 4);
    // The responses come first, long before the hung peers time out.
    for (std::size_t i = 0; i < 2; ++i) {
        INFO("arrival " << i);
        CHECK(arrivals[i].index % 2 == 1);
        CHECK(arrivals[i].outcome == ProbeResult::Outcome::answered);
        CHECK(arrivals[i].at < 800ms);
    }
    for (std::size_t i = 2; i < 4; ++i) {
        INFO("arrival " << i);
        CHECK(arrivals[i].index % 2 == 0);
        CHECK(arrivals[i].outcome == ProbeResult::Outcome::timed_out);
        CHECK(results[arrivals[i].index].outcome == ProbeResult::Outcome::timed_out);
    }
}

TEST_CASE("probe limits concurrency", "[probe]") {
    SilentListener hung;
    ProbeOptions options;
    options.timeout = 200ms;
    options.max_concurrency = 2;
    std::vector<ProbeRequest> requests(6, ProbeRequest{"127.0.0.1", hung.port(), "/"});

    auto started = std::chrono::steady_clock::now();
    auto results = probe_all(requests, options);
    auto took = std::chrono::steady_clock::now() - started;

    for (const auto& result : results) CHECK(result.outcome == ProbeResult::Outcome::timed_out);
    // Six requests two at a time: three rounds of the timeout.
    CHECK(took >= 580ms);
}

TEST_CASE("probe reports refused and invalid addresses", "[probe]") {
    auto results = probe_all({{"127.0.0.1", closed_port(), "/"}, {"not-an-ip", 80, "/"}}, ProbeOptions{});
    CHECK(results[0].outcome == ProbeResult::Outcome::connect_failed);
    CHECK_FALSE(results[0].error.empty());
    CHECK(results[1].outcome == ProbeResult::Outcome::connect_failed);
    CHECK(results[1].error.find("not-an-ip") != std::string::npos);
}

TEST_CASE("probe rejects an oversized response", "[probe]") {
    HttpServer server(loopback(), [](const HttpRequest&) {
        return HttpResponse{200, "application/json", std::string(100'000, 'x'), {}};
    });
    server.start();
    ProbeOptions options;
    options.max_response_bytes = 1024;
    auto results = probe_all({{"127.0.0.1", server.port(), "/"}}, options);
    CHECK(results[0].outcome == ProbeResult::Outcome::invalid_response);
}
