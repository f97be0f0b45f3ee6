#include "jibri/webhook.h"

#include "jibri/names.h"
#include "jibri/status_body.h"
#include "jibri/text.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <optional>
#include <vector>

namespace jpc::jibri {

namespace {

HttpError bad_request(std::string reason) {
    return HttpError{400, std::move(reason), {}};
}

HttpError not_found(std::string_view path) {
    return HttpError{404,
                     fmt::format("no route for {}; the webhook path is /webhook/<pod>/v1/status "
                                 "or /webhook/<namespace>/<pod>/v1/status",
                                 quote(path)),
                     {}};
}

HttpError method_not_allowed(std::string_view method, std::string_view path,
                             std::string_view allow) {
    return HttpError{405,
                     fmt::format("method {} is not allowed on {}; use {}", quote(method),
                                 quote(path), allow),
                     std::string(allow)};
}

// Splits "/a/b/c" into {"a", "b", "c"}. Expects a leading '/'.
std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> segments;
    std::size_t start = 1;
    while (true) {
        const std::size_t slash = path.find('/', start);
        if (slash == std::string_view::npos) {
            segments.push_back(path.substr(start));
            return segments;
        }
        segments.push_back(path.substr(start, slash - start));
        start = slash + 1;
    }
}

std::optional<HttpError> check_path_characters(std::string_view path) {
    for (const char c : path) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte == '%') {
            return bad_request(fmt::format(
                "path {} contains a percent-encoded character; names never need encoding",
                quote(path)));
        }
        if (byte <= 0x20 || byte >= 0x7f) {
            return bad_request(fmt::format(
                "path {} contains a byte outside printable ASCII", quote(path)));
        }
    }
    return std::nullopt;
}

std::optional<HttpError> check_segments(std::string_view path,
                                        const std::vector<std::string_view>& segments) {
    for (const auto segment : segments) {
        if (segment.empty() || segment == "." || segment == "..") {
            return bad_request(fmt::format(
                "path {} contains an empty, \".\" or \"..\" segment", quote(path)));
        }
    }
    return std::nullopt;
}

// Parses textual IPv4 or IPv6 into the 16-byte IPv6 form, IPv4 as IPv4-mapped.
std::optional<std::array<unsigned char, 16>> parse_ip(std::string_view text) {
    if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
        text = text.substr(1, text.size() - 2);
    }
    // inet_pton needs a terminated string; the longest IPv6 text is 45 characters.
    if (text.empty() || text.size() > 45) {
        return std::nullopt;
    }
    const std::string terminated(text);
    std::array<unsigned char, 16> address{};
    in_addr v4{};
    if (inet_pton(AF_INET, terminated.c_str(), &v4) == 1) {
        address[10] = 0xff;
        address[11] = 0xff;
        std::memcpy(address.data() + 12, &v4, 4);
        return address;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, terminated.c_str(), &v6) == 1) {
        std::memcpy(address.data(), &v6, 16);
        return address;
    }
    return std::nullopt;
}

}  // namespace

Result<Route, HttpError> route_request(std::string_view method, std::string_view target,
                                       std::string_view own_namespace) {
    const std::string_view path = target.substr(0, target.find('?'));
    if (path.empty() || path.front() != '/') {
        return fail(not_found(path));
    }

    if (path == "/") {
        if (method != "GET") {
            return fail(method_not_allowed(method, path, "GET"));
        }
        return RootRoute{};
    }

    if (auto error = check_path_characters(path)) {
        return fail(std::move(*error));
    }
    const auto segments = split_path(path);
    if (auto error = check_segments(path, segments)) {
        return fail(std::move(*error));
    }

    const bool short_form = segments.size() == 4;
    const bool long_form = segments.size() == 5;
    if (!(short_form || long_form) || segments.front() != "webhook" ||
        segments[segments.size() - 2] != "v1" || segments.back() != "status") {
        return fail(not_found(path));
    }
    if (method != "POST") {
        return fail(method_not_allowed(method, path, "POST"));
    }

    const std::string_view namespace_name = long_form ? segments[1] : own_namespace;
    const std::string_view pod_name = long_form ? segments[2] : segments[1];
    if (long_form) {
        if (auto error = validate_dns1123_label(namespace_name)) {
            return fail(bad_request("invalid namespace: " + *error));
        }
    }
    if (auto error = validate_dns1123_subdomain(pod_name)) {
        return fail(bad_request("invalid pod name: " + *error));
    }
    return StatusRoute{std::string(namespace_name), std::string(pod_name)};
}

Result<StatusReport, HttpError> parse_webhook_body(std::string_view body) {
    const auto root = detail::parse_json_body(body);
    if (!root) {
        return fail(root.error());
    }
    auto report = detail::read_status_object(root.value());
    if (!report) {
        return report;
    }

    const auto id = root.value().find("jibriId");
    if (id == root.value().end() || id->is_null()) {
        return fail(bad_request("missing field jibriId"));
    }
    if (!id->is_string()) {
        return fail(
            bad_request(fmt::format("field jibriId must be a string, got {}", id->type_name())));
    }
    if (id->get_ref<const std::string&>().empty()) {
        return fail(bad_request("field jibriId is empty"));
    }

    StatusReport result = std::move(report).value();
    result.jibri_id = id->get<std::string>();
    return result;
}

bool source_ip_matches(std::string_view pod_ip, std::string_view remote_ip) {
    const auto pod = parse_ip(pod_ip);
    const auto remote = parse_ip(remote_ip);
    return pod && remote && *pod == *remote;
}

}  // namespace jpc::jibri
