#include "kube/errors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace jpc::kube {

namespace {

// Longest part of a non-Status body quoted in an error message.
constexpr std::size_t max_quoted_body = 512;

std::string describe_api_error(int code, const std::string& reason, const std::string& message,
                               const std::string& verb, const std::string& path) {
    std::string text = fmt::format("{} {}: {}", verb, path, code);
    if (!reason.empty()) text += " " + reason;
    if (!message.empty()) text += ": " + message;
    return text;
}

std::optional<std::chrono::seconds> parse_retry_after(std::string_view value) {
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.front()))) value.remove_prefix(1);
    while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.remove_suffix(1);
    long long seconds = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    // The HTTP-date form is not used by the API server and is ignored.
    if (value.empty() || error != std::errc() || end != value.data() + value.size() || seconds < 0) {
        return std::nullopt;
    }
    return std::chrono::seconds(seconds);
}

std::string_view kind_name(TransportError::Kind kind) {
    switch (kind) {
        case TransportError::Kind::connect: return "connection failed";
        case TransportError::Kind::timeout: return "timed out";
        case TransportError::Kind::broken: return "connection broken";
        case TransportError::Kind::cancelled: return "cancelled";
    }
    return "failed";
}

// The member `key` of a Status object when it is a string, else an empty string. A Status
// comes from the network, and json::value() throws type_error for a member of another type.
std::string string_field(const nlohmann::json& status, const char* key) {
    auto member = status.find(key);
    return member != status.end() && member->is_string() ? member->get<std::string>() : std::string();
}

bool is_status(const nlohmann::json& body) {
    return body.is_object() && string_field(body, "kind") == "Status";
}

// Status.code when it is an integer in the range of int, else `fallback`. json::value()
// would convert a float such as 1e300 to int, which is undefined behaviour.
int code_field(const nlohmann::json& status, int fallback) {
    auto member = status.find("code");
    if (member == status.end() || !member->is_number_integer()) return fallback;
    if (member->is_number_unsigned()) {
        auto code = member->get<std::uint64_t>();
        return code <= static_cast<std::uint64_t>(std::numeric_limits<int>::max()) ? static_cast<int>(code) : fallback;
    }
    auto code = member->get<std::int64_t>();
    return code >= std::numeric_limits<int>::min() && code <= std::numeric_limits<int>::max() ? static_cast<int>(code)
                                                                                               : fallback;
}

// Status.details.retryAfterSeconds when it is a non-negative integer, as a Retry-After
// header must be.
std::optional<std::chrono::seconds> retry_after_field(const nlohmann::json& status) {
    auto details = status.find("details");
    if (details == status.end() || !details->is_object()) return std::nullopt;
    auto seconds = details->find("retryAfterSeconds");
    if (seconds == details->end() || !seconds->is_number_integer()) return std::nullopt;
    if (seconds->is_number_unsigned()) {
        auto value = seconds->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
        return std::chrono::seconds(static_cast<std::int64_t>(value));
    }
    auto value = seconds->get<std::int64_t>();
    if (value < 0) return std::nullopt;
    return std::chrono::seconds(value);
}

}  // namespace

ApiError::ApiError(int code, std::string reason, std::string message, std::string verb,
                   std::string path, std::optional<std::chrono::seconds> retry_after,
                   nlohmann::json status)
    : std::runtime_error(describe_api_error(code, reason, message, verb, path)),
      code_(code),
      reason_(std::move(reason)),
      api_message_(std::move(message)),
      verb_(std::move(verb)),
      path_(std::move(path)),
      retry_after_(retry_after),
      status_(std::move(status)) {}

ApiError make_api_error(int http_status, std::string_view body, std::string verb, std::string path,
                        std::string_view retry_after_header) {
    auto retry_after = parse_retry_after(retry_after_header);
    auto status = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (!is_status(status)) {
        std::string quoted(body.substr(0, max_quoted_body));
        if (body.size() > max_quoted_body) quoted += "...";
        return ApiError(http_status, {}, quoted, std::move(verb), std::move(path), retry_after,
                        status.is_discarded() ? nlohmann::json(nullptr) : status);
    }
    if (!retry_after) retry_after = retry_after_field(status);
    return ApiError(http_status, string_field(status, "reason"), string_field(status, "message"),
                    std::move(verb), std::move(path), retry_after, status);
}

ApiError make_watch_error(const nlohmann::json& status, std::string verb, std::string path) {
    if (!is_status(status)) {
        return ApiError(500, "InternalError", "watch ERROR event without a Status: " + status.dump(),
                        std::move(verb), std::move(path), std::nullopt, status);
    }
    return ApiError(code_field(status, 500), string_field(status, "reason"), string_field(status, "message"),
                    std::move(verb), std::move(path), retry_after_field(status), status);
}

TransportError::TransportError(Kind kind, std::string verb, std::string path, std::string detail)
    : std::runtime_error(fmt::format("{} {}: {}: {}", verb, path, kind_name(kind), detail)),
      kind_(kind),
      verb_(std::move(verb)),
      path_(std::move(path)) {}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double factor,
                 double jitter)
    : initial_(initial),
      max_(std::max(max, initial)),
      factor_(std::max(factor, 1.0)),
      jitter_(std::max(jitter, 0.0)),
      current_ms_(static_cast<double>(initial.count())),
      random_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
    double base = std::min(current_ms_, static_cast<double>(max_.count()));
    current_ms_ = std::min(current_ms_ * factor_, static_cast<double>(max_.count()));
    std::uniform_real_distribution<double> spread(0.0, 1.0);
    double delay = base * (1.0 + jitter_ * spread(random_));
    return std::chrono::milliseconds(static_cast<long long>(std::llround(delay)));
}

void Backoff::reset() { current_ms_ = static_cast<double>(initial_.count()); }

bool RetryPolicy::is_retryable(const std::exception_ptr& error, std::string_view verb) const {
    bool may_repeat = verb != "POST";
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& api) {
        int code = api.code();
        if (code == 429 || code == 503) return true;
        return may_repeat && (code == 500 || code == 502 || code == 504);
    } catch (const TransportError& transport) {
        switch (transport.kind()) {
            case TransportError::Kind::connect: return true;
            case TransportError::Kind::timeout:
            case TransportError::Kind::broken: return may_repeat;
            case TransportError::Kind::cancelled: return false;
        }
        return false;
    } catch (...) {
        return false;
    }
}

std::chrono::milliseconds RetryPolicy::delay(const std::exception_ptr& error, Backoff& backoff) const {
    auto computed = backoff.next();
    try {
        std::rethrow_exception(error);
    } catch (const ApiError& api) {
        if (api.retry_after()) {
            // Casting a Retry-After beyond what milliseconds can count would overflow. Such a
            // wait exceeds any max_retry_after, so the caller gives up either way.
            constexpr auto longest = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::milliseconds::max());
            if (*api.retry_after() > longest) return std::chrono::milliseconds::max();
            return std::chrono::duration_cast<std::chrono::milliseconds>(*api.retry_after());
        }
    } catch (...) {
    }
    return computed;
}

}  // namespace jpc::kube
