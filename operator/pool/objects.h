#pragma once

#include "jibri/annotations.h"
#include "jibri/result.h"
#include "jibri/time.h"
#include "pool/labels.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace jpc::pool {

// The parts of a v1 Pod that the decision reads.
struct Pod {
    std::string name;
    std::string namespace_name;
    std::string uid;
    std::string resource_version;
    Labels labels;
    jibri::Annotations annotations;
    // status.phase: Pending, Running, Succeeded, Failed or Unknown; empty when absent.
    std::string phase;
    std::string pod_ip;
    // Set once the pod is being deleted.
    std::optional<jibri::Timestamp> deletion_timestamp;

    bool terminal() const { return phase == "Succeeded" || phase == "Failed"; }
    bool being_deleted() const { return deletion_timestamp.has_value(); }
};

// The parts of an apps/v1 Deployment that the decision reads.
struct Deployment {
    std::string name;
    std::string namespace_name;
    std::string uid;
    std::string resource_version;
    std::int64_t generation = 0;
    // spec.replicas; the API server defaults it to 1.
    std::int32_t replicas = 1;
    LabelSelector selector;
    // Set when spec.selector is missing or invalid; `selector` is empty then.
    std::optional<std::string> selector_error;
};

// Parses a v1 Pod object. Requires metadata.name, metadata.namespace and metadata.uid;
// the error names the missing field.
jibri::Result<Pod, std::string> parse_pod(const nlohmann::json& object);

// Parses an apps/v1 Deployment object. Requires metadata.name, metadata.namespace and
// metadata.uid. An invalid spec.selector does not fail the parse: it sets selector_error,
// so the pool can report it in a condition.
jibri::Result<Deployment, std::string> parse_deployment(const nlohmann::json& object);

}  // namespace jpc::pool
