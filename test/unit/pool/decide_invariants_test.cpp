#include "decide_summary.h"
#include "fixtures.h"

#include <catch2/catch.hpp>

#include <optional>

using namespace jpc::pool;
using namespace jpc::test;
using jpc::jibri::BusyStatus;

namespace {

// One pod in every combination of report, placement, phase and deletion.
struct PodState {
    std::optional<BusyStatus> report;
    bool isolated = false;
    const char* phase = "Running";
    bool being_deleted = false;
};

std::vector<PodState> all_pod_states() {
    const std::optional<BusyStatus> reports[] = {std::nullopt, BusyStatus::idle, BusyStatus::busy,
                                                 BusyStatus::expired};
    const char* phases[] = {"Pending", "Running", "Succeeded", "Failed", "Unknown"};
    std::vector<PodState> states;
    for (const auto& report : reports) {
        for (const bool isolated : {false, true}) {
            for (const char* phase : phases) {
                for (const bool deleting : {false, true}) {
                    states.push_back(PodState{report, isolated, phase, deleting});
                }
            }
        }
    }
    return states;
}

Pod make_state_pod(const PodState& state) {
    Pod pod = make_pod("p");
    if (state.report) {
        pod = with_report(pod, *state.report);
    }
    if (state.isolated) {
        pod.labels["jibri.dev/state"] = "busy";
    }
    pod.phase = state.phase;
    if (state.being_deleted) {
        pod.deletion_timestamp = kNow;
    }
    return pod;
}

bool terminal(const char* phase) {
    return std::string_view(phase) == "Succeeded" || std::string_view(phase) == "Failed";
}

}  // namespace

TEST_CASE("decide invariants over pod states", "[decide][invariants]") {
    // Each state against a Deployment that is too large, so a scale-down is wanted.
    for (const auto& state : all_pod_states()) {
        const Pod pod = make_state_pod(state);
        INFO("report " << (state.report ? std::string(jpc::jibri::to_string(*state.report)) : "none")
                       << ", isolated " << state.isolated << ", phase " << state.phase
                       << ", being deleted " << state.being_deleted);
        const auto decision = decide(make_pool(1), make_deployment(3), {pod}, kNow);
        const auto actions = summarize(decision.actions);
        const bool deleted = std::find(actions.begin(), actions.end(), "delete p") != actions.end();
        const bool isolated = std::find(actions.begin(), actions.end(), "isolate p") != actions.end();
        const bool scaled_down = std::find(actions.begin(), actions.end(), "scale 3->1") != actions.end();

        // A BUSY pod is deleted only when isolated and its containers have exited.
        if (state.report == BusyStatus::busy) {
            CHECK((!deleted || (state.isolated && terminal(state.phase))));
        }
        // A pod without an EXPIRED report is deleted only when isolated and terminated.
        if (state.report != BusyStatus::expired) {
            CHECK((!deleted || (state.isolated && terminal(state.phase))));
        }
        // A pod being deleted gets no action.
        if (state.being_deleted) {
            CHECK_FALSE(deleted);
            CHECK_FALSE(isolated);
        }
        // An EXPIRED pod not yet being deleted is deleted.
        if (state.report == BusyStatus::expired && !state.being_deleted) {
            CHECK(deleted);
        }
        // A running BUSY pod inside the Deployment is isolated and blocks the scale-down.
        const bool busy_inside = state.report == BusyStatus::busy && !state.isolated &&
                                 !terminal(state.phase) && !state.being_deleted;
        CHECK(isolated == busy_inside);
        CHECK(scaled_down == !busy_inside);
        // Actions never touch a pod twice.
        CHECK_FALSE((deleted && isolated));
    }
}
