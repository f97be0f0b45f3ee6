#include "pool/objects.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;

TEST_CASE("pod parse full object", "[objects]") {
    const auto pod = parse_pod(nlohmann::json::parse(R"({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "jibri-6d9f7c5b8-x2k4q", "namespace": "jitsi", "uid": "u-1",
            "resourceVersion": "4711",
            "labels": {"app": "jibri", "jibri.dev/state": "idle"},
            "annotations": {"jibri.dev/busy-status": "BUSY", "numeric": 1},
            "deletionTimestamp": "2024-05-01T12:00:00Z",
            "ownerReferences": [{"kind": "ReplicaSet", "name": "jibri-6d9f7c5b8"}]
        },
        "spec": {"containers": [{"name": "jibri"}]},
        "status": {"phase": "Running", "podIP": "10.0.0.7"}
    })"));
    REQUIRE(pod.ok());
    const Pod& p = pod.value();
    CHECK(p.name == "jibri-6d9f7c5b8-x2k4q");
    CHECK(p.namespace_name == "jitsi");
    CHECK(p.uid == "u-1");
    CHECK(p.resource_version == "4711");
    CHECK(p.labels == Labels{{"app", "jibri"}, {"jibri.dev/state", "idle"}});
    CHECK(p.annotations == jpc::jibri::Annotations{{"jibri.dev/busy-status", "BUSY"}});
    CHECK(p.phase == "Running");
    CHECK(p.pod_ip == "10.0.0.7");
    REQUIRE(p.deletion_timestamp.has_value());
    CHECK(jpc::jibri::format_rfc3339(*p.deletion_timestamp) == "2024-05-01T12:00:00Z");
    CHECK(p.being_deleted());
    CHECK_FALSE(p.terminal());
}

TEST_CASE("pod parse minimal object", "[objects]") {
    const auto pod = parse_pod(nlohmann::json::parse(
        R"({"metadata": {"name": "p", "namespace": "n", "uid": "u"}})"));
    REQUIRE(pod.ok());
    CHECK(pod.value().labels.empty());
    CHECK(pod.value().phase.empty());
    CHECK_FALSE(pod.value().being_deleted());
}

TEST_CASE("pod terminal phases", "[objects]") {
    Pod pod;
    for (const char* phase : {"Succeeded", "Failed"}) {
        pod.phase = phase;
        CHECK(pod.terminal());
    }
    for (const char* phase : {"Pending", "Running", "Unknown", ""}) {
        pod.phase = phase;
        CHECK_FALSE(pod.terminal());
    }
}

TEST_CASE("pod parse missing fields", "[objects]") {
    struct Case {
        const char* text;
        const char* error_part;
    };
    const Case cases[] = {
        {R"([])", "expected a JSON object"},
        {R"({})", "missing metadata"},
        {R"({"metadata": {"namespace": "n", "uid": "u"}})", "missing metadata.name"},
        {R"({"metadata": {"name": "p", "uid": "u"}})", "missing metadata.namespace"},
        {R"({"metadata": {"name": "p", "namespace": "n"}})", "missing metadata.uid"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto pod = parse_pod(nlohmann::json::parse(c.text));
        REQUIRE_FALSE(pod.ok());
        CHECK_THAT(pod.error(), Catch::Contains(c.error_part));
    }
}

TEST_CASE("deployment parse", "[objects]") {
    const auto deployment = parse_deployment(nlohmann::json::parse(R"({
        "metadata": {"name": "jibri", "namespace": "jitsi", "uid": "d-1",
                     "resourceVersion": "9", "generation": 4},
        "spec": {"replicas": 3, "selector": {
            "matchLabels": {"app": "jibri"},
            "matchExpressions": [{"key": "jibri.dev/state", "operator": "NotIn",
                                  "values": ["busy"]}]}}
    })"));
    REQUIRE(deployment.ok());
    const Deployment& d = deployment.value();
    CHECK(d.name == "jibri");
    CHECK(d.namespace_name == "jitsi");
    CHECK(d.uid == "d-1");
    CHECK(d.resource_version == "9");
    CHECK(d.generation == 4);
    CHECK(d.replicas == 3);
    CHECK(d.selector.match_labels == Labels{{"app", "jibri"}});
    REQUIRE(d.selector.match_expressions.size() == 1);
    CHECK(d.selector.match_expressions[0].op == SelectorOperator::not_in);
    CHECK_FALSE(d.selector_error.has_value());
}

TEST_CASE("deployment replicas default", "[objects]") {
    const auto deployment = parse_deployment(nlohmann::json::parse(R"({
        "metadata": {"name": "jibri", "namespace": "jitsi", "uid": "d-1"},
        "spec": {"selector": {"matchLabels": {"app": "jibri"}}}})"));
    REQUIRE(deployment.ok());
    CHECK(deployment.value().replicas == 1);
}

TEST_CASE("deployment invalid selector kept", "[objects]") {
    const auto deployment = parse_deployment(nlohmann::json::parse(R"({
        "metadata": {"name": "jibri", "namespace": "jitsi", "uid": "d-1"},
        "spec": {"replicas": 1, "selector": {
            "matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]}}})"));
    REQUIRE(deployment.ok());
    REQUIRE(deployment.value().selector_error.has_value());
    CHECK_THAT(*deployment.value().selector_error,
               Catch::Contains("spec.selector: matchExpressions[0].operator: invalid value "
                               "\"Equals\""));
    CHECK(deployment.value().selector.empty());
}

TEST_CASE("deployment missing selector kept", "[objects]") {
    const auto deployment = parse_deployment(nlohmann::json::parse(
        R"({"metadata": {"name": "jibri", "namespace": "jitsi", "uid": "d-1"}, "spec": {}})"));
    REQUIRE(deployment.ok());
    CHECK(deployment.value().selector_error == "spec.selector is missing");
}

TEST_CASE("deployment negative replicas rejected", "[objects]") {
    const auto deployment = parse_deployment(nlohmann::json::parse(R"({
        "metadata": {"name": "jibri", "namespace": "jitsi", "uid": "d-1"},
        "spec": {"replicas": -1, "selector": {"matchLabels": {"app": "jibri"}}}})"));
    REQUIRE_FALSE(deployment.ok());
    CHECK_THAT(deployment.error(), Catch::Contains("spec.replicas -1 is out of range"));
}
