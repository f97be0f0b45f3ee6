#include "kube_cluster.h"

#include "kube/informer.h"
#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <mutex>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::TestNamespace;
using jpc::test::wait_until;
using namespace std::chrono_literals;

TEST_CASE("informer follows a namespace", "[cluster][informer]") {
    TestNamespace ns("kube-informer");
    Client client = admin_client();
    client.create(resources::pods, ns.name(), pod_manifest("a", {{"app", "jibri"}}));
    client.create(resources::pods, ns.name(), pod_manifest("b", {{"app", "jibri"}}));
    client.create(resources::pods, ns.name(), pod_manifest("web", {{"app", "web"}}));

    std::mutex mutex;
    std::vector<std::string> calls;
    InformerHandlers handlers;
    handlers.on_add = [&](const nlohmann::json& object) {
        std::lock_guard lock(mutex);
        calls.push_back("add " + name_of(object));
    };
    handlers.on_update = [&](const nlohmann::json&, const nlohmann::json& object) {
        std::lock_guard lock(mutex);
        calls.push_back("update " + name_of(object) + " " + object["metadata"]["labels"].value("state", ""));
    };
    handlers.on_delete = [&](const nlohmann::json& object) {
        std::lock_guard lock(mutex);
        calls.push_back("delete " + name_of(object));
    };
    auto recorded = [&] {
        std::lock_guard lock(mutex);
        return calls;
    };

    InformerOptions options;
    options.type = resources::pods;
    options.ns = ns.name();
    options.label_selector = "app=jibri";
    options.page_size = 1;
    options.transform = [](nlohmann::json& object) { object["metadata"].erase("managedFields"); };
    Informer informer(client, options, handlers);
    informer.start();
    REQUIRE(informer.wait_for_sync(10s));
    CHECK(informer.size() == 2);
    CHECK(recorded() == std::vector<std::string>{"add a", "add b"});
    REQUIRE(informer.get(ns.name(), "a"));
    CHECK_FALSE((*informer.get(ns.name(), "a"))["metadata"].contains("managedFields"));
    CHECK(informer.get(ns.name(), "web") == nullptr);

    client.create(resources::pods, ns.name(), pod_manifest("c", {{"app", "jibri"}}));
    client.merge_patch(resources::pods, ns.name(), "a", {{"metadata", {{"labels", {{"state", "busy"}}}}}});
    // Relabelled out of the selector: the watch reports it as deleted.
    client.merge_patch(resources::pods, ns.name(), "b", {{"metadata", {{"labels", {{"app", "released"}}}}}});

    REQUIRE(wait_until([&] { return recorded().size() >= 5; }, 10s));
    CHECK(recorded() == std::vector<std::string>{"add a", "add b", "add c", "update a busy", "delete b"});
    CHECK(informer.size() == 2);
    CHECK((*informer.get(ns.name(), "a"))["metadata"]["labels"]["state"] == "busy");
    CHECK(informer.get(ns.name(), "b") == nullptr);

    auto stats = informer.stats();
    CHECK(stats.relists == 1);
    CHECK(stats.events == 3);
    CHECK(stats.errors == 0);

    auto stopping = std::chrono::steady_clock::now();
    informer.stop();
    CHECK(std::chrono::steady_clock::now() - stopping < 2s);
}
