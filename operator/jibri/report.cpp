#include "jibri/report.h"

namespace jpc::jibri {

std::string_view to_string(BusyStatus status) {
    switch (status) {
    case BusyStatus::idle:
        return "IDLE";
    case BusyStatus::busy:
        return "BUSY";
    case BusyStatus::expired:
        return "EXPIRED";
    }
    return "UNKNOWN";
}

std::string_view to_string(HealthStatus status) {
    switch (status) {
    case HealthStatus::healthy:
        return "HEALTHY";
    case HealthStatus::unhealthy:
        return "UNHEALTHY";
    }
    return "UNKNOWN";
}

std::optional<BusyStatus> parse_busy_status(std::string_view text) {
    if (text == "IDLE") {
        return BusyStatus::idle;
    }
    if (text == "BUSY") {
        return BusyStatus::busy;
    }
    if (text == "EXPIRED") {
        return BusyStatus::expired;
    }
    return std::nullopt;
}

std::optional<HealthStatus> parse_health_status(std::string_view text) {
    if (text == "HEALTHY") {
        return HealthStatus::healthy;
    }
    if (text == "UNHEALTHY") {
        return HealthStatus::unhealthy;
    }
    return std::nullopt;
}

}  // namespace jpc::jibri
