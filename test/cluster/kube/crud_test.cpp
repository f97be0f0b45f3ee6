#include "kube_cluster.h"

#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::TestNamespace;

TEST_CASE("pod create get patch delete", "[cluster][crud]") {
    TestNamespace ns("kube-crud");
    Client client = admin_client();

    auto created = client.create(resources::pods, ns.name(), pod_manifest("jibri-0", {{"app", "jibri"}}));
    CHECK(name_of(created) == "jibri-0");
    CHECK_FALSE(uid_of(created).empty());

    auto fetched = client.get(resources::pods, ns.name(), "jibri-0");
    CHECK(uid_of(fetched) == uid_of(created));
    CHECK(fetched["metadata"]["labels"]["app"] == "jibri");

    auto merged = client.merge_patch(resources::pods, ns.name(), "jibri-0",
                                     {{"metadata", {{"labels", {{"jibri.dev/state", "busy"}, {"app", nullptr}}}}}});
    CHECK(merged["metadata"]["labels"]["jibri.dev/state"] == "busy");
    CHECK_FALSE(merged["metadata"]["labels"].contains("app"));

    // A strategic merge patch merges the containers list by name instead of replacing it.
    auto strategic = client.strategic_merge_patch(
        resources::pods, ns.name(), "jibri-0",
        {{"spec", {{"containers", {{{"name", "jibri"}, {"image", "jitsi/jibri:latest"}}}}}}});
    REQUIRE(strategic["spec"]["containers"].size() == 1);
    CHECK(strategic["spec"]["containers"][0]["image"] == "jitsi/jibri:latest");

    auto listed = client.list(resources::pods, ns.name());
    REQUIRE(listed["items"].size() == 1);

    // A pod that was never scheduled to a node is removed at once, grace period or not.
    auto deleted = client.remove(resources::pods, ns.name(), "jibri-0");
    CHECK(name_of(deleted) == "jibri-0");
    try {
        client.get(resources::pods, ns.name(), "jibri-0");
        FAIL("the pod still exists");
    } catch (const ApiError& error) {
        CHECK(error.is_not_found());
        CHECK(error.reason() == "NotFound");
    }
}

TEST_CASE("get missing object is not found", "[cluster][crud]") {
    TestNamespace ns("kube-missing");
    Client client = admin_client();
    try {
        client.get(resources::pods, ns.name(), "absent");
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.code() == 404);
        CHECK(error.is_not_found());
        CHECK(error.verb() == "GET");
        CHECK(error.path() == "/api/v1/namespaces/" + ns.name() + "/pods/absent");
    }
}

TEST_CASE("create existing object conflicts", "[cluster][crud]") {
    TestNamespace ns("kube-exists");
    Client client = admin_client();
    client.create(resources::pods, ns.name(), pod_manifest("dup"));
    try {
        client.create(resources::pods, ns.name(), pod_manifest("dup"));
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.is_conflict());
        CHECK(error.is_already_exists());
    }
}

TEST_CASE("invalid object is rejected", "[cluster][crud]") {
    TestNamespace ns("kube-invalid");
    Client client = admin_client();
    auto pod = pod_manifest("bad");
    pod["spec"]["containers"] = nlohmann::json::array();
    try {
        client.create(resources::pods, ns.name(), pod);
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.is_invalid());
        CHECK(error.reason() == "Invalid");
    }
}

TEST_CASE("stale resourceVersion update conflicts", "[cluster][crud]") {
    TestNamespace ns("kube-stale");
    Client client = admin_client();
    auto original = client.create(resources::pods, ns.name(), pod_manifest("p"));

    auto first = original;
    first["metadata"]["labels"]["round"] = "1";
    auto updated = client.replace(resources::pods, ns.name(), "p", first);
    CHECK(resource_version_of(updated) != resource_version_of(original));

    auto stale = original;
    stale["metadata"]["labels"]["round"] = "2";
    try {
        client.replace(resources::pods, ns.name(), "p", stale);
        FAIL("a stale update succeeded");
    } catch (const ApiError& error) {
        CHECK(error.is_conflict());
        CHECK(error.code() == 409);
        CHECK(error.reason() == "Conflict");
    }
    CHECK(client.get(resources::pods, ns.name(), "p")["metadata"]["labels"]["round"] == "1");
}

