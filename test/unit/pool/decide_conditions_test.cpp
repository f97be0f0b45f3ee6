#include "decide_summary.h"
#include "fixtures.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;
using namespace jpc::test;
using jpc::jibri::BusyStatus;
using Strings = std::vector<std::string>;

namespace {

const Condition& condition(const Decision& decision, std::string_view type) {
    const Condition* found = decision.status.find_condition(type);
    if (found == nullptr) {
        FAIL("condition " << type << " missing");
    }
    return *found;
}

// The fixture Deployment with a selector that the fixture busy labels do not break.
Deployment deployment_without_state_label(std::int32_t replicas) {
    Deployment deployment = make_deployment(replicas);
    deployment.selector.match_labels = {{"app", "jibri"}};
    return deployment;
}

}  // namespace

TEST_CASE("decide ready when spare pods idle", "[decide][conditions]") {
    const std::vector<Pod> pods{with_report(make_pod("a"), BusyStatus::idle),
                                with_report(make_pod("b"), BusyStatus::idle)};
    const auto decision = decide(make_pool(2), make_deployment(2), pods, kNow);
    const Condition& ready = condition(decision, "Ready");
    CHECK(ready.status == "True");
    CHECK(ready.reason == "SparePodsIdle");
    CHECK(ready.message == "2 of 2 spare pods are idle");
    CHECK(ready.observed_generation == 3);
    CHECK(ready.last_transition_time == kNow);
    const Condition& degraded = condition(decision, "Degraded");
    CHECK(degraded.status == "False");
    CHECK(degraded.reason == "AsExpected");
    CHECK_FALSE(degraded.message.empty());
    CHECK(decision.status.observed_generation == 3);
}

TEST_CASE("decide waiting for idle pods", "[decide][conditions]") {
    Pod pending = make_pod("b");
    pending.phase = "Pending";
    const std::vector<Pod> pods{with_report(make_pod("a"), BusyStatus::idle), pending};
    const auto decision = decide(make_pool(2), make_deployment(2), pods, kNow);
    const Condition& ready = condition(decision, "Ready");
    CHECK(ready.status == "False");
    CHECK(ready.reason == "WaitingForIdlePods");
    CHECK(ready.message == "1 of 2 spare pods are idle");
    CHECK(decision.status.idle == 1);
}

TEST_CASE("decide counts a running pod that has not reported as idle", "[decide][conditions]") {
    Pod leaving = make_pod("c");
    leaving.deletion_timestamp = kNow;
    const std::vector<Pod> pods{make_pod("a"), with_report(make_pod("b"), BusyStatus::idle), leaving};
    const auto decision = decide(make_pool(2), make_deployment(2), pods, kNow);
    CHECK(decision.status.idle == 2);
    CHECK(decision.status.busy == 0);
    CHECK(condition(decision, "Ready").status == "True");
}

TEST_CASE("decide deployment not found", "[decide][conditions]") {
    const std::vector<Pod> pods{with_report(make_pod("a"), BusyStatus::expired),
                                with_report(make_pod("b"), BusyStatus::busy)};
    const auto decision = decide(make_pool(), std::nullopt, pods, kNow);
    CHECK(summarize(decision.actions) == Strings{"event Warning DeploymentNotFound"});
    const Condition& degraded = condition(decision, "Degraded");
    CHECK(degraded.status == "True");
    CHECK(degraded.reason == "DeploymentNotFound");
    CHECK_THAT(degraded.message, Catch::Contains("Deployment jitsi/jibri not found"));
    CHECK(condition(decision, "Ready").status == "False");
    CHECK(decision.status.replicas == 0);
}

TEST_CASE("decide invalid selector", "[decide][conditions]") {
    Deployment broken = make_deployment(2);
    broken.selector = {};
    broken.selector_error = "spec.selector is missing";
    Deployment empty = make_deployment(2);
    empty.selector = {};

    for (const auto& deployment : {broken, empty}) {
        const auto decision = decide(make_pool(), deployment,
                                     {with_report(make_pod("a"), BusyStatus::expired)}, kNow);
        CHECK(summarize(decision.actions) == Strings{"event Warning InvalidSelector"});
        CHECK(condition(decision, "Degraded").reason == "InvalidSelector");
    }
}

