#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jpc::jibri {

// Jibri's busy status. A single-use jibri goes IDLE -> BUSY -> EXPIRED; EXPIRED means it
// finished its one recording and its pod must be replaced.
enum class BusyStatus { idle, busy, expired };

enum class HealthStatus { healthy, unhealthy };

// Wire spellings: "IDLE", "BUSY", "EXPIRED", "HEALTHY", "UNHEALTHY".
std::string_view to_string(BusyStatus status);
std::string_view to_string(HealthStatus status);

// Parses the exact wire spelling (case-sensitive). Returns nullopt for anything else.
std::optional<BusyStatus> parse_busy_status(std::string_view text);
std::optional<HealthStatus> parse_health_status(std::string_view text);

// One status report of a jibri, from its webhook POST or its health API.
struct StatusReport {
    BusyStatus busy = BusyStatus::idle;
    HealthStatus health = HealthStatus::healthy;
    // The "jibriId" of a webhook body. Health API bodies carry no id.
    std::optional<std::string> jibri_id;

    bool operator==(const StatusReport&) const = default;
};

}  // namespace jpc::jibri
