#include "jibri/health.h"
#include "jibri/webhook.h"
#include "samples.h"

#include <catch2/catch.hpp>

#include <string>

using namespace jpc::jibri;
using jpc::test::read_jibri_sample;

TEST_CASE("webhook body samples", "[body]") {
    struct Case {
        const char* file;
        BusyStatus busy;
    };
    const Case cases[] = {
        {"webhook-busy.json", BusyStatus::busy},
        {"webhook-expired.json", BusyStatus::expired},
        {"webhook-idle-legacy.json", BusyStatus::idle},
    };
    for (const auto& c : cases) {
        INFO(c.file);
        const auto report = parse_webhook_body(read_jibri_sample(c.file));
        REQUIRE(report.ok());
        CHECK(report.value().busy == c.busy);
        CHECK(report.value().health == HealthStatus::healthy);
        CHECK(report.value().jibri_id == "jibri-6d9f7c5b8-x2k4q");
    }
}

TEST_CASE("health body samples", "[body]") {
    const auto busy = parse_health_body(read_jibri_sample("health-busy.json"));
    REQUIRE(busy.ok());
    CHECK(busy.value().busy == BusyStatus::busy);
    CHECK(busy.value().health == HealthStatus::healthy);
    CHECK_FALSE(busy.value().jibri_id.has_value());

    const auto unhealthy = parse_health_body(read_jibri_sample("health-unhealthy.json"));
    REQUIRE(unhealthy.ok());
    CHECK(unhealthy.value().busy == BusyStatus::idle);
    CHECK(unhealthy.value().health == HealthStatus::unhealthy);
}

TEST_CASE("webhook body rejected", "[body]") {
    struct Case {
        const char* name;
        std::string body;
        const char* reason_part;
    };
    const std::string status_ok =
        R"("status":{"busyStatus":"IDLE","health":{"healthStatus":"HEALTHY"}})";
    const Case cases[] = {
        {"empty", "", "invalid JSON"},
        {"truncated", R"({"jibriId":"a",)", "invalid JSON"},
        {"trailing garbage", R"({"jibriId":"a",)" + status_ok + "} x", "invalid JSON"},
        {"invalid utf-8", "{\"jibriId\":\"\xff\"," + status_ok + "}", "invalid JSON"},
        {"array root", "[]", "must be a JSON object"},
        {"string root", R"("IDLE")", "must be a JSON object"},
        {"missing jibriId", "{" + status_ok + "}", "missing field jibriId"},
        {"null jibriId", R"({"jibriId":null,)" + status_ok + "}", "missing field jibriId"},
        {"numeric jibriId", R"({"jibriId":7,)" + status_ok + "}", "jibriId must be a string"},
        {"empty jibriId", R"({"jibriId":"",)" + status_ok + "}", "jibriId is empty"},
        {"missing status", R"({"jibriId":"a"})", "missing field status"},
        {"status string", R"({"jibriId":"a","status":"IDLE"})", "status must be an object"},
        {"missing busyStatus",
         R"({"jibriId":"a","status":{"health":{"healthStatus":"HEALTHY"}}})",
         "missing field status.busyStatus"},
        {"lowercase busyStatus",
         R"({"jibriId":"a","status":{"busyStatus":"busy","health":{"healthStatus":"HEALTHY"}}})",
         "invalid status.busyStatus \"busy\""},
        {"unknown busyStatus",
         R"({"jibriId":"a","status":{"busyStatus":"OFFLINE","health":{"healthStatus":"HEALTHY"}}})",
         "expected IDLE, BUSY or EXPIRED"},
        {"numeric busyStatus",
         R"({"jibriId":"a","status":{"busyStatus":1,"health":{"healthStatus":"HEALTHY"}}})",
         "status.busyStatus must be a string"},
        {"missing health", R"({"jibriId":"a","status":{"busyStatus":"IDLE"}})",
         "missing field status.health"},
        {"missing healthStatus",
         R"({"jibriId":"a","status":{"busyStatus":"IDLE","health":{}}})",
         "missing field status.health.healthStatus"},
        {"unknown healthStatus",
         R"({"jibriId":"a","status":{"busyStatus":"IDLE","health":{"healthStatus":"OK"}}})",
         "expected HEALTHY or UNHEALTHY"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto report = parse_webhook_body(c.body);
        REQUIRE_FALSE(report.ok());
        CHECK(report.error().status == 400);
        CHECK_THAT(report.error().reason, Catch::Contains(c.reason_part));
        CHECK(report.error().reason.find('\n') == std::string::npos);
    }
}

TEST_CASE("webhook body unknown fields ignored", "[body]") {
    const std::string body =
        R"({"jibriId":"j","sessionId":{"nested":[1,2,3]},"extra":true,)"
        R"("status":{"busyStatus":"BUSY","other":null,)"
        R"("health":{"healthStatus":"UNHEALTHY","details":{"a":{"b":{"c":"d"}}}}}})";
    const auto report = parse_webhook_body(body);
    REQUIRE(report.ok());
    CHECK(report.value().busy == BusyStatus::busy);
    CHECK(report.value().health == HealthStatus::unhealthy);
}

TEST_CASE("webhook body size limit", "[body]") {
    const std::string prefix =
        R"({"jibriId":"j","status":{"busyStatus":"IDLE","health":{"healthStatus":"HEALTHY"}},"pad":")";
    const std::string suffix = "\"}";
    const std::string at_limit =
        prefix + std::string(kMaxBodyBytes - prefix.size() - suffix.size(), 'x') + suffix;
    REQUIRE(at_limit.size() == kMaxBodyBytes);
    CHECK(parse_webhook_body(at_limit).ok());

    const std::string over_limit =
        prefix + std::string(kMaxBodyBytes + 1 - prefix.size() - suffix.size(), 'x') + suffix;
    const auto report = parse_webhook_body(over_limit);
    REQUIRE_FALSE(report.ok());
    CHECK(report.error().status == 413);
}

