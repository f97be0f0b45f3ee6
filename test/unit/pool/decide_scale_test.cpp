#include "decide_summary.h"
#include "fixtures.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;
using namespace jpc::test;
using jpc::jibri::BusyStatus;
using Strings = std::vector<std::string>;

namespace {

std::vector<Pod> idle_pods(int count) {
    std::vector<Pod> pods;
    for (int i = 0; i < count; ++i) {
        pods.push_back(with_report(make_pod("idle-" + std::to_string(i)), BusyStatus::idle));
    }
    return pods;
}

std::vector<Pod> isolated_busy_pods(int count) {
    std::vector<Pod> pods;
    for (int i = 0; i < count; ++i) {
        pods.push_back(isolated_pod("busy-" + std::to_string(i), BusyStatus::busy));
    }
    return pods;
}

}  // namespace

TEST_CASE("decide replicas table", "[decide][scale]") {
    struct Case {
        const char* name;
        std::int32_t spare;
        std::optional<std::int32_t> max_pods;
        std::int32_t current;
        int isolated_busy;
        std::int32_t replicas;
        Strings actions;
    };
    const Case cases[] = {
        {"at spare", 2, std::nullopt, 2, 0, 2, {}},
        {"scale up to spare", 3, std::nullopt, 1, 0, 3, {"scale 1->3"}},
        {"scale down to spare", 1, std::nullopt, 3, 0, 1, {"scale 3->1"}},
        {"busy pods outside do not lower replicas", 2, std::nullopt, 2, 5, 2, {}},
        {"spare zero", 0, std::nullopt, 2, 0, 0, {"scale 2->0"}},
        {"cap above spare plus busy", 3, 10, 3, 2, 3, {}},
        {"cap trims spare", 3, 4, 3, 2, 2, {"scale 3->2"}},
        {"cap reached", 3, 4, 1, 4, 0, {"scale 1->0"}},
        {"cap exceeded clamps at zero", 3, 4, 0, 6, 0, {}},
        {"cap zero", 2, 0, 2, 0, 0, {"scale 2->0"}},
        {"cap frees room when busy drops", 3, 4, 0, 1, 3, {"scale 0->3"}},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        JibriPool pool = make_pool(c.spare);
        pool.spec.max_pods = c.max_pods;
        auto pods = isolated_busy_pods(c.isolated_busy);
        const auto decision = decide(pool, make_deployment(c.current), pods, kNow);
        CHECK(decision.status.replicas == c.replicas);
        CHECK(decision.status.busy == c.isolated_busy);
        CHECK(summarize(decision.actions) == c.actions);
    }
}

TEST_CASE("decide no scale down while busy inside", "[decide][scale]") {
    // spare lowered from 3 to 1 while a pod inside the Deployment reports BUSY: isolate it,
    // and leave the scale-down for the next reconcile.
    auto pods = idle_pods(2);
    pods.push_back(with_report(make_pod("recording"), BusyStatus::busy));
    const auto first = decide(make_pool(1), make_deployment(3), pods, kNow);
    CHECK(summarize(first.actions) == Strings{"isolate recording"});
    CHECK(first.status.replicas == 1);

    // Next reconcile: the pod is isolated, so the scale-down is safe.
    pods.back() = isolated_pod("recording", BusyStatus::busy);
    const auto second = decide(make_pool(1), make_deployment(3), pods, kNow);
    CHECK(summarize(second.actions) == Strings{"scale 3->1"});
}

TEST_CASE("decide scale up while busy inside", "[decide][scale]") {
    auto pods = idle_pods(1);
    pods.push_back(with_report(make_pod("recording"), BusyStatus::busy));
    const auto decision = decide(make_pool(3), make_deployment(2), pods, kNow);
    CHECK(summarize(decision.actions) == Strings{"isolate recording", "scale 2->3"});
}

TEST_CASE("decide terminated busy inside allows scale down", "[decide][scale]") {
    // A ReplicaSet scale-down only picks active pods, so a failed pod cannot be picked.
    auto pods = idle_pods(1);
    Pod failed = with_report(make_pod("failed"), BusyStatus::busy);
    failed.phase = "Failed";
    pods.push_back(failed);
    const auto decision = decide(make_pool(1), make_deployment(2), pods, kNow);
    CHECK(summarize(decision.actions) == Strings{"scale 2->1"});
}

TEST_CASE("decide scale action contents", "[decide][scale]") {
    JibriPool pool = make_pool(3);
    pool.spec.max_pods = 4;
    const auto decision = decide(pool, make_deployment(1), isolated_busy_pods(1), kNow);
    REQUIRE(decision.actions.size() == 1);
    const auto* scale = std::get_if<ScaleDeployment>(&decision.actions[0]);
    REQUIRE(scale != nullptr);
    CHECK(scale->deployment == ObjectRef{"apps/v1", "Deployment", "jitsi", "jibri", "deployment-uid"});
    CHECK(scale->from == 1);
    CHECK(scale->to == 3);
    CHECK(scale->merge_patch == nlohmann::json::parse(R"({"spec": {"replicas": 3}})"));
    CHECK(scale->event.regarding == ObjectRef{"jibri.dev/v1alpha1", "JibriPool", "jitsi", "jibri", "pool-uid"});
    CHECK(scale->event.reason == "Scaled");
    CHECK(scale->event.message ==
          "Scaled Deployment jibri from 1 to 3 replicas (spare 3, busy 1, maxPods 4)");
    CHECK(describe(decision.actions[0]) ==
          "scale deployment jitsi/jibri (uid deployment-uid) from 1 to 3 replicas");
}
