#include "pool/jibripool.h"

#include <catch2/catch.hpp>

#include <string>

using namespace jpc::pool;

namespace {

nlohmann::json minimal_pool() {
    return nlohmann::json::parse(R"({
        "apiVersion": "jibri.dev/v1alpha1", "kind": "JibriPool",
        "metadata": {"name": "recorders", "namespace": "jitsi", "uid": "p-1",
                     "resourceVersion": "12", "generation": 2},
        "spec": {"deploymentName": "jibri", "spare": 3,
                 "busyLabels": {"jibri.dev/state": "busy"}}
    })");
}

}  // namespace

TEST_CASE("pool parse applies defaults", "[jibripool]") {
    const auto pool = parse_jibri_pool(minimal_pool());
    REQUIRE(pool.ok());
    const JibriPool& p = pool.value();
    CHECK(p.name == "recorders");
    CHECK(p.namespace_name == "jitsi");
    CHECK(p.uid == "p-1");
    CHECK(p.resource_version == "12");
    CHECK(p.generation == 2);
    CHECK(p.spec.deployment_name == "jibri");
    CHECK(p.spec.spare == 3);
    CHECK_FALSE(p.spec.max_pods.has_value());
    CHECK(p.spec.busy_labels == Labels{{"jibri.dev/state", "busy"}});
    CHECK(p.spec.sweep_interval_seconds == 300);
    CHECK(p.spec.health.port == 2222);
    CHECK(p.spec.health.path == "/jibri/api/v1.0/health");
    CHECK(p.spec.health.timeout_seconds == 2);
    CHECK(p.spec.webhook.verify_source_ip);
    CHECK(p.status == PoolStatus{});
}

TEST_CASE("pool parse all fields", "[jibripool]") {
    auto object = minimal_pool();
    object["spec"]["maxPods"] = 10;
    object["spec"]["spare"] = 0;
    object["spec"]["sweepIntervalSeconds"] = 5;
    object["spec"]["health"] = {{"port", 8080}, {"path", "/health"}, {"timeoutSeconds", 7}};
    object["spec"]["webhook"] = {{"verifySourceIP", false}};
    object["status"] = {{"observedGeneration", 2}, {"busy", 4}};
    const auto pool = parse_jibri_pool(object);
    REQUIRE(pool.ok());
    const PoolSpec& spec = pool.value().spec;
    CHECK(spec.max_pods == 10);
    CHECK(spec.spare == 0);
    CHECK(spec.sweep_interval_seconds == 5);
    CHECK(spec.health == HealthCheck{8080, "/health", 7});
    CHECK_FALSE(spec.webhook.verify_source_ip);
    CHECK(pool.value().status.observed_generation == 2);
    CHECK(pool.value().status.busy == 4);
}

TEST_CASE("pool parse invalid fields", "[jibripool]") {
    struct Case {
        const char* name;
        nlohmann::json::json_pointer field;
        nlohmann::json value;
        const char* error_part;
    };
    using ptr = nlohmann::json::json_pointer;
    const Case cases[] = {
        {"spare negative", ptr("/spec/spare"), -1,
         "spec.spare: invalid value -1; set a whole number >= 0"},
        {"spare string", ptr("/spec/spare"), "3",
         "spec.spare: expected an integer, got string \"3\""},
        {"spare fraction", ptr("/spec/spare"), 1.5, "spec.spare: expected an integer"},
        {"spare too large", ptr("/spec/spare"), 4294967296LL, "spec.spare: invalid value"},
        {"maxPods negative", ptr("/spec/maxPods"), -2, "spec.maxPods: invalid value -2"},
        {"deploymentName uppercase", ptr("/spec/deploymentName"), "Jibri",
         "spec.deploymentName: \"Jibri\" is not a valid DNS-1123 subdomain"},
        {"deploymentName number", ptr("/spec/deploymentName"), 5,
         "spec.deploymentName: expected a string"},
        {"busyLabels empty", ptr("/spec/busyLabels"), nlohmann::json::object(),
         "spec.busyLabels: expected a non-empty object"},
        {"busyLabels value number", ptr("/spec/busyLabels"), {{"state", 1}},
         "spec.busyLabels.state: expected a string"},
        {"busyLabels bad key", ptr("/spec/busyLabels"), {{"bad key", "x"}},
         "label key name \"bad key\""},
        {"busyLabels bad value", ptr("/spec/busyLabels"), {{"state", "-busy"}},
         "spec.busyLabels.state: label value \"-busy\""},
        {"sweep too short", ptr("/spec/sweepIntervalSeconds"), 4,
         "spec.sweepIntervalSeconds: invalid value 4; set a whole number >= 5"},
        {"health port zero", ptr("/spec/health/port"), 0,
         "spec.health.port: invalid value 0; set a whole number from 1 to 65535"},
        {"health port high", ptr("/spec/health/port"), 70000, "spec.health.port: invalid value"},
        {"health path relative", ptr("/spec/health/path"), "health",
         "spec.health.path: invalid value \"health\""},
        {"health timeout zero", ptr("/spec/health/timeoutSeconds"), 0,
         "spec.health.timeoutSeconds: invalid value 0"},
        {"health not object", ptr("/spec/health"), 5, "spec.health: expected an object"},
        {"verifySourceIP string", ptr("/spec/webhook/verifySourceIP"), "yes",
         "spec.webhook.verifySourceIP: expected true or false"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        auto object = minimal_pool();
        object[c.field] = c.value;
        const auto pool = parse_jibri_pool(object);
        REQUIRE_FALSE(pool.ok());
        CHECK_THAT(pool.error(), Catch::StartsWith("JibriPool jitsi/recorders: "));
        CHECK_THAT(pool.error(), Catch::Contains(c.error_part));
    }
}

TEST_CASE("pool parse missing required fields", "[jibripool]") {
    auto object = minimal_pool();
    object["spec"].erase("deploymentName");
    object["spec"].erase("spare");
    object["spec"].erase("busyLabels");
    const auto pool = parse_jibri_pool(object);
    REQUIRE_FALSE(pool.ok());
    CHECK_THAT(pool.error(), Catch::Contains("spec.deploymentName: missing"));
    CHECK_THAT(pool.error(), Catch::Contains("spec.spare: missing"));
    CHECK_THAT(pool.error(), Catch::Contains("spec.busyLabels: missing"));
}

TEST_CASE("pool parse missing spec or metadata", "[jibripool]") {
    auto no_spec = minimal_pool();
    no_spec.erase("spec");
    const auto without_spec = parse_jibri_pool(no_spec);
    REQUIRE_FALSE(without_spec.ok());
    CHECK_THAT(without_spec.error(), Catch::Contains("spec: missing"));

    auto no_name = minimal_pool();
    no_name["metadata"].erase("name");
    const auto without_name = parse_jibri_pool(no_name);
    REQUIRE_FALSE(without_name.ok());
    CHECK_THAT(without_name.error(), Catch::Contains("missing metadata.name"));
}
