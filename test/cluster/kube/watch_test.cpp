#include "kube_cluster.h"

#include "kube/watch.h"
#include "support/cluster.h"

#include <catch2/catch.hpp>

#include <future>
#include <thread>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::TestNamespace;
using namespace std::chrono_literals;

TEST_CASE("watch sees events in order", "[cluster][watch]") {
    TestNamespace ns("kube-watch");
    Client client = admin_client();
    std::string start = resource_version_of(client.list(resources::pods, ns.name()));

    std::vector<WatchEvent> events;
    auto watching = std::async(std::launch::async, [&] {
        WatchOptions options;
        options.list.resource_version = start;
        options.timeout_seconds = 30;
        return watch(client, resources::pods, ns.name(), options, [&](const WatchEvent& event) {
            if (event.type != WatchEventType::bookmark) events.push_back(event);
            return event.type != WatchEventType::deleted;
        });
    });

    client.create(resources::pods, ns.name(), pod_manifest("p", {{"step", "created"}}));
    client.merge_patch(resources::pods, ns.name(), "p", {{"metadata", {{"labels", {{"step", "patched"}}}}}});
    DeleteOptions now;
    now.grace_period_seconds = 0;
    client.remove(resources::pods, ns.name(), "p", now);

    REQUIRE(watching.wait_for(20s) == std::future_status::ready);
    auto result = watching.get();
    CHECK(result.end == WatchEnd::stopped);
    std::string seen;
    for (const auto& event : events) {
        seen += std::to_string(static_cast<int>(event.type)) + "@" + resource_version_of(event.object) + " ";
    }
    INFO(seen);
    // Deleting writes deletionTimestamp first (a MODIFIED event), then removes the pod.
    REQUIRE(events.size() == 4);
    CHECK(events[0].type == WatchEventType::added);
    CHECK(events[0].object["metadata"]["labels"]["step"] == "created");
    CHECK(events[1].type == WatchEventType::modified);
    CHECK(events[1].object["metadata"]["labels"]["step"] == "patched");
    CHECK(events[2].type == WatchEventType::modified);
    CHECK(events[2].object["metadata"].contains("deletionTimestamp"));
    CHECK(events[3].type == WatchEventType::deleted);
    // etcd revisions grow; the API calls them opaque, but this control plane stores in etcd3.
    for (std::size_t i = 1; i < events.size(); ++i) {
        CHECK(std::stoll(resource_version_of(events[i - 1].object)) < std::stoll(resource_version_of(events[i].object)));
    }
    CHECK(result.resource_version == resource_version_of(events[3].object));
}

TEST_CASE("watch ends after timeoutSeconds", "[cluster][watch]") {
    TestNamespace ns("kube-timeout");
    Client client = admin_client();
    WatchOptions options;
    options.list.resource_version = resource_version_of(client.list(resources::pods, ns.name()));
    options.timeout_seconds = 2;
    auto started = std::chrono::steady_clock::now();
    auto result = watch(client, resources::pods, ns.name(), options, [](const WatchEvent&) { return true; });
    auto elapsed = std::chrono::steady_clock::now() - started;
    CHECK(result.end == WatchEnd::closed);
    CHECK(elapsed >= 1500ms);
    CHECK(elapsed < 10s);
}

TEST_CASE("watch cancelled from another thread", "[cluster][watch]") {
    TestNamespace ns("kube-cancel");
    Client client = admin_client();
    Cancellation cancellation;
    auto watching = std::async(std::launch::async, [&] {
        WatchOptions options;
        options.timeout_seconds = 60;
        watch(client, resources::pods, ns.name(), options, [](const WatchEvent&) { return true; }, &cancellation);
    });
    std::this_thread::sleep_for(1s);
    REQUIRE(watching.wait_for(0s) == std::future_status::timeout);

    auto cancelled_at = std::chrono::steady_clock::now();
    cancellation.cancel();
    REQUIRE(watching.wait_for(5s) == std::future_status::ready);
    CHECK(std::chrono::steady_clock::now() - cancelled_at < 1s);
    try {
        watching.get();
        FAIL("the watch returned normally");
    } catch (const TransportError& error) {
        CHECK(error.is_cancelled());
    }
}
