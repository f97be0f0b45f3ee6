#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <exception>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jpc::kube {

// A non-2xx response from the API server. It carries the API's Status object (code, reason,
// message) and the request that failed (verb and path, query string included).
// what() reads like "GET /api/v1/namespaces/x/pods/y: 404 NotFound: pods \"y\" not found".
class ApiError : public std::runtime_error {
public:
    ApiError(int code, std::string reason, std::string message, std::string verb, std::string path,
             std::optional<std::chrono::seconds> retry_after = std::nullopt,
             nlohmann::json status = nullptr);

    // HTTP status code, or Status.code for an ERROR event inside a watch stream.
    int code() const { return code_; }
    // Status.reason, such as "NotFound", "Conflict", "AlreadyExists", "Expired", "Invalid".
    // Empty when the body was not a Status object.
    const std::string& reason() const { return reason_; }
    // Status.message, or the start of the body when the body was not a Status object.
    const std::string& api_message() const { return api_message_; }
    const std::string& verb() const { return verb_; }
    const std::string& path() const { return path_; }
    // The Retry-After header (seconds form), or Status.details.retryAfterSeconds.
    std::optional<std::chrono::seconds> retry_after() const { return retry_after_; }
    // The Status object as received; null when the body was not JSON.
    const nlohmann::json& status() const { return status_; }

    bool is_not_found() const { return code_ == 404; }
    // 409: a stale resourceVersion, a failed precondition or an existing name.
    bool is_conflict() const { return code_ == 409; }
    bool is_already_exists() const { return code_ == 409 && reason_ == "AlreadyExists"; }
    // 410 Gone, or reason Expired (a too-old resourceVersion or an expired continue token).
    bool is_gone() const { return code_ == 410 || reason_ == "Expired" || reason_ == "Gone"; }
    bool is_invalid() const { return code_ == 422; }
    bool is_too_many_requests() const { return code_ == 429; }
    bool is_server_error() const { return code_ >= 500 && code_ <= 599; }
    bool is_unauthorized() const { return code_ == 401; }
    bool is_forbidden() const { return code_ == 403; }

private:
    int code_;
    std::string reason_;
    std::string api_message_;
    std::string verb_;
    std::string path_;
    std::optional<std::chrono::seconds> retry_after_;
    nlohmann::json status_;
};

// Builds the ApiError for an HTTP response with a non-2xx status. The body is parsed as a
// Status object when it is one; retry_after_header is the raw Retry-After value, if any.
ApiError make_api_error(int http_status, std::string_view body, std::string verb, std::string path,
                        std::string_view retry_after_header = {});

// Builds the ApiError for a watch ERROR event, whose object is a Status.
ApiError make_watch_error(const nlohmann::json& status, std::string verb, std::string path);

// A request that got no HTTP response: the connection failed, the call timed out, the
// connection broke mid-response, or the call was cancelled.
class TransportError : public std::runtime_error {
public:
    enum class Kind {
        connect,    // no connection (refused, reset, DNS, TLS handshake); nothing reached the server
        timeout,    // no complete response before the call's timeout
        broken,     // the connection failed after the request was sent
        cancelled,  // Cancellation::cancel() interrupted the call
    };

    TransportError(Kind kind, std::string verb, std::string path, std::string detail);

    Kind kind() const { return kind_; }
    const std::string& verb() const { return verb_; }
    const std::string& path() const { return path_; }
    bool is_timeout() const { return kind_ == Kind::timeout; }
    bool is_cancelled() const { return kind_ == Kind::cancelled; }

private:
    Kind kind_;
    std::string verb_;
    std::string path_;
};

// Exponential backoff with a cap and random jitter: delay n is
// min(initial * factor^n, max) * (1 + jitter * U[0,1)), so the result is never below the
// exponential value and at most (1 + jitter) times the cap.
class Backoff {
public:
    Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double factor = 2.0,
            double jitter = 0.2);

    // Returns the next delay and advances the exponent.
    std::chrono::milliseconds next();
    // Starts again from the initial delay, after a success.
    void reset();

private:
    std::chrono::milliseconds initial_;
    std::chrono::milliseconds max_;
    double factor_;
    double jitter_;
    double current_ms_;
    std::mt19937_64 random_;
};

// Which failed requests the client repeats, how often, and how long it waits between tries.
// Client applies it to every call; the informer and watch loops use Backoff directly.
struct RetryPolicy {
    // Total tries including the first; 1 disables retries.
    int max_attempts = 4;
    std::chrono::milliseconds initial_backoff{250};
    std::chrono::milliseconds max_backoff{5000};
    double jitter = 0.2;
    // A Retry-After longer than this is not waited for; the error goes to the caller.
    std::chrono::milliseconds max_retry_after{10000};

    // Returns whether the error in `error` justifies another try of a request with this verb.
    // Retried: connection failures (the request never left), 429, 503, and for verbs other
    // than POST also timeouts, broken connections, 500, 502 and 504. Never retried:
    // cancellation and every other API status (404, 409, 410, 422, ...).
    bool is_retryable(const std::exception_ptr& error, std::string_view verb) const;

    // Returns how long to wait before the next try: the server's Retry-After when given,
    // otherwise the next step of `backoff`.
    std::chrono::milliseconds delay(const std::exception_ptr& error, Backoff& backoff) const;

    Backoff make_backoff() const { return Backoff(initial_backoff, max_backoff, 2.0, jitter); }

    static RetryPolicy none() {
        RetryPolicy policy;
        policy.max_attempts = 1;
        return policy;
    }
};

}  // namespace jpc::kube
