#include "pool/status.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;
using jpc::jibri::Timestamp;
using namespace std::chrono;

namespace {

const Timestamp kEarlier{sys_days{year{2024} / 5 / 1} + hours{10}};
const Timestamp kNow{sys_days{year{2024} / 5 / 1} + hours{12} + microseconds{250000}};

Condition condition(const char* type, const char* status, const char* reason,
                    Timestamp time = {}) {
    return Condition{type, status, reason, "message", time, 1};
}

}  // namespace

TEST_CASE("merge conditions keeps unchanged time", "[status]") {
    const std::vector<Condition> previous{condition("Ready", "True", "SparePodsIdle", kEarlier)};
    std::vector<Condition> desired{condition("Ready", "True", "SparePodsIdle")};
    desired[0].message = "new message";
    desired[0].observed_generation = 2;
    const auto merged = merge_conditions(previous, desired, kNow);
    REQUIRE(merged.size() == 1);
    CHECK(merged[0].last_transition_time == kEarlier);
    CHECK(merged[0].message == "new message");
    CHECK(merged[0].observed_generation == 2);
}

TEST_CASE("merge conditions reason change keeps time", "[status]") {
    const std::vector<Condition> previous{
        condition("Degraded", "True", "DeploymentNotFound", kEarlier)};
    const auto merged =
        merge_conditions(previous, {condition("Degraded", "True", "InvalidSelector")}, kNow);
    CHECK(merged[0].last_transition_time == kEarlier);
    CHECK(merged[0].reason == "InvalidSelector");
}

TEST_CASE("merge conditions status change sets now", "[status]") {
    const std::vector<Condition> previous{condition("Ready", "True", "SparePodsIdle", kEarlier)};
    const auto merged =
        merge_conditions(previous, {condition("Ready", "False", "WaitingForIdlePods")}, kNow);
    CHECK(merged[0].last_transition_time == floor<seconds>(kNow));
}

TEST_CASE("merge conditions new type sets now", "[status]") {
    const auto merged = merge_conditions({}, {condition("Degraded", "False", "AsExpected")}, kNow);
    CHECK(merged[0].last_transition_time == floor<seconds>(kNow));
}

TEST_CASE("status json round trip", "[status]") {
    PoolStatus status;
    status.observed_generation = 7;
    status.replicas = 2;
    status.idle = 1;
    status.busy = 3;
    status.expiring = 1;
    status.conditions = {condition("Ready", "False", "WaitingForIdlePods", kEarlier),
                         condition("Degraded", "False", "AsExpected", kEarlier)};
    status.last_sweep_time = kEarlier;

    const auto json = to_json(status);
    CHECK(json["conditions"][0]["lastTransitionTime"] == "2024-05-01T10:00:00Z");
    CHECK(json["conditions"][0]["observedGeneration"] == 1);
    CHECK(json["lastSweepTime"] == "2024-05-01T10:00:00Z");
    CHECK(parse_pool_status(json) == status);
}

TEST_CASE("status parse tolerates junk", "[status]") {
    const auto status = parse_pool_status(nlohmann::json::parse(R"({
        "replicas": "two", "idle": -1, "busy": 2,
        "conditions": [5, {"type": "Ready", "status": "True", "lastTransitionTime": "bad"}],
        "lastSweepTime": 3})"));
    CHECK(status.replicas == 0);
    CHECK(status.idle == 0);
    CHECK(status.busy == 2);
    REQUIRE(status.conditions.size() == 1);
    CHECK(status.conditions[0].type == "Ready");
    CHECK(status.conditions[0].last_transition_time == Timestamp{});
    CHECK_FALSE(status.last_sweep_time.has_value());
    CHECK(parse_pool_status(nlohmann::json()) == PoolStatus{});
}

TEST_CASE("status patch omits sweep time", "[status]") {
    PoolStatus status;
    status.replicas = 2;
    status.last_sweep_time = kEarlier;
    const auto patch = build_status_patch(status);
    CHECK(patch["status"]["replicas"] == 2);
    CHECK_FALSE(patch["status"].contains("lastSweepTime"));
}

TEST_CASE("sweep time patch", "[status]") {
    CHECK(build_sweep_time_patch(kNow) ==
          nlohmann::json::parse(R"({"status": {"lastSweepTime": "2024-05-01T12:00:00Z"}})"));
}

TEST_CASE("status find condition", "[status]") {
    PoolStatus status;
    status.conditions = {condition("Ready", "True", "SparePodsIdle")};
    REQUIRE(status.find_condition("Ready") != nullptr);
    CHECK(status.find_condition("Ready")->reason == "SparePodsIdle");
    CHECK(status.find_condition("Degraded") == nullptr);
}
