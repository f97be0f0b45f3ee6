#include "jibri/annotations.h"

#include <catch2/catch.hpp>

using namespace jpc::jibri;
using namespace std::chrono;

namespace {

const Timestamp kTime{sys_days{year{2024} / 5 / 1} + hours{12} + microseconds{123456}};

}  // namespace

TEST_CASE("report patch body", "[annotations]") {
    const StatusReport report{BusyStatus::busy, HealthStatus::unhealthy, "jibri-0"};
    const auto patch = build_report_patch(report, kTime);
    const nlohmann::json expected = nlohmann::json::parse(R"({"metadata":{"annotations":{
        "jibri.dev/busy-status":"BUSY",
        "jibri.dev/health-status":"UNHEALTHY",
        "jibri.dev/reported-at":"2024-05-01T12:00:00.123456Z"}}})");
    CHECK(patch == expected);
}

TEST_CASE("recorded report round trip", "[annotations]") {
    const StatusReport report{BusyStatus::expired, HealthStatus::healthy, std::nullopt};
    const auto patch = build_report_patch(report, kTime);
    Annotations annotations;
    for (const auto& [key, value] : patch["metadata"]["annotations"].items()) {
        annotations[key] = value.get<std::string>();
    }
    const auto recorded = read_recorded_report(annotations);
    REQUIRE(recorded.has_value());
    CHECK(recorded->busy == BusyStatus::expired);
    CHECK(recorded->health == HealthStatus::healthy);
    CHECK(recorded->reported_at == kTime);
}

TEST_CASE("recorded report missing or unknown", "[annotations]") {
    CHECK_FALSE(read_recorded_report({}).has_value());
    CHECK_FALSE(read_recorded_report({{"jibri.dev/busy-status", "busy"}}).has_value());

    const auto partial = read_recorded_report(
        {{"jibri.dev/busy-status", "IDLE"}, {"jibri.dev/reported-at", "yesterday"}});
    REQUIRE(partial.has_value());
    CHECK(partial->busy == BusyStatus::idle);
    CHECK_FALSE(partial->health.has_value());
    CHECK_FALSE(partial->reported_at.has_value());
}

TEST_CASE("stale report ordering", "[annotations]") {
    const Annotations recorded{{"jibri.dev/busy-status", "BUSY"},
                               {"jibri.dev/reported-at", "2024-05-01T12:00:00.123456Z"}};
    struct Case {
        const char* name;
        Timestamp reported_at;
        bool stale;
    };
    const Case cases[] = {
        {"older by 1us", kTime - microseconds{1}, true},
        {"older by 1h", kTime - hours{1}, true},
        {"equal", kTime, false},
        {"newer by 1us", kTime + microseconds{1}, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(is_stale_report(recorded, c.reported_at) == c.stale);
    }
}

TEST_CASE("stale report without recorded time", "[annotations]") {
    CHECK_FALSE(is_stale_report({}, kTime));
    CHECK_FALSE(is_stale_report({{"jibri.dev/reported-at", "garbage"}}, kTime));
}
