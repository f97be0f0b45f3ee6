#pragma once

// Jibri's status as it appears on the wire: in the body of GET /jibri/api/v1.0/health and
// in the status webhook that Jibri POSTs to SUBSCRIBER/v1/status.

#include <optional>
#include <string>
#include <string_view>

namespace jpc::sim {

// EXPIRED: a single-use jibri has finished its one recording and must be replaced.
enum class BusyStatus { Idle, Busy, Expired };

enum class HealthStatus { Healthy, Unhealthy };

struct JibriStatus {
    BusyStatus busy_status = BusyStatus::Idle;
    HealthStatus health_status = HealthStatus::Healthy;

    bool operator==(const JibriStatus&) const = default;
};

// Returns the wire spelling: "IDLE", "BUSY", "EXPIRED".
std::string_view to_string(BusyStatus status);

// Returns the wire spelling: "HEALTHY", "UNHEALTHY".
std::string_view to_string(HealthStatus status);

// Returns the health API body, for example
// {"status":{"busyStatus":"BUSY","health":{"healthStatus":"HEALTHY","details":{}}},"environmentContext":null}.
// `details` is always empty.
std::string health_body(const JibriStatus& status);

// Returns a status webhook body: {"jibriId":..., "sessionId":..., "status":{...}}.
// A missing session_id is sent as "sessionId":null, as newer jibri versions do between
// recordings.
std::string webhook_body(std::string_view jibri_id, const JibriStatus& status,
                         const std::optional<std::string>& session_id = std::nullopt);

// Returns a status webhook body without the sessionId field, as jibri versions from before
// that field send it.
std::string legacy_webhook_body(std::string_view jibri_id, const JibriStatus& status);

}  // namespace jpc::sim