TEST_CASE("delete preconditions", "[cluster][crud]") {
    TestNamespace ns("kube-precond");
    Client client = admin_client();
    auto pod = client.create(resources::pods, ns.name(), pod_manifest("p"));

    DeleteOptions wrong_uid;
    wrong_uid.uid = "00000000-0000-0000-0000-000000000000";
    wrong_uid.grace_period_seconds = 0;
    try {
        client.remove(resources::pods, ns.name(), "p", wrong_uid);
        FAIL("deleted despite a wrong uid");
    } catch (const ApiError& error) {
        INFO(error.what());
        CHECK(error.is_conflict());
        CHECK(error.api_message().find("recondition") != std::string::npos);
    }

    DeleteOptions wrong_version;
    wrong_version.resource_version = "1";
    wrong_version.grace_period_seconds = 0;
    CHECK_THROWS_MATCHES(client.remove(resources::pods, ns.name(), "p", wrong_version), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_conflict(); }));
    CHECK(uid_of(client.get(resources::pods, ns.name(), "p")) == uid_of(pod));

    DeleteOptions right;
    right.uid = uid_of(pod);
    right.resource_version = resource_version_of(pod);
    right.grace_period_seconds = 0;
    right.propagation_policy = "Background";
    client.remove(resources::pods, ns.name(), "p", right);
    CHECK_THROWS_MATCHES(client.get(resources::pods, ns.name(), "p"), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_not_found(); }));
}

TEST_CASE("pod status subresource", "[cluster][crud]") {
    TestNamespace ns("kube-status");
    Client client = admin_client();
    client.create(resources::pods, ns.name(), pod_manifest("p"));

    auto patched = client.merge_patch(resources::pods, ns.name(), "p",
                                      {{"status", {{"phase", "Running"}, {"podIP", "127.0.0.5"}}}}, "status");
    CHECK(patched["status"]["phase"] == "Running");

    auto current = client.get(resources::pods, ns.name(), "p");
    current["status"]["phase"] = "Succeeded";
    auto replaced = client.replace(resources::pods, ns.name(), "p", current, "status");
    CHECK(replaced["status"]["phase"] == "Succeeded");

    // A spec change sent to the status subresource is ignored.
    current = client.get(resources::pods, ns.name(), "p");
    current["spec"]["containers"][0]["image"] = "jitsi/jibri:ignored";
    auto via_status = client.replace(resources::pods, ns.name(), "p", current, "status");
    CHECK(via_status["spec"]["containers"][0]["image"] == "jitsi/jibri:stable");
}

TEST_CASE("list pages with limit 1", "[cluster][crud]") {
    TestNamespace ns("kube-pages");
    Client client = admin_client();
    for (int i = 0; i < 4; ++i) {
        client.create(resources::pods, ns.name(), pod_manifest("p" + std::to_string(i), {{"app", "jibri"}}));
    }
    client.create(resources::pods, ns.name(), pod_manifest("other", {{"app", "web"}}));

    ListOptions options;
    options.limit = 1;
    options.label_selector = "app=jibri";
    std::vector<std::string> names;
    int pages = 0;
    while (true) {
        auto page = client.list(resources::pods, ns.name(), options);
        ++pages;
        REQUIRE(page["items"].size() == 1);
        names.push_back(name_of(page["items"][0]));
        std::string next = page["metadata"].value("continue", "");
        if (next.empty()) break;
        options.continue_token = next;
        REQUIRE(pages < 10);
    }
    CHECK(pages == 4);
    CHECK(names == std::vector<std::string>{"p0", "p1", "p2", "p3"});

    ListOptions all;
    all.limit = 1;
    auto everything = client.list_all(resources::pods, ns.name(), all);
    CHECK(everything["items"].size() == 5);
    CHECK_FALSE(everything["metadata"].value("resourceVersion", "").empty());

    ListOptions by_field;
    by_field.field_selector = "metadata.name=p2";
    auto one = client.list(resources::pods, ns.name(), by_field);
    REQUIRE(one["items"].size() == 1);
    CHECK(name_of(one["items"][0]) == "p2");
}

