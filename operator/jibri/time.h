#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace jpc::jibri {

// A point in UTC with microsecond resolution. Callers pass the current time in, so nothing
// in the pure libraries reads a clock.
using Timestamp = std::chrono::sys_time<std::chrono::microseconds>;

// Formats as RFC 3339 in UTC with six fractional digits: "2024-05-01T12:00:00.123456Z".
std::string format_rfc3339_micro(Timestamp time);

// Formats as RFC 3339 in UTC with whole seconds ("2024-05-01T12:00:00Z"), the form of
// Kubernetes metav1.Time. The fraction is truncated.
std::string format_rfc3339(Timestamp time);

// Parses an RFC 3339 date-time with an optional fraction of 1 to 9 digits (truncated to
// microseconds) and a "Z" or "+hh:mm"/"-hh:mm" offset. Returns nullopt for anything else.
std::optional<Timestamp> parse_rfc3339(std::string_view text);

// Truncates to whole seconds, the precision Kubernetes stores for metav1.Time.
Timestamp truncate_to_seconds(Timestamp time);

}  // namespace jpc::jibri