TEST_CASE("webhook body deep nesting rejected", "[body]") {
    const int depth = 10000;
    const std::string arrays = std::string(depth, '[') + std::string(depth, ']');
    const auto as_array = parse_webhook_body(arrays);
    REQUIRE_FALSE(as_array.ok());
    CHECK(as_array.error().status == 400);
    CHECK_THAT(as_array.error().reason, Catch::Contains("nesting"));

    std::string objects;
    for (int i = 0; i < depth; ++i) {
        objects += R"({"a":)";
    }
    objects += "1" + std::string(depth, '}');
    const auto as_object = parse_health_body(objects);
    REQUIRE_FALSE(as_object.ok());
    CHECK(as_object.error().status == 400);
    CHECK_THAT(as_object.error().reason, Catch::Contains("nesting"));
}

TEST_CASE("webhook body depth at limit", "[body]") {
    // The report itself nests 3 deep; "details" adds the rest up to kMaxJsonDepth.
    const int extra = kMaxJsonDepth - 3;
    std::string details;
    for (int i = 0; i < extra; ++i) {
        details += R"({"d":)";
    }
    details += "0" + std::string(extra, '}');
    const std::string body = R"({"jibriId":"j","status":{"busyStatus":"IDLE","health":)"
                             R"({"healthStatus":"HEALTHY","details":)" +
                             details + "}}}";
    CHECK(parse_webhook_body(body).ok());

    const std::string deeper = R"({"jibriId":"j","status":{"busyStatus":"IDLE","health":)"
                               R"({"healthStatus":"HEALTHY","details":[)" +
                               details + "]}}}";
    const auto rejected = parse_webhook_body(deeper);
    REQUIRE_FALSE(rejected.ok());
    CHECK_THAT(rejected.error().reason, Catch::Contains("nesting"));
}

TEST_CASE("webhook body brackets inside strings", "[body]") {
    // Brackets and escaped quotes inside strings do not count as nesting.
    const std::string body = R"({"jibriId":"[[[[\"{{{{","status":{"busyStatus":"IDLE",)"
                             R"("health":{"healthStatus":"HEALTHY","details":")" +
                             std::string(100, '[') + R"("}}})";
    const auto report = parse_webhook_body(body);
    REQUIRE(report.ok());
    CHECK(report.value().jibri_id == "[[[[\"{{{{");
}

TEST_CASE("body number overflow rejected", "[body]") {
    // nlohmann::json throws out_of_range rather than parse_error for a number beyond a
    // double's range. fuzz-webhook found the first body. The parsers must return 400.
    const std::string status_ok =
        R"("status":{"busyStatus":"IDLE","health":{"healthStatus":"HEALTHY"}})";
    const std::string bodies[] = {
        "1e400{\"jibriId\":\"\":{\"busyStatus\":\"busy\"}}",
        R"({"jibriId":"jibri-a","sessionId":1e400,)" + status_ok + "}",
        R"({"jibriId":"jibri-a","sessionId":-1e400,)" + status_ok + "}",
    };
    for (const auto& body : bodies) {
        INFO(body);
        const auto webhook = parse_webhook_body(body);
        REQUIRE_FALSE(webhook.ok());
        CHECK(webhook.error().status == 400);
        CHECK(webhook.error().reason == "invalid JSON: a number is out of range");

        const auto health = parse_health_body(body);
        REQUIRE_FALSE(health.ok());
        CHECK(health.error().status == 400);
    }
}
