// Tests of the wire bodies and the health server's request and response text. No sockets.

#include "sim/http_message.h"
#include "sim/jibri_status.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <string>

using jpc::sim::BusyStatus;
using jpc::sim::HealthStatus;
using jpc::sim::JibriStatus;
using jpc::sim::detail::format_response;
using jpc::sim::detail::parse_request_line;

namespace {

// Reads a sample body from test/data/sim, in the shape that Jibri sends and serves.
nlohmann::json read_sample(const std::string& name) {
    std::string path = std::string(JPC_TEST_DATA_DIR) + "/sim/" + name;
    std::ifstream file(path);
    INFO(path);
    REQUIRE(file.good());
    std::stringstream contents;
    contents << file.rdbuf();
    return nlohmann::json::parse(contents.str());
}

}  // namespace

TEST_CASE("health_body matches the jibri sample") {
    std::string body = jpc::sim::health_body({BusyStatus::Busy, HealthStatus::Healthy});
    CHECK(nlohmann::json::parse(body) == read_sample("health-busy.json"));
}

TEST_CASE("webhook_body matches the jibri samples") {
    JibriStatus busy{BusyStatus::Busy, HealthStatus::Healthy};
    JibriStatus expired{BusyStatus::Expired, HealthStatus::Healthy};
    JibriStatus idle{BusyStatus::Idle, HealthStatus::Healthy};
    const std::string id = "jibri-6d9f7c5b8-x2k4q";

    CHECK(nlohmann::json::parse(jpc::sim::webhook_body(id, busy, "a1b2c3d4")) ==
          read_sample("webhook-busy.json"));
    CHECK(nlohmann::json::parse(jpc::sim::webhook_body(id, expired)) ==
          read_sample("webhook-expired.json"));
    CHECK(nlohmann::json::parse(jpc::sim::legacy_webhook_body(id, idle)) ==
          read_sample("webhook-idle-legacy.json"));
}

TEST_CASE("status enums use wire spellings") {
    CHECK(jpc::sim::to_string(BusyStatus::Idle) == "IDLE");
    CHECK(jpc::sim::to_string(BusyStatus::Busy) == "BUSY");
    CHECK(jpc::sim::to_string(BusyStatus::Expired) == "EXPIRED");
    CHECK(jpc::sim::to_string(HealthStatus::Healthy) == "HEALTHY");
    CHECK(jpc::sim::to_string(HealthStatus::Unhealthy) == "UNHEALTHY");
}

TEST_CASE("parse_request_line reads method and path") {
    auto line = parse_request_line("GET /jibri/api/v1.0/health?verbose=1 HTTP/1.1\r\nHost: x");
    REQUIRE(line.has_value());
    CHECK(line->method == "GET");
    CHECK(line->path == "/jibri/api/v1.0/health");

    auto old_version = parse_request_line("POST /v1/status HTTP/1.0");
    REQUIRE(old_version.has_value());
    CHECK(old_version->method == "POST");
}

TEST_CASE("parse_request_line rejects malformed lines") {
    auto head = GENERATE(as<std::string>{}, "", "GET", "GET /", "GET / HTTP/2", "GET health HTTP/1.1",
                         "get / HTTP/1.1", " / HTTP/1.1", "GET  / HTTP/1.1", "GET / HTTP/1.1 extra");
    INFO(head);
    CHECK_FALSE(parse_request_line(head).has_value());
}

TEST_CASE("format_response frames the body") {
    std::string response = format_response(405, "text/plain", "no", "Allow: GET\r\n");
    CHECK(response ==
          "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
          "Connection: close\r\nAllow: GET\r\n\r\nno");
}
