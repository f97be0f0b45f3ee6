#include "pool/membership.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;

namespace {

LabelSelector parse(const char* text) {
    auto selector = parse_label_selector(nlohmann::json::parse(text));
    if (!selector) {
        FAIL("selector did not parse: " << selector.error());
    }
    return selector.value();
}

Pod pod_with(Labels labels) {
    Pod pod;
    pod.name = "p";
    pod.namespace_name = "jitsi";
    pod.uid = "u";
    pod.labels = std::move(labels);
    return pod;
}

}  // namespace

TEST_CASE("busy labels static check", "[membership]") {
    struct Case {
        const char* name;
        const char* selector;
        Labels busy_labels;
        bool isolates;
    };
    const Case cases[] = {
        {"matchLabels other value", R"({"matchLabels": {"app": "jibri", "state": "idle"}})",
         {{"state", "busy"}}, true},
        {"matchLabels same value", R"({"matchLabels": {"app": "jibri", "state": "idle"}})",
         {{"state", "idle"}}, false},
        {"key not in selector", R"({"matchLabels": {"app": "jibri"}})", {{"state", "busy"}},
         false},
        {"In excludes value",
         R"({"matchExpressions": [{"key": "state", "operator": "In", "values": ["idle", "new"]}]})",
         {{"state", "busy"}}, true},
        {"In includes value",
         R"({"matchExpressions": [{"key": "state", "operator": "In", "values": ["idle", "busy"]}]})",
         {{"state", "busy"}}, false},
        {"NotIn contains value",
         R"({"matchExpressions": [{"key": "state", "operator": "NotIn", "values": ["busy"]}]})",
         {{"state", "busy"}}, true},
        {"NotIn other value",
         R"({"matchExpressions": [{"key": "state", "operator": "NotIn", "values": ["gone"]}]})",
         {{"state", "busy"}}, false},
        {"DoesNotExist on key",
         R"({"matchLabels": {"app": "jibri"},
             "matchExpressions": [{"key": "jibri.dev/busy", "operator": "DoesNotExist"}]})",
         {{"jibri.dev/busy", "true"}}, true},
        {"Exists on key",
         R"({"matchExpressions": [{"key": "state", "operator": "Exists"}]})",
         {{"state", "busy"}}, false},
        {"one of several breaks", R"({"matchLabels": {"app": "jibri", "state": "idle"}})",
         {{"other", "x"}, {"state", "busy"}}, true},
        {"empty selector", R"({})", {{"state", "busy"}}, false},
        {"empty busy labels", R"({"matchLabels": {"state": "idle"}})", {}, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto selector = parse(c.selector);
        const auto problem = check_busy_labels(c.busy_labels, selector);
        CHECK(problem.has_value() == !c.isolates);
        if (problem) {
            CHECK(problem->find('\n') == std::string::npos);
        }
    }
}

TEST_CASE("busy labels problem message", "[membership]") {
    const auto problem = check_busy_labels({{"state", "busy"}}, parse(R"({"matchLabels": {"app": "jibri"}})"));
    REQUIRE(problem.has_value());
    CHECK_THAT(*problem, Catch::Contains("{state=busy}"));
    CHECK_THAT(*problem, Catch::Contains("{app=jibri}"));
    CHECK_THAT(*problem, Catch::Contains("set a busy label"));
}

TEST_CASE("busy labels per pod check", "[membership]") {
    const auto selector = parse(R"({"matchLabels": {"app": "jibri"},
        "matchExpressions": [{"key": "state", "operator": "NotIn", "values": ["busy"]}]})");
    CHECK(busy_labels_isolate({{"app", "jibri"}}, {{"state", "busy"}}, selector));
    CHECK_FALSE(busy_labels_isolate({{"app", "jibri"}}, {{"other", "x"}}, selector));
    CHECK(with_busy_labels({{"app", "jibri"}, {"state", "idle"}}, {{"state", "busy"}}) ==
          Labels{{"app", "jibri"}, {"state", "busy"}});
}

TEST_CASE("shared labels", "[membership]") {
    const auto selector = parse(R"({
        "matchLabels": {"app": "jibri", "state": "idle"},
        "matchExpressions": [
            {"key": "pool", "operator": "In", "values": ["a"]},
            {"key": "tier", "operator": "In", "values": ["x", "y"]},
            {"key": "legacy", "operator": "DoesNotExist"}]})");
    CHECK(shared_labels({{"state", "busy"}}, selector) == Labels{{"app", "jibri"}, {"pool", "a"}});
    CHECK(shared_labels({{"pool", "busy"}}, selector) ==
          Labels{{"app", "jibri"}, {"state", "idle"}});
    CHECK(shared_labels({{"state", "busy"}}, parse(R"({"matchExpressions": [
        {"key": "state", "operator": "NotIn", "values": ["busy"]}]})"))
              .empty());
}

TEST_CASE("pool membership", "[membership]") {
    const auto selector = parse(R"({"matchLabels": {"app": "jibri", "state": "idle"}})");
    const Labels busy{{"state", "busy"}};
    struct Case {
        const char* name;
        Labels labels;
        bool member;
        bool is_isolated;
    };
    const Case cases[] = {
        {"idle pod", {{"app", "jibri"}, {"state", "idle"}}, true, false},
        {"isolated pod", {{"app", "jibri"}, {"state", "busy"}}, true, true},
        {"busy label without shared label", {{"app", "other"}, {"state", "busy"}}, false, false},
        {"unrelated pod", {{"app", "web"}}, false, false},
        {"other state", {{"app", "jibri"}, {"state", "broken"}}, false, false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const Pod pod = pod_with(c.labels);
        CHECK(pool_member(pod, busy, selector) == c.member);
        CHECK(isolated(pod, busy, selector) == c.is_isolated);
    }
}