TEST_CASE("decide busy labels match selector", "[decide][conditions]") {
    auto pods = std::vector<Pod>{with_report(make_pod("recording"), BusyStatus::busy),
                                 with_report(make_pod("done"), BusyStatus::expired),
                                 with_report(make_pod("idle"), BusyStatus::idle)};
    for (auto& pod : pods) {
        pod.labels = {{"app", "jibri"}};
    }

    // Scale-down held: no isolation is possible, and a busy pod is inside.
    const auto down = decide(make_pool(1), deployment_without_state_label(3), pods, kNow);
    CHECK(summarize(down.actions) ==
          Strings{"delete done", "event Warning BusyLabelsMatchSelector"});
    const Condition& degraded = condition(down, "Degraded");
    CHECK(degraded.status == "True");
    CHECK(degraded.reason == "BusyLabelsMatchSelector");
    CHECK_THAT(degraded.message, Catch::Contains("{jibri.dev/state=busy}"));
    CHECK(condition(down, "Ready").status == "False");

    // Scale-up is still allowed.
    const auto up = decide(make_pool(4), deployment_without_state_label(3), pods, kNow);
    CHECK(summarize(up.actions) ==
          Strings{"delete done", "scale 3->4", "event Warning BusyLabelsMatchSelector"});
}

TEST_CASE("decide degraded event only on transition", "[decide][conditions]") {
    JibriPool pool = make_pool();
    const auto first = decide(pool, std::nullopt, {}, kNow);
    CHECK(summarize(first.actions) == Strings{"event Warning DeploymentNotFound"});

    pool.status = first.status;
    const auto again = decide(pool, std::nullopt, {}, kNow + std::chrono::minutes{5});
    CHECK(again.actions.empty());
    CHECK_FALSE(again.status_changed);

    Deployment empty = make_deployment(2);
    empty.selector = {};
    const auto other_reason = decide(pool, empty, {}, kNow + std::chrono::minutes{6});
    CHECK(summarize(other_reason.actions) == Strings{"event Warning InvalidSelector"});
}

TEST_CASE("decide recovery clears degraded", "[decide][conditions]") {
    JibriPool pool = make_pool(1);
    pool.status = decide(pool, std::nullopt, {}, kNow).status;

    const auto later = kNow + std::chrono::minutes{1};
    const auto decision = decide(pool, make_deployment(1),
                                 {with_report(make_pod("a"), BusyStatus::idle)}, later);
    CHECK(decision.actions.empty());
    CHECK(decision.status_changed);
    const Condition& degraded = condition(decision, "Degraded");
    CHECK(degraded.status == "False");
    CHECK(degraded.last_transition_time == later);
    CHECK(condition(decision, "Ready").status == "True");
}

TEST_CASE("decide status unchanged on rerun", "[decide][conditions]") {
    JibriPool pool = make_pool(2);
    pool.status.last_sweep_time = kNow - std::chrono::minutes{3};
    const std::vector<Pod> pods{with_report(make_pod("a"), BusyStatus::idle),
                                with_report(make_pod("b"), BusyStatus::idle)};
    const auto first = decide(pool, make_deployment(2), pods, kNow);
    CHECK(first.status_changed);
    CHECK(first.status.last_sweep_time == pool.status.last_sweep_time);

    // The status as the API server returns it after the write: JSON and back.
    pool.status = parse_pool_status(to_json(first.status));
    const auto second = decide(pool, make_deployment(2), pods, kNow + std::chrono::hours{1});
    CHECK_FALSE(second.status_changed);
    CHECK(second.status == pool.status);
}

TEST_CASE("decide status changes with counts", "[decide][conditions]") {
    JibriPool pool = make_pool(2);
    const std::vector<Pod> pods{with_report(make_pod("a"), BusyStatus::idle),
                                with_report(make_pod("b"), BusyStatus::idle)};
    pool.status = decide(pool, make_deployment(2), pods, kNow).status;

    const std::vector<Pod> one_busy{isolated_pod("a", BusyStatus::busy),
                                    with_report(make_pod("b"), BusyStatus::idle),
                                    with_report(make_pod("c"), BusyStatus::idle)};
    const auto decision = decide(pool, make_deployment(2), one_busy, kNow);
    CHECK(decision.status_changed);
    CHECK(decision.status.busy == 1);
}
