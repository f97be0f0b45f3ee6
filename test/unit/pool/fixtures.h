#pragma once

// Builders for the value types that pool tests feed to decide().

#include "jibri/annotations.h"
#include "jibri/report.h"
#include "pool/decide.h"

#include <chrono>
#include <string>

namespace jpc::test {

inline const jibri::Timestamp kNow{std::chrono::sys_days{std::chrono::year{2024} / 5 / 1} +
                                   std::chrono::hours{12}};

// A pool "jibri" in namespace "jitsi" on Deployment "jibri", spare 2, busy label
// jibri.dev/state=busy against matchLabels app=jibri, jibri.dev/state=idle.
inline pool::JibriPool make_pool(std::int32_t spare = 2) {
    pool::JibriPool result;
    result.name = "jibri";
    result.namespace_name = "jitsi";
    result.uid = "pool-uid";
    result.generation = 3;
    result.spec.deployment_name = "jibri";
    result.spec.spare = spare;
    result.spec.busy_labels = {{"jibri.dev/state", "busy"}};
    return result;
}

inline pool::Deployment make_deployment(std::int32_t replicas) {
    pool::Deployment result;
    result.name = "jibri";
    result.namespace_name = "jitsi";
    result.uid = "deployment-uid";
    result.generation = 1;
    result.replicas = replicas;
    result.selector.match_labels = {{"app", "jibri"}, {"jibri.dev/state", "idle"}};
    return result;
}

// A running pod inside the fixture Deployment's selector, with no report yet.
inline pool::Pod make_pod(const std::string& name) {
    pool::Pod result;
    result.name = name;
    result.namespace_name = "jitsi";
    result.uid = name + "-uid";
    result.resource_version = "100";
    result.labels = {{"app", "jibri"}, {"jibri.dev/state", "idle"}};
    result.phase = "Running";
    result.pod_ip = "10.0.0.1";
    return result;
}

inline pool::Pod with_report(pool::Pod pod, jibri::BusyStatus busy) {
    pod.annotations[std::string(jibri::kBusyStatusAnnotation)] = std::string(jibri::to_string(busy));
    pod.annotations[std::string(jibri::kHealthStatusAnnotation)] = "HEALTHY";
    pod.annotations[std::string(jibri::kReportedAtAnnotation)] = "2024-05-01T11:59:00.000000Z";
    return pod;
}

// The pod as isolate would leave it: busy labels set, so outside the selector.
inline pool::Pod isolated_pod(const std::string& name, jibri::BusyStatus busy) {
    pool::Pod pod = with_report(make_pod(name), busy);
    pod.labels["jibri.dev/state"] = "busy";
    return pod;
}

}  // namespace jpc::test