TEST_CASE("deployment apply and scale", "[cluster][crud]") {
    TestNamespace ns("kube-deploy");
    Client client = admin_client();
    nlohmann::json deployment = {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "jibri"}, {"namespace", ns.name()}}},
        {"spec",
         {{"replicas", 1},
          {"selector", {{"matchLabels", {{"app", "jibri"}}}}},
          {"template",
           {{"metadata", {{"labels", {{"app", "jibri"}}}}},
            {"spec", {{"containers", {{{"name", "jibri"}, {"image", "jitsi/jibri:stable"}}}}}}}}}},
    };
    auto applied = client.apply(resources::deployments, ns.name(), "jibri", deployment, "jpc-test");
    CHECK(applied["spec"]["replicas"] == 1);
    bool managed_by_test = false;
    for (const auto& entry : applied["metadata"]["managedFields"]) {
        if (entry.value("manager", "") == "jpc-test" && entry.value("operation", "") == "Apply") managed_by_test = true;
    }
    CHECK(managed_by_test);

    auto scaled = client.patch_scale(resources::deployments, ns.name(), "jibri", 3);
    CHECK(scaled["kind"] == "Scale");
    CHECK(scaled["spec"]["replicas"] == 3);
    CHECK(client.get_scale(resources::deployments, ns.name(), "jibri")["spec"]["replicas"] == 3);

    // Kubernetes 1.20 records no field owner for writes through the scale subresource, so
    // another manager takes replicas over with a patch of the Deployment itself. Applying
    // replicas again then conflicts with that manager...
    client.merge_patch(resources::deployments, ns.name(), "jibri", {{"spec", {{"replicas", 4}}}});
    deployment["spec"]["replicas"] = 2;
    CHECK_THROWS_MATCHES(client.apply(resources::deployments, ns.name(), "jibri", deployment, "jpc-test"), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_conflict(); }));
    // ...unless forced.
    auto forced = client.apply(resources::deployments, ns.name(), "jibri", deployment, "jpc-test", true);
    CHECK(forced["spec"]["replicas"] == 2);
}

TEST_CASE("create_event about a pod", "[cluster][crud]") {
    TestNamespace ns("kube-event");
    Client client = admin_client();
    auto pod = client.create(resources::pods, ns.name(), pod_manifest("jibri-0"));

    EventRecord record;
    record.involved_object = object_reference(pod);
    record.type = "Warning";
    record.reason = "PodReleased";
    record.message = "jibri-0 reported BUSY";
    record.instance = "jpc-test";
    auto created = client.create_event(record);
    CHECK(namespace_of(created) == ns.name());

    ListOptions options;
    options.field_selector = "involvedObject.name=jibri-0";
    auto events = client.list(resources::events, ns.name(), options);
    REQUIRE(events["items"].size() == 1);
    const auto& event = events["items"][0];
    CHECK(event["reason"] == "PodReleased");
    CHECK(event["type"] == "Warning");
    CHECK(event["involvedObject"]["uid"] == uid_of(pod));
    CHECK(event["source"]["component"] == "jibri-pod-controller");
}

TEST_CASE("namespaces are cluster-scoped", "[cluster][crud]") {
    TestNamespace ns("kube-scope");
    Client client = admin_client();
    auto fetched = client.get(resources::namespaces, "", ns.name());
    CHECK(name_of(fetched) == ns.name());
    auto account = client.get(resources::serviceaccounts, ns.name(), "default");
    CHECK(name_of(account) == "default");
}
