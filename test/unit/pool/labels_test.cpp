#include "pool/labels.h"

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

}  // namespace

TEST_CASE("selector parse match labels and expressions", "[labels]") {
    const auto selector = parse(R"({
        "matchLabels": {"app": "jibri"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["b", "a"]},
            {"key": "state", "operator": "NotIn", "values": ["busy"]},
            {"key": "jibri.dev/pool", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist", "values": []}
        ]})");
    CHECK(selector.match_labels == Labels{{"app", "jibri"}});
    REQUIRE(selector.match_expressions.size() == 4);
    CHECK(selector.match_expressions[0] ==
          SelectorRequirement{"tier", SelectorOperator::in, {"a", "b"}});
    CHECK(selector.match_expressions[1] ==
          SelectorRequirement{"state", SelectorOperator::not_in, {"busy"}});
    CHECK(selector.match_expressions[2] ==
          SelectorRequirement{"jibri.dev/pool", SelectorOperator::exists, {}});
    CHECK(selector.match_expressions[3] ==
          SelectorRequirement{"legacy", SelectorOperator::does_not_exist, {}});
}

TEST_CASE("selector parse empty object", "[labels]") {
    const auto selector = parse("{}");
    CHECK(selector.empty());
    CHECK(selector.matches({}));
    CHECK(selector.matches({{"any", "thing"}}));
}

TEST_CASE("selector parse errors", "[labels]") {
    struct Case {
        const char* text;
        const char* error_part;
    };
    const Case cases[] = {
        {R"("app=jibri")", "expected an object"},
        {R"({"matchLabels": ["app"]})", "matchLabels: expected an object"},
        {R"({"matchLabels": {"app": 1}})", "matchLabels.app: expected a string"},
        {R"({"matchLabels": {"bad key!": "x"}})", "bad key!"},
        {R"({"matchLabels": {"app": "-x"}})", "label value \"-x\""},
        {R"({"matchExpressions": {}})", "matchExpressions: expected an array"},
        {R"({"matchExpressions": [{"operator": "Exists"}]})", "matchExpressions[0].key"},
        {R"({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["x"]}]})",
         "matchExpressions[0].operator: invalid value \"Equals\"; use In, NotIn, Exists or "
         "DoesNotExist"},
        {R"({"matchExpressions": [{"key": "a"}]})", "matchExpressions[0].operator: missing"},
        {R"({"matchExpressions": [{"key": "a", "operator": "Exists"},
                                  {"key": "b", "operator": "In"}]})",
         "matchExpressions[1].values: operator In needs at least one value"},
        {R"({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": []}]})",
         "operator NotIn needs at least one value"},
        {R"({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})",
         "operator Exists takes no values"},
        {R"({"matchExpressions": [{"key": "a", "operator": "In", "values": [1]}]})",
         "expected strings"},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto selector = parse_label_selector(nlohmann::json::parse(c.text));
        REQUIRE_FALSE(selector.ok());
        CHECK_THAT(selector.error(), Catch::Contains(c.error_part));
    }
}

TEST_CASE("selector matches table", "[labels]") {
    const auto selector = parse(R"({
        "matchLabels": {"app": "jibri"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "state", "operator": "NotIn", "values": ["busy"]},
            {"key": "pool", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]})");
    struct Case {
        const char* name;
        Labels labels;
        bool matches;
    };
    const Labels base{{"app", "jibri"}, {"tier", "a"}, {"pool", "x"}};
    auto with = [&](const char* key, const char* value) {
        Labels labels = base;
        labels[key] = value;
        return labels;
    };
    auto without = [&](const char* key) {
        Labels labels = base;
        labels.erase(key);
        return labels;
    };
    const Case cases[] = {
        {"all satisfied", base, true},
        {"extra label", with("other", "1"), true},
        {"matchLabels wrong value", with("app", "other"), false},
        {"matchLabels missing", without("app"), false},
        {"In other value", with("tier", "c"), false},
        {"In second value", with("tier", "b"), true},
        {"In missing key", without("tier"), false},
        {"NotIn listed value", with("state", "busy"), false},
        {"NotIn other value", with("state", "idle"), true},
        {"Exists missing", without("pool"), false},
        {"Exists empty value", with("pool", ""), true},
        {"DoesNotExist present", with("legacy", ""), false},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        CHECK(selector.matches(c.labels) == c.matches);
    }
}

TEST_CASE("selector query string", "[labels]") {
    const auto selector = parse(R"({
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["y", "x"]},
            {"key": "state", "operator": "NotIn", "values": ["busy"]},
            {"key": "pool", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"}
        ]})");
    CHECK(to_query_string(selector) == "a=1,b=2,tier in (x,y),state notin (busy),pool,!legacy");
    CHECK(to_query_string(LabelSelector{}).empty());
    CHECK(to_query_string(Labels{{"app", "jibri"}, {"jibri.dev/pool", "p"}}) ==
          "app=jibri,jibri.dev/pool=p");
}

TEST_CASE("label key validation", "[labels]") {
    CHECK_FALSE(validate_label_key("app").has_value());
    CHECK_FALSE(validate_label_key("jibri.dev/state").has_value());
    CHECK_FALSE(validate_label_key("app.kubernetes.io/name").has_value());
    CHECK_FALSE(validate_label_key("A_b.C-1").has_value());

    CHECK(validate_label_key("").has_value());
    CHECK(validate_label_key("/state").has_value());
    CHECK(validate_label_key("jibri.dev/").has_value());
    CHECK(validate_label_key("a/b/c").has_value());
    CHECK(validate_label_key("Jibri.dev/state").has_value());
    CHECK(validate_label_key("-state").has_value());
    CHECK(validate_label_key(std::string(64, 'k')).has_value());
}

TEST_CASE("label value validation", "[labels]") {
    CHECK_FALSE(validate_label_value("").has_value());
    CHECK_FALSE(validate_label_value("busy").has_value());
    CHECK_FALSE(validate_label_value("Busy_1.x-y").has_value());
    CHECK_FALSE(validate_label_value(std::string(63, 'v')).has_value());

    CHECK(validate_label_value(std::string(64, 'v')).has_value());
    CHECK(validate_label_value("busy/x").has_value());
    CHECK(validate_label_value("_busy").has_value());
    CHECK(validate_label_value("busy ").has_value());
}
