#pragma once

#include "jibri/http_error.h"
#include "jibri/report.h"
#include "jibri/result.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace jpc::jibri {

// Largest request body accepted, in bytes. Jibri's status bodies are a few hundred bytes.
inline constexpr std::size_t kMaxBodyBytes = 64 * 1024;

// Deepest nesting of JSON objects and arrays accepted in a body. Jibri's bodies nest 5 deep.
inline constexpr int kMaxJsonDepth = 32;

// GET /, which the server answers with 200 and an empty body (a liveness probe).
struct RootRoute {
    bool operator==(const RootRoute&) const = default;
};

// POST /webhook/<pod>/v1/status or POST /webhook/<namespace>/<pod>/v1/status.
// Jibri's webhook subscriber URL is the prefix up to the pod name, and jibri appends
// "/v1/status" itself.
struct StatusRoute {
    std::string namespace_name;
    std::string pod_name;

    bool operator==(const StatusRoute&) const = default;
};

using Route = std::variant<RootRoute, StatusRoute>;

// Routes a request by method and request target (the path as sent, still percent-encoded;
// a query string is ignored). `own_namespace` fills in the namespace of the short form.
//
// Errors, in the order they are checked:
// - 400 when the path contains '%', a byte outside printable ASCII, or an empty, "." or ".."
//   segment. No valid path needs percent-encoding, so encoded slashes and dots never reach
//   name validation.
// - 404 when the segments have neither webhook shape.
// - 405 with `allow` set when the method does not fit the path ("GET" for /, "POST" for
//   the webhook).
// - 400 when the namespace is not a DNS-1123 label or the pod name not a DNS-1123
//   subdomain (uppercase included).
// Whether the namespace is one the operator watches is left to the caller.
Result<Route, HttpError> route_request(std::string_view method, std::string_view target,
                                       std::string_view own_namespace);

// Parses a webhook body. Requires a JSON object with a string "jibriId" and "status" with
// "busyStatus" (IDLE, BUSY, EXPIRED) and "health.healthStatus" (HEALTHY, UNHEALTHY). Other
// fields ("sessionId", "details", ...) are ignored.
// Errors: 413 past kMaxBodyBytes; 400 for nesting past kMaxJsonDepth (checked before
// parsing, so a deeply nested body cannot exhaust the stack), invalid JSON, or a missing or
// mistyped field, with a reason naming the field.
Result<StatusReport, HttpError> parse_webhook_body(std::string_view body);

// Returns whether a request's remote address is the pod's IP. Both are textual IPv4 or
// IPv6 addresses; an IPv4-mapped IPv6 address ("::ffff:10.0.0.5") equals its IPv4 form,
// and IPv6 text may be bracketed. Returns false when either does not parse.
bool source_ip_matches(std::string_view pod_ip, std::string_view remote_ip);

}  // namespace jpc::jibri
