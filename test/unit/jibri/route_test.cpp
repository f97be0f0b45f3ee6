#include "jibri/webhook.h"

#include <catch2/catch.hpp>

#include <string>

using namespace jpc::jibri;

namespace {

constexpr const char* kOwnNamespace = "jitsi";

}  // namespace

TEST_CASE("route root GET", "[route]") {
    const auto route = route_request("GET", "/", kOwnNamespace);
    REQUIRE(route.ok());
    CHECK(std::holds_alternative<RootRoute>(route.value()));
}

TEST_CASE("route root ignores query", "[route]") {
    const auto route = route_request("GET", "/?probe=1", kOwnNamespace);
    REQUIRE(route.ok());
    CHECK(std::holds_alternative<RootRoute>(route.value()));
}

TEST_CASE("route status short and long forms", "[route]") {
    struct Case {
        const char* target;
        StatusRoute expected;
    };
    const Case cases[] = {
        {"/webhook/jibri-6d9f7c5b8-x2k4q/v1/status", {"jitsi", "jibri-6d9f7c5b8-x2k4q"}},
        {"/webhook/recording/jibri-0/v1/status", {"recording", "jibri-0"}},
        {"/webhook/recording/jibri.0/v1/status?x=1", {"recording", "jibri.0"}},
    };
    for (const auto& c : cases) {
        INFO(c.target);
        const auto route = route_request("POST", c.target, kOwnNamespace);
        REQUIRE(route.ok());
        const auto* status = std::get_if<StatusRoute>(&route.value());
        REQUIRE(status != nullptr);
        CHECK(*status == c.expected);
    }
}

TEST_CASE("route rejected requests", "[route]") {
    struct Case {
        const char* method;
        std::string target;
        int status;
        const char* allow;
        const char* reason_part;
    };
    const Case cases[] = {
        // Unknown shapes: 404.
        {"GET", "/metrics", 404, "", "no route"},
        {"POST", "/webhook", 404, "", "no route"},
        {"POST", "/webhook/pod", 404, "", "no route"},
        {"POST", "/webhook/pod/v1", 404, "", "no route"},
        {"POST", "/webhook/pod/v2/status", 404, "", "no route"},
        {"POST", "/webhook/pod/v1/health", 404, "", "no route"},
        {"POST", "/webhook/a/b/c/v1/status", 404, "", "no route"},
        {"POST", "/hook/ns/pod/v1/status", 404, "", "no route"},
        {"POST", "webhook/pod/v1/status", 404, "", "no route"},
        {"POST", "", 404, "", "no route"},
        // Wrong method: 405 with Allow.
        {"POST", "/", 405, "GET", "method \"POST\""},
        {"GET", "/webhook/pod/v1/status", 405, "POST", "method \"GET\""},
        {"PUT", "/webhook/ns/pod/v1/status", 405, "POST", "method \"PUT\""},
        // Malformed paths: 400.
        {"POST", "/webhook/../v1/status", 400, "", "\"..\" segment"},
        {"POST", "/webhook/ns/../v1/status", 400, "", "\"..\" segment"},
        {"POST", "/webhook/./pod/v1/status", 400, "", "\"..\" segment"},
        {"POST", "/webhook//pod/v1/status", 400, "", "empty"},
        {"POST", "/webhook/pod/v1/status/", 400, "", "empty"},
        {"POST", "/webhook/ns%2Fpod/v1/status", 400, "", "percent-encoded"},
        {"POST", "/webhook/%2e%2e/v1/status", 400, "", "percent-encoded"},
        {"POST", "/webhook/caf\xc3\xa9/v1/status", 400, "", "printable ASCII"},
        {"POST", "/webhook/a b/v1/status", 400, "", "printable ASCII"},
        // Invalid names: 400.
        {"POST", "/webhook/Jibri-0/v1/status", 400, "", "invalid pod name"},
        {"POST", "/webhook/jibri_0/v1/status", 400, "", "invalid pod name"},
        {"POST", "/webhook/Recording/jibri-0/v1/status", 400, "", "invalid namespace"},
        {"POST", "/webhook/rec.ording/jibri-0/v1/status", 400, "", "invalid namespace"},
        {"POST", "/webhook/" + std::string(64, 'n') + "/jibri-0/v1/status", 400, "",
         "invalid namespace"},
        {"POST", "/webhook/" + std::string(254, 'p') + "/v1/status", 400, "", "invalid pod name"},
    };
    for (const auto& c : cases) {
        INFO(c.method << " " << c.target);
        const auto route = route_request(c.method, c.target, kOwnNamespace);
        REQUIRE_FALSE(route.ok());
        CHECK(route.error().status == c.status);
        CHECK(route.error().allow == c.allow);
        CHECK_THAT(route.error().reason, Catch::Contains(c.reason_part));
        CHECK(route.error().reason.find('\n') == std::string::npos);
    }
}

TEST_CASE("route long pod name accepted", "[route]") {
    const std::string pod(253, 'p');
    const auto route = route_request("POST", "/webhook/" + pod + "/v1/status", kOwnNamespace);
    REQUIRE(route.ok());
    CHECK(std::get<StatusRoute>(route.value()).pod_name == pod);
}

TEST_CASE("source ip matching", "[route]") {
    struct Case {
        const char* pod_ip;
        const char* remote_ip;
        bool matches;
    };
    const Case cases[] = {
        {"10.0.0.5", "10.0.0.5", true},
        {"10.0.0.5", "10.0.0.6", false},
        {"10.0.0.5", "::ffff:10.0.0.5", true},
        {"::ffff:10.0.0.5", "10.0.0.5", true},
        {"fd00::1", "fd00:0:0:0:0:0:0:1", true},
        {"fd00::1", "[fd00::1]", true},
        {"fd00::1", "fd00::2", false},
        {"", "10.0.0.5", false},
        {"10.0.0.5", "", false},
        {"10.0.0.5", "not-an-ip", false},
        {"10.0.0.5", "10.0.0.5:8080", false},
    };
    for (const auto& c : cases) {
        INFO(c.pod_ip << " vs " << c.remote_ip);
        CHECK(source_ip_matches(c.pod_ip, c.remote_ip) == c.matches);
    }
}
