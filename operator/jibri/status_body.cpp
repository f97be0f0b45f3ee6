#include "jibri/status_body.h"

#include "jibri/text.h"
#include "jibri/webhook.h"

#include <fmt/format.h>

namespace jpc::jibri::detail {

namespace {

HttpError bad_request(std::string reason) {
    return HttpError{400, std::move(reason), {}};
}

// Returns the deepest nesting of objects and arrays outside strings. Strings are skipped
// the way a JSON lexer reads them (a backslash escapes the next byte), so the count agrees
// with the parser for any prefix the parser accepts. Stops counting past `limit`.
int max_nesting_depth(std::string_view body, int limit) {
    int depth = 0;
    int deepest = 0;
    bool in_string = false;
    bool escaped = false;
    for (const char c : body) {
        if (in_string) {
            if (escaped) {
                escaped = false;
            } else if (c == '\\') {
                escaped = true;
            } else if (c == '"') {
                in_string = false;
            }
            continue;
        }
        if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            ++depth;
            if (depth > deepest) {
                deepest = depth;
            }
            if (deepest > limit) {
                return deepest;
            }
        } else if (c == '}' || c == ']') {
            --depth;
        }
    }
    return deepest;
}

std::string_view type_name(const nlohmann::json& value) {
    return value.type_name();
}

// Returns the member `key` of `object` when it is a string, or the error naming `field`.
Result<std::string, HttpError> string_member(const nlohmann::json& object, const char* key,
                                             std::string_view field) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return fail(bad_request(fmt::format("missing field {}", field)));
    }
    if (!it->is_string()) {
        return fail(bad_request(
            fmt::format("field {} must be a string, got {}", field, type_name(*it))));
    }
    return it->get<std::string>();
}

Result<const nlohmann::json*, HttpError> object_member(const nlohmann::json& object,
                                                       const char* key, std::string_view field) {
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return fail(bad_request(fmt::format("missing field {}", field)));
    }
    if (!it->is_object()) {
        return fail(bad_request(
            fmt::format("field {} must be an object, got {}", field, type_name(*it))));
    }
    return &*it;
}

}  // namespace

Result<nlohmann::json, HttpError> parse_json_body(std::string_view body) {
    if (body.size() > kMaxBodyBytes) {
        return fail(HttpError{
            413, fmt::format("body of {} bytes is larger than the limit of {} bytes", body.size(),
                             kMaxBodyBytes),
            {}});
    }
    if (max_nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth) {
        return fail(bad_request(
            fmt::format("JSON nesting is deeper than the limit of {} levels", kMaxJsonDepth)));
    }
    try {
        return nlohmann::json::parse(body);
    } catch (const nlohmann::json::parse_error& error) {
        // error.what() starts with "[json.exception.parse_error.101] " and may echo input,
        // so the reason gives only the byte offset.
        return fail(bad_request(fmt::format("invalid JSON near byte {}", error.byte)));
    } catch (const nlohmann::json::out_of_range&) {
        // The parser throws out_of_range, not parse_error, for a number that overflows a
        // double, such as 1e400.
        return fail(bad_request("invalid JSON: a number is out of range"));
    }
}

Result<StatusReport, HttpError> read_status_object(const nlohmann::json& root) {
    if (!root.is_object()) {
        return fail(
            bad_request(fmt::format("body must be a JSON object, got {}", type_name(root))));
    }
    const auto status = object_member(root, "status", "status");
    if (!status) {
        return fail(status.error());
    }

    const auto busy_text = string_member(*status.value(), "busyStatus", "status.busyStatus");
    if (!busy_text) {
        return fail(busy_text.error());
    }
    const auto busy = parse_busy_status(busy_text.value());
    if (!busy) {
        return fail(bad_request(fmt::format(
            "invalid status.busyStatus {}; expected IDLE, BUSY or EXPIRED", quote(busy_text.value()))));
    }

    const auto health = object_member(*status.value(), "health", "status.health");
    if (!health) {
        return fail(health.error());
    }
    const auto health_text =
        string_member(*health.value(), "healthStatus", "status.health.healthStatus");
    if (!health_text) {
        return fail(health_text.error());
    }
    const auto health_status = parse_health_status(health_text.value());
    if (!health_status) {
        return fail(bad_request(
            fmt::format("invalid status.health.healthStatus {}; expected HEALTHY or UNHEALTHY",
                        quote(health_text.value()))));
    }

    return StatusReport{*busy, *health_status, std::nullopt};
}

}  // namespace jpc::jibri::detail
