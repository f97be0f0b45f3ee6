#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace jpc::pool {

// Set to "false" on an isolated pod so the cluster autoscaler does not evict it while
// its jibri records.
inline constexpr std::string_view kSafeToEvictAnnotation =
    "cluster-autoscaler.kubernetes.io/safe-to-evict";

// Event reasons.
inline constexpr std::string_view kEventIsolated = "Isolated";
inline constexpr std::string_view kEventDeleted = "Deleted";
inline constexpr std::string_view kEventScaled = "Scaled";

// The object an action or event is about, enough to build its URL and an event's
// involvedObject.
struct ObjectRef {
    std::string api_version;
    std::string kind;
    std::string namespace_name;
    std::string name;
    std::string uid;

    bool operator==(const ObjectRef&) const = default;
};

enum class EventType { normal, warning };

// "Normal" or "Warning", as core/v1 Event.type spells them.
std::string_view to_string(EventType type);

// A Kubernetes Event to record.
struct Event {
    ObjectRef regarding;
    EventType type = EventType::normal;
    // CamelCase, e.g. "Isolated".
    std::string reason;
    std::string message;
};

// Takes a BUSY pod out of the Deployment: PATCH the pod with `merge_patch`
// (application/merge-patch+json), which sets the busy labels and kSafeToEvictAnnotation.
// The ReplicaSet then releases the pod and creates a replacement.
struct IsolatePod {
    ObjectRef pod;
    nlohmann::json merge_patch;
    Event event;
};

// Deletes a pod: DELETE with `delete_options` as the body. Its preconditions carry the uid
// and resourceVersion the decision saw. The API server returns 409 Conflict instead of
// deleting a pod that was replaced or changed since, and the caller then requeues.
struct DeletePod {
    ObjectRef pod;
    std::string resource_version;
    nlohmann::json delete_options;
    // Why, for the log: "jibri reported EXPIRED" or "isolated pod in phase Failed".
    std::string reason;
    Event event;
};

// Sets the Deployment's replicas: PATCH its scale subresource with `merge_patch`,
// {"spec":{"replicas":to}}.
struct ScaleDeployment {
    ObjectRef deployment;
    std::int32_t from = 0;
    std::int32_t to = 0;
    nlohmann::json merge_patch;
    Event event;
};

// Records an event that belongs to no other action, such as a pool turning Degraded.
struct RecordEvent {
    Event event;
};

using Action = std::variant<IsolatePod, DeletePod, ScaleDeployment, RecordEvent>;

// Returns the event that goes with an action.
const Event& event_of(const Action& action);

// Describes the action in one line for the log, naming the object and its uid:
// "isolate pod jitsi/jibri-7d9-abcde (uid 1234): jibri reported BUSY".
std::string describe(const Action& action);

}  // namespace jpc::pool
