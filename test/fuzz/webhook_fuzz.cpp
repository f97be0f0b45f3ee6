// Fuzzes the webhook request path: route_request on a method and request target, then
// parse_webhook_body on a body. Both report errors as values and never throw, so any
// exception is a finding, and so is a result that breaks the contract in jibri/webhook.h.
//
// Input: METHOD '\n' TARGET '\n' BODY. A missing part is empty, and the body may contain
// more newlines.

#include "fuzz_support.h"

#include "jibri/names.h"
#include "jibri/webhook.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace {

using jpc::fuzz::check;
using namespace jpc::jibri;

constexpr std::string_view own_namespace = "jibri";

struct Request {
    std::string_view method;
    std::string_view target;
    std::string_view body;
};

Request split_input(std::string_view input) {
    Request request;
    const std::size_t method_end = input.find('\n');
    request.method = input.substr(0, method_end);
    if (method_end == std::string_view::npos) {
        return request;
    }
    input.remove_prefix(method_end + 1);

    const std::size_t target_end = input.find('\n');
    request.target = input.substr(0, target_end);
    if (target_end == std::string_view::npos) {
        return request;
    }
    request.body = input.substr(target_end + 1);
    return request;
}

// HttpError::reason is sent as a response body and logged, so it must be one line of
// printable ASCII.
bool is_printable_ascii(std::string_view text) {
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte > 0x7e) {
            return false;
        }
    }
    return true;
}

void check_error(const HttpError& error) {
    check(error.status == 400 || error.status == 404 || error.status == 405 || error.status == 413,
          "HttpError status is one of 400, 404, 405, 413");
    check(!error.reason.empty(), "HttpError reason is not empty");
    check(is_printable_ascii(error.reason), "HttpError reason is printable ASCII");
    if (error.status == 405) {
        check(error.allow == "GET" || error.allow == "POST", "a 405 sets allow to GET or POST");
    } else {
        check(error.allow.empty(), "only a 405 sets allow");
    }
}

void check_route(const Request& request) {
    const auto route = route_request(request.method, request.target, own_namespace);
    if (!route) {
        check_error(route.error());
        check(route.error().status != 413, "routing never returns 413");
        return;
    }

    const std::string_view path = request.target.substr(0, request.target.find('?'));
    if (std::holds_alternative<RootRoute>(route.value())) {
        check(path == "/", "RootRoute only for /");
        check(request.method == "GET", "RootRoute only for GET");
        return;
    }

    const auto& status = std::get<StatusRoute>(route.value());
    check(request.method == "POST", "StatusRoute only for POST");
    check(!validate_dns1123_label(status.namespace_name), "routed namespace is a DNS-1123 label");
    check(!validate_dns1123_subdomain(status.pod_name), "routed pod name is a DNS-1123 subdomain");
    check(path.starts_with("/webhook/"), "routed path starts with /webhook/");
    check(path.ends_with("/" + status.pod_name + "/v1/status"), "routed path ends with the pod name");
    const bool short_form = path == "/webhook/" + status.pod_name + "/v1/status";
    if (short_form) {
        check(status.namespace_name == own_namespace, "short form uses the operator's namespace");
    }
}

void check_body(std::string_view body) {
    const auto report = parse_webhook_body(body);
    if (!report) {
        check_error(report.error());
        check(report.error().status == 400 || report.error().status == 413,
              "a body error is 400 or 413");
        check((report.error().status == 413) == (body.size() > kMaxBodyBytes),
              "413 exactly when the body is larger than kMaxBodyBytes");
        if (report.error().reason.starts_with("invalid JSON")) {
            check(!nlohmann::json::accept(body), "a body reported as invalid JSON is invalid");
        }
        return;
    }

    check(nlohmann::json::accept(body), "an accepted body is valid JSON");
    check(report.value().jibri_id.has_value(), "an accepted body has a jibriId");
    check(!report.value().jibri_id->empty(), "an accepted jibriId is not empty");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Request request = split_input(jpc::fuzz::as_text(data, size));
    check_route(request);
    check_body(request.body);
    return 0;
}
