#include "decide_summary.h"
#include "fixtures.h"

#include <catch2/catch.hpp>

using namespace jpc::pool;
using namespace jpc::test;
using jpc::jibri::BusyStatus;
using Strings = std::vector<std::string>;

namespace {

Pod in_phase(Pod pod, const char* phase) {
    pod.phase = phase;
    return pod;
}

Pod being_deleted(Pod pod) {
    pod.deletion_timestamp = kNow;
    return pod;
}

}  // namespace

TEST_CASE("decide pod rules table", "[decide]") {
    struct Case {
        const char* name;
        std::vector<Pod> pods;
        Strings actions;
        std::int32_t idle;
        std::int32_t busy;
        std::int32_t expiring;
    };
    const Case cases[] = {
        {"idle pods only",
         {with_report(make_pod("a"), BusyStatus::idle), with_report(make_pod("b"), BusyStatus::idle)},
         {}, 2, 0, 0},
        {"running pods without report count as idle",
         {make_pod("a"), make_pod("b")},
         {}, 2, 0, 0},
        {"busy inside is isolated",
         {with_report(make_pod("a"), BusyStatus::busy), with_report(make_pod("b"), BusyStatus::idle)},
         {"isolate a"}, 1, 1, 0},
        {"busy inside pending is isolated",
         {in_phase(with_report(make_pod("a"), BusyStatus::busy), "Pending"),
          with_report(make_pod("b"), BusyStatus::idle)},
         {"isolate a"}, 1, 1, 0},
        {"busy isolated running is kept",
         {isolated_pod("a", BusyStatus::busy), with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 1, 0},
        {"idle isolated running is kept",
         {isolated_pod("a", BusyStatus::idle), with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 1, 0},
        {"expired inside is deleted",
         {with_report(make_pod("a"), BusyStatus::expired),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {"delete a"}, 2, 0, 1},
        {"expired isolated is deleted",
         {isolated_pod("a", BusyStatus::expired), with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {"delete a"}, 2, 0, 1},
        {"isolated busy failed is deleted",
         {in_phase(isolated_pod("a", BusyStatus::busy), "Failed"),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {"delete a"}, 2, 0, 1},
        {"isolated busy succeeded is deleted",
         {in_phase(isolated_pod("a", BusyStatus::busy), "Succeeded"),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {"delete a"}, 2, 0, 1},
        {"busy inside failed is left to the replicaset",
         {in_phase(with_report(make_pod("a"), BusyStatus::busy), "Failed"),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 0, 0},
        {"expired being deleted is only counted",
         {being_deleted(isolated_pod("a", BusyStatus::expired)),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 0, 1},
        {"busy inside being deleted is only counted",
         {being_deleted(with_report(make_pod("a"), BusyStatus::busy)),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 1, 0},
        {"idle being deleted is not idle",
         {being_deleted(with_report(make_pod("a"), BusyStatus::idle)),
          with_report(make_pod("b"), BusyStatus::idle),
          with_report(make_pod("c"), BusyStatus::idle)},
         {}, 2, 0, 0},
        {"unknown busy annotation is left alone",
         [] {
             Pod pod = make_pod("a");
             pod.annotations[std::string(jpc::jibri::kBusyStatusAnnotation)] = "busy";
             return std::vector<Pod>{pod, with_report(make_pod("b"), BusyStatus::idle),
                                     with_report(make_pod("c"), BusyStatus::idle)};
         }(),
         {}, 2, 0, 0},
        {"other namespace ignored",
         [] {
             Pod pod = with_report(make_pod("a"), BusyStatus::expired);
             pod.namespace_name = "other";
             return std::vector<Pod>{pod, with_report(make_pod("b"), BusyStatus::idle),
                                     with_report(make_pod("c"), BusyStatus::idle)};
         }(),
         {}, 2, 0, 0},
        {"non-member ignored",
         [] {
             Pod pod = with_report(make_pod("a"), BusyStatus::expired);
             pod.labels = {{"app", "web"}};
             Pod busy = with_report(make_pod("d"), BusyStatus::busy);
             busy.labels = {{"app", "web"}, {"jibri.dev/state", "idle"}};
             return std::vector<Pod>{pod, busy, with_report(make_pod("b"), BusyStatus::idle),
                                     with_report(make_pod("c"), BusyStatus::idle)};
         }(),
         {}, 2, 0, 0},
        {"mixed pool orders isolations before deletions",
         {isolated_pod("x", BusyStatus::expired), with_report(make_pod("a"), BusyStatus::busy),
          with_report(make_pod("b"), BusyStatus::idle), with_report(make_pod("c"), BusyStatus::idle)},
         {"isolate a", "delete x"}, 2, 1, 1},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto decision = decide(make_pool(2), make_deployment(2), c.pods, kNow);
        CHECK(summarize(decision.actions) == c.actions);
        CHECK(decision.status.idle == c.idle);
        CHECK(decision.status.busy == c.busy);
        CHECK(decision.status.expiring == c.expiring);
    }
}

TEST_CASE("decide isolate action contents", "[decide]") {
    const auto decision = decide(make_pool(), make_deployment(2),
                                 {with_report(make_pod("a"), BusyStatus::busy)}, kNow);
    REQUIRE(decision.actions.size() == 1);
    const auto* isolate = std::get_if<IsolatePod>(&decision.actions[0]);
    REQUIRE(isolate != nullptr);
    CHECK(isolate->pod == ObjectRef{"v1", "Pod", "jitsi", "a", "a-uid"});
    CHECK(isolate->merge_patch == nlohmann::json::parse(R"({"metadata": {
        "labels": {"jibri.dev/state": "busy"},
        "annotations": {"cluster-autoscaler.kubernetes.io/safe-to-evict": "false"}}})"));
    CHECK_FALSE(isolate->merge_patch["metadata"].contains("ownerReferences"));
    CHECK(isolate->event.regarding == isolate->pod);
    CHECK(isolate->event.type == EventType::normal);
    CHECK(isolate->event.reason == "Isolated");
    CHECK_THAT(isolate->event.message, Catch::Contains("jibri.dev/state=busy"));
    CHECK_THAT(describe(decision.actions[0]), Catch::Contains("jitsi/a (uid a-uid)"));
}

TEST_CASE("decide delete action preconditions", "[decide]") {
    Pod pod = with_report(make_pod("a"), BusyStatus::expired);
    pod.resource_version = "4711";
    const auto decision = decide(make_pool(1), make_deployment(1), {pod}, kNow);
    REQUIRE(decision.actions.size() == 1);
    const auto* deletion = std::get_if<DeletePod>(&decision.actions[0]);
    REQUIRE(deletion != nullptr);
    CHECK(deletion->pod == ObjectRef{"v1", "Pod", "jitsi", "a", "a-uid"});
    CHECK(deletion->resource_version == "4711");
    CHECK(deletion->delete_options["preconditions"] ==
          nlohmann::json{{"uid", "a-uid"}, {"resourceVersion", "4711"}});
    CHECK(deletion->delete_options["kind"] == "DeleteOptions");
    CHECK(deletion->reason == "jibri reported EXPIRED");
    CHECK(deletion->event.reason == "Deleted");
    CHECK_THAT(describe(decision.actions[0]), Catch::Contains("resourceVersion 4711"));
}

TEST_CASE("decide terminal delete reason", "[decide]") {
    const auto decision = decide(make_pool(0), make_deployment(0),
                                 {in_phase(isolated_pod("a", BusyStatus::busy), "Failed")}, kNow);
    REQUIRE(decision.actions.size() == 1);
    const auto* deletion = std::get_if<DeletePod>(&decision.actions[0]);
    REQUIRE(deletion != nullptr);
    CHECK(deletion->reason == "isolated pod in phase Failed");
}

TEST_CASE("decide busy then expired across reconciles", "[decide]") {
    const JibriPool pool = make_pool(1);

    // First reconcile: the pod reported BUSY and is still inside the Deployment.
    const Pod busy = with_report(make_pod("a"), BusyStatus::busy);
    const auto first = decide(pool, make_deployment(1), {busy}, kNow);
    CHECK(summarize(first.actions) == Strings{"isolate a"});

    // The ReplicaSet created replacement "b"; the isolated pod then reported EXPIRED.
    Pod expired = isolated_pod("a", BusyStatus::expired);
    expired.resource_version = "101";
    const Pod replacement = with_report(make_pod("b"), BusyStatus::idle);
    const auto second = decide(pool, make_deployment(1), {expired, replacement}, kNow);
    CHECK(summarize(second.actions) == Strings{"delete a"});
    CHECK(second.status.expiring == 1);
    CHECK(second.status.busy == 0);
    CHECK(second.status.idle == 1);
}

TEST_CASE("decide expired before isolation", "[decide]") {
    // The pod went BUSY and EXPIRED before any reconcile saw BUSY: it is deleted without
    // being isolated, and the ReplicaSet replaces it.
    const auto decision = decide(make_pool(1), make_deployment(1),
                                 {with_report(make_pod("a"), BusyStatus::expired)}, kNow);
    CHECK(summarize(decision.actions) == Strings{"delete a"});
}

TEST_CASE("decide selector with match expressions", "[decide]") {
    JibriPool pool = make_pool(1);
    pool.spec.busy_labels = {{"jibri.dev/busy", "true"}};
    Deployment deployment = make_deployment(1);
    deployment.selector = LabelSelector{
        {{"app", "jibri"}},
        {SelectorRequirement{"jibri.dev/busy", SelectorOperator::does_not_exist, {}}}};

    Pod inside = with_report(make_pod("a"), BusyStatus::busy);
    inside.labels = {{"app", "jibri"}};
    Pod isolated_expired = with_report(make_pod("x"), BusyStatus::expired);
    isolated_expired.labels = {{"app", "jibri"}, {"jibri.dev/busy", "true"}};

    const auto decision = decide(pool, deployment, {inside, isolated_expired}, kNow);
    CHECK(summarize(decision.actions) == Strings{"isolate a", "delete x"});
    const auto& patch = std::get<IsolatePod>(decision.actions[0]).merge_patch;
    CHECK(patch["metadata"]["labels"] == nlohmann::json{{"jibri.dev/busy", "true"}});
}
