#pragma once

#include "jibri/result.h"
#include "pool/labels.h"
#include "pool/status.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jpc::pool {

inline constexpr std::string_view kGroup = "jibri.dev";
inline constexpr std::string_view kVersion = "v1alpha1";
inline constexpr std::string_view kApiVersion = "jibri.dev/v1alpha1";
inline constexpr std::string_view kKind = "JibriPool";
inline constexpr std::string_view kPlural = "jibripools";

// spec.health: how the sweeper reaches jibri's health API on each pod.
struct HealthCheck {
    std::int32_t port = 2222;
    std::string path = "/jibri/api/v1.0/health";
    std::int32_t timeout_seconds = 2;

    bool operator==(const HealthCheck&) const = default;
};

// spec.webhook.
struct WebhookOptions {
    // Accept a webhook report only from the reported pod's own IP.
    bool verify_source_ip = true;

    bool operator==(const WebhookOptions&) const = default;
};

// spec of a JibriPool, with the CRD's defaults applied.
struct PoolSpec {
    // The jibri Deployment in the pool's namespace. Its selector defines the idle pods.
    std::string deployment_name;
    // Idle pods to keep ready; the operator sets the Deployment's replicas from it.
    std::int32_t spare = 0;
    // Cap on idle plus busy pods; replicas = max(0, min(spare, maxPods - busy)).
    std::optional<std::int32_t> max_pods;
    // Written on a pod when its jibri reports BUSY. They must take the pod out of the
    // Deployment's selector.
    Labels busy_labels;
    std::int32_t sweep_interval_seconds = 300;
    HealthCheck health;
    WebhookOptions webhook;

    bool operator==(const PoolSpec&) const = default;
};

struct JibriPool {
    std::string name;
    std::string namespace_name;
    std::string uid;
    std::string resource_version;
    std::int64_t generation = 0;
    PoolSpec spec;
    // The status as last written, read for condition transition times and to skip
    // unchanged writes.
    PoolStatus status;
};

// Parses a JibriPool object, applying the CRD's defaults to absent optional fields.
// On failure the error lists every invalid field, separated by "; ", each naming the
// field and value and saying what to set, for example
// `spec.spare: invalid value -1; set a whole number >= 0`.
jibri::Result<JibriPool, std::string> parse_jibri_pool(const nlohmann::json& object);

}  // namespace jpc::pool
