#include "sim/jibri_status.h"

#include <nlohmann/json.hpp>

namespace jpc::sim {

namespace {

nlohmann::json status_json(const JibriStatus& status) {
    return {
        {"busyStatus", to_string(status.busy_status)},
        {"health",
         {{"healthStatus", to_string(status.health_status)},
          {"details", nlohmann::json::object()}}},
    };
}

}  // namespace

std::string_view to_string(BusyStatus status) {
    switch (status) {
        case BusyStatus::Idle:
            return "IDLE";
        case BusyStatus::Busy:
            return "BUSY";
        case BusyStatus::Expired:
            return "EXPIRED";
    }
    return "UNKNOWN";
}

std::string_view to_string(HealthStatus status) {
    switch (status) {
        case HealthStatus::Healthy:
            return "HEALTHY";
        case HealthStatus::Unhealthy:
            return "UNHEALTHY";
    }
    return "UNKNOWN";
}

std::string health_body(const JibriStatus& status) {
    nlohmann::json body = {
        {"status", status_json(status)},
        {"environmentContext", nullptr},
    };
    return body.dump();
}

std::string webhook_body(std::string_view jibri_id, const JibriStatus& status,
                         const std::optional<std::string>& session_id) {
    nlohmann::json body = {
        {"jibriId", jibri_id},
        {"sessionId", session_id ? nlohmann::json(*session_id) : nlohmann::json(nullptr)},
        {"status", status_json(status)},
    };
    return body.dump();
}

std::string legacy_webhook_body(std::string_view jibri_id, const JibriStatus& status) {
    nlohmann::json body = {
        {"jibriId", jibri_id},
        {"status", status_json(status)},
    };
    return body.dump();
}

}  // namespace jpc::sim
