#pragma once

#include "jibri/time.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace jpc::pool {

// Condition types and reasons of a JibriPool.
inline constexpr std::string_view kConditionReady = "Ready";
inline constexpr std::string_view kConditionDegraded = "Degraded";

inline constexpr std::string_view kReasonAsExpected = "AsExpected";
inline constexpr std::string_view kReasonSparePodsIdle = "SparePodsIdle";
inline constexpr std::string_view kReasonWaitingForIdlePods = "WaitingForIdlePods";
inline constexpr std::string_view kReasonDeploymentNotFound = "DeploymentNotFound";
inline constexpr std::string_view kReasonInvalidSelector = "InvalidSelector";
inline constexpr std::string_view kReasonBusyLabelsMatchSelector = "BusyLabelsMatchSelector";
// The JibriPool itself failed parse_jibri_pool; decide() never sets it, the caller does.
inline constexpr std::string_view kReasonInvalidSpec = "InvalidSpec";

// A metav1.Condition.
struct Condition {
    std::string type;
    // "True", "False" or "Unknown".
    std::string status;
    std::string reason;
    std::string message;
    // Whole seconds, like metav1.Time.
    jibri::Timestamp last_transition_time{};
    std::int64_t observed_generation = 0;

    bool operator==(const Condition&) const = default;
};

// The status subresource of a JibriPool.
struct PoolStatus {
    std::int64_t observed_generation = 0;
    // The replica count the operator wants on the Deployment.
    std::int32_t replicas = 0;
    // Pods inside the Deployment's selector whose latest report is IDLE.
    std::int32_t idle = 0;
    // Pods whose latest report is BUSY, plus running isolated pods that did not report
    // EXPIRED. They count against spec.maxPods.
    std::int32_t busy = 0;
    // Pods that reported EXPIRED or are isolated in phase Succeeded or Failed, until they
    // are gone.
    std::int32_t expiring = 0;
    std::vector<Condition> conditions;
    std::optional<jibri::Timestamp> last_sweep_time;

    // Compares every field. A Condition keeps its last_transition_time while its status is
    // unchanged (see merge_conditions), so an unchanged pool compares equal.
    bool operator==(const PoolStatus&) const = default;

    const Condition* find_condition(std::string_view type) const;
};

// Returns `desired` with each condition's last_transition_time taken from the condition of
// the same type in `previous` when its status is unchanged, and `now` truncated to whole
// seconds when it is new or its status changed. Reason, message and observed_generation
// come from `desired`.
std::vector<Condition> merge_conditions(const std::vector<Condition>& previous,
                                        std::vector<Condition> desired, jibri::Timestamp now);

// Parses .status of a JibriPool. Fields that are absent or mistyped keep their defaults,
// because the operator wrote them and the worst outcome is one more status write.
PoolStatus parse_pool_status(const nlohmann::json& status);

// Serializes to the JSON of .status (times as RFC 3339 whole seconds).
nlohmann::json to_json(const PoolStatus& status);

// Builds the merge patch for the status subresource, {"status": {...}}. The conditions
// array is replaced whole, which is what a merge patch does with arrays. lastSweepTime is
// left out, so a reconcile working from a cached pool never rolls back the sweeper's value.
nlohmann::json build_status_patch(const PoolStatus& status);

// Builds the merge patch {"status": {"lastSweepTime": ...}} that the sweeper writes.
nlohmann::json build_sweep_time_patch(jibri::Timestamp swept_at);

}  // namespace jpc::pool
