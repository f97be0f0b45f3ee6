#include "kube/resource.h"

#include <catch2/catch.hpp>

using namespace jpc::kube;

TEST_CASE("resource_path for core and named groups", "[resource]") {
    CHECK(resource_path(resources::pods, "jitsi", "jibri-0") == "/api/v1/namespaces/jitsi/pods/jibri-0");
    CHECK(resource_path(resources::pods, "jitsi") == "/api/v1/namespaces/jitsi/pods");
    CHECK(resource_path(resources::pods, "") == "/api/v1/pods");
    CHECK(resource_path(resources::pods, "jitsi", "jibri-0", "status") ==
          "/api/v1/namespaces/jitsi/pods/jibri-0/status");
    CHECK(resource_path(resources::deployments, "jitsi", "jibri", "scale") ==
          "/apis/apps/v1/namespaces/jitsi/deployments/jibri/scale");
    CHECK(resource_path(resources::leases, "jitsi", "jpc") ==
          "/apis/coordination.k8s.io/v1/namespaces/jitsi/leases/jpc");
    CHECK(resource_path(resources::jibripools, "jitsi", "pool") ==
          "/apis/jibri.dev/v1alpha1/namespaces/jitsi/jibripools/pool");
    CHECK(resource_path(resources::events, "jitsi") == "/api/v1/namespaces/jitsi/events");
    CHECK(resource_path(resources::serviceaccounts, "a", "default") ==
          "/api/v1/namespaces/a/serviceaccounts/default");
}

TEST_CASE("resource_path for cluster-scoped types", "[resource]") {
    CHECK(resource_path(resources::namespaces, "", "jitsi") == "/api/v1/namespaces/jitsi");
    CHECK(resource_path(resources::namespaces, "") == "/api/v1/namespaces");
    CHECK(resource_path(resources::customresourcedefinitions, "", "jibripools.jibri.dev") ==
          "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/jibripools.jibri.dev");
}

TEST_CASE("resource_path rejects invalid scopes", "[resource]") {
    CHECK_THROWS_AS(resource_path(resources::namespaces, "jitsi", "x"), std::invalid_argument);
    CHECK_THROWS_AS(resource_path(resources::pods, "", "jibri-0"), std::invalid_argument);
    CHECK_THROWS_AS(resource_path(resources::pods, "jitsi", "", "status"), std::invalid_argument);
    CHECK_THROWS_AS(resource_path(resources::pods, "jitsi", ".."), std::invalid_argument);
    CHECK_THROWS_AS(resource_path(resources::pods, "..", "x"), std::invalid_argument);
}

TEST_CASE("resource_path encodes names", "[resource]") {
    CHECK(resource_path(resources::pods, "a b", "x/y?z#") == "/api/v1/namespaces/a%20b/pods/x%2Fy%3Fz%23");
    CHECK(resource_path(resources::pods, "ns", "caf\xC3\xA9") == "/api/v1/namespaces/ns/pods/caf%C3%A9");
}

TEST_CASE("url_encode keeps unreserved bytes only", "[resource]") {
    CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
    CHECK(url_encode("app=jibri,tier in (a,b)") == "app%3Djibri%2Ctier%20in%20%28a%2Cb%29");
    CHECK(url_encode("a+b&c") == "a%2Bb%26c");
    CHECK(url_encode("!=") == "%21%3D");
    CHECK(url_encode("") == "");
}

TEST_CASE("list_query encodes selectors and pages", "[resource]") {
    CHECK(list_query({}) == "");

    ListOptions options;
    options.label_selector = "app=jibri,jibri.dev/state!=busy";
    options.field_selector = "status.phase=Running";
    options.limit = 1;
    options.continue_token = "eyJ2Ijoi+/=";
    CHECK(list_query(options) ==
          "?labelSelector=app%3Djibri%2Cjibri.dev%2Fstate%21%3Dbusy"
          "&fieldSelector=status.phase%3DRunning&limit=1&continue=eyJ2Ijoi%2B%2F%3D");

    ListOptions watch_like;
    watch_like.resource_version = "123";
    watch_like.timeout_seconds = 30;
    watch_like.allow_watch_bookmarks = true;
    CHECK(list_query(watch_like) == "?resourceVersion=123&timeoutSeconds=30&allowWatchBookmarks=true");

    ListOptions exact;
    exact.resource_version = "5";
    exact.resource_version_match = "NotOlderThan";
    CHECK(list_query(exact) == "?resourceVersion=5&resourceVersionMatch=NotOlderThan");
}

TEST_CASE("DeleteOptions body", "[resource]") {
    CHECK(DeleteOptions{}.to_json().is_null());

    DeleteOptions options;
    options.uid = "1234";
    options.resource_version = "77";
    options.propagation_policy = "Foreground";
    options.grace_period_seconds = 0;
    nlohmann::json expected = {
        {"preconditions", {{"uid", "1234"}, {"resourceVersion", "77"}}},
        {"propagationPolicy", "Foreground"},
        {"gracePeriodSeconds", 0},
    };
    CHECK(options.to_json() == expected);

    DeleteOptions uid_only;
    uid_only.uid = "u";
    CHECK(uid_only.to_json() == nlohmann::json{{"preconditions", {{"uid", "u"}}}});
}

TEST_CASE("metadata accessors", "[resource]") {
    nlohmann::json pod = {{"metadata", {{"namespace", "a"}, {"name", "b"}, {"uid", "u"}, {"resourceVersion", "9"}}}};
    CHECK(namespace_of(pod) == "a");
    CHECK(name_of(pod) == "b");
    CHECK(uid_of(pod) == "u");
    CHECK(resource_version_of(pod) == "9");
    CHECK(key_of(pod) == "a/b");

    nlohmann::json cluster_scoped = {{"metadata", {{"name", "ns1"}}}};
    CHECK(key_of(cluster_scoped) == "ns1");
    CHECK(name_of(nlohmann::json::array()) == "");
    CHECK(name_of({{"metadata", {{"name", 5}}}}) == "");
}

TEST_CASE("ResourceType api_version", "[resource]") {
    CHECK(resources::pods.api_version() == "v1");
    CHECK(resources::deployments.api_version() == "apps/v1");
    CHECK(resources::jibripools.api_version() == "jibri.dev/v1alpha1");
    CHECK_FALSE(resources::namespaces.namespaced);
    CHECK(resources::leases.namespaced);
}
