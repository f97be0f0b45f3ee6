#include "kube_cluster.h"

#include "kube/informer.h"
#include "kube/watch.h"
#include "support/private_cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <set>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::PrivateCluster;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

// Tracks handler calls and checks that they form a valid history: an add only for an
// absent object, an update or delete only for a present object.
class History {
public:
    InformerHandlers handlers() {
        InformerHandlers handlers;
        handlers.on_add = [this](const nlohmann::json& object) { apply("add", name_of(object)); };
        handlers.on_update = [this](const nlohmann::json&, const nlohmann::json& object) {
            apply("update", name_of(object));
        };
        handlers.on_delete = [this](const nlohmann::json& object) { apply("delete", name_of(object)); };
        return handlers;
    }
    std::set<std::string> present() const {
        std::lock_guard lock(mutex_);
        return present_;
    }
    std::vector<std::string> violations() const {
        std::lock_guard lock(mutex_);
        return violations_;
    }
    int count(const std::string& call) const {
        std::lock_guard lock(mutex_);
        auto found = counts_.find(call);
        return found == counts_.end() ? 0 : found->second;
    }

private:
    void apply(const std::string& kind, const std::string& name) {
        std::lock_guard lock(mutex_);
        ++counts_[kind + " " + name];
        bool is_present = present_.count(name) > 0;
        if (kind == "add" && is_present) violations_.push_back("add of present " + name);
        if (kind != "add" && !is_present) violations_.push_back(kind + " of absent " + name);
        if (kind == "delete") present_.erase(name);
        else present_.insert(name);
    }
    mutable std::mutex mutex_;
    std::set<std::string> present_;
    std::vector<std::string> violations_;
    std::map<std::string, int> counts_;
};

std::set<std::string> names_in(const Informer& informer) {
    std::set<std::string> names;
    for (const auto& object : informer.list()) names.insert(name_of(*object));
    return names;
}

}  // namespace

// The control plane of this test is its own, because kube-apiserver goes down in it.
TEST_CASE("informer survives restart and relists on 410", "[cluster][restart]") {
    PrivateCluster cluster;
    Client client(load_kubeconfig(cluster.kubeconfig()));
    const std::string ns = "restart";
    client.create(resources::namespaces, "", {{"metadata", {{"name", ns}}}});
    REQUIRE(wait_until(
        [&] {
            try {
                // Pods are admitted once the default ServiceAccount has its token Secret.
                auto account = client.get(resources::serviceaccounts, ns, "default");
                return account.contains("secrets") && !account["secrets"].empty();
            } catch (const ApiError&) {
                return false;
            }
        },
        30s));
    for (const char* name : {"keep", "gone", "changed"}) {
        client.create(resources::pods, ns, pod_manifest(name, {{"app", "jibri"}}));
    }

    History history;
    InformerOptions options;
    options.type = resources::pods;
    options.ns = ns;
    options.label_selector = "app=jibri";
    // A long fixed delay after a failed watch, so that the changes below are made while the
    // informer is disconnected and reach it through the relist.
    options.initial_backoff = 20s;
    options.max_backoff = 20s;
    Informer informer(client, options, history.handlers());
    informer.start();
    REQUIRE(informer.wait_for_sync(10s));
    CHECK(history.present() == std::set<std::string>{"changed", "gone", "keep"});

    // A write the pod watch does not see, so the etcd revision that the restarted API
    // server's watch cache starts from is newer than anything the informer has seen, and
    // resuming from the informer's resourceVersion must fail with 410.
    std::string seen_before = resource_version_of(client.list(resources::pods, ns));
    client.create(resources::serviceaccounts, ns, {{"metadata", {{"name", "bump"}}}});

    cluster.stop("kube-apiserver");
    cluster.start("kube-apiserver");

    // A watch from before the restart is too old for the new watch cache.
    WatchOptions too_old;
    too_old.list.resource_version = seen_before;
    too_old.timeout_seconds = 5;
    try {
        watch(client, resources::pods, ns, too_old, [](const WatchEvent&) { return true; });
        FAIL("the watch did not report 410");
    } catch (const ApiError& error) {
        CHECK(error.is_gone());
        CHECK(error.code() == 410);
        CHECK(error.api_message().find("too old resource version") != std::string::npos);
    }

    DeleteOptions now;
    now.grace_period_seconds = 0;
    client.remove(resources::pods, ns, "gone", now);
    client.merge_patch(resources::pods, ns, "changed", {{"metadata", {{"labels", {{"round", "2"}}}}}});
    client.create(resources::pods, ns, pod_manifest("new", {{"app", "jibri"}}));

    const std::set<std::string> expected{"changed", "keep", "new"};
    REQUIRE(wait_until([&] { return names_in(informer) == expected && history.present() == expected; }, 60s, 100ms));
    CHECK((*informer.get(ns, "changed"))["metadata"]["labels"]["round"] == "2");
    CHECK(history.violations().empty());
    CHECK(history.count("add keep") == 1);
    CHECK(history.count("add new") == 1);
    CHECK(history.count("delete gone") == 1);
    CHECK(history.count("update changed") == 1);
    CHECK(history.count("update keep") == 0);

    auto stats = informer.stats();
    CHECK(stats.gone >= 1);
    CHECK(stats.relists >= 2);
    CHECK(stats.errors >= 1);

    // The informer watches again after the relist: a later change arrives as an event.
    client.merge_patch(resources::pods, ns, "keep", {{"metadata", {{"labels", {{"round", "3"}}}}}});
    REQUIRE(wait_until([&] { return history.count("update keep") == 1; }, 20s, 100ms));
    CHECK(history.violations().empty());
    informer.stop();
}
