#pragma once

#include "kube/config.h"

#include <pplx/pplxtasks.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace web::http::client {
class http_client;
}

namespace jpc::kube {

namespace detail {
struct TlsMaterial;
}

// A one-shot stop signal shared by a thread that makes calls and the thread that stops it.
// cancel() aborts every call made with it (in flight or later) with
// TransportError::Kind::cancelled and wakes wait_for. Thread-safe; it cannot be reset.
class Cancellation {
public:
    void cancel();
    bool is_cancelled() const { return source_.get_token().is_canceled(); }

    // Waits for `duration` or until cancel(). Returns true when cancelled.
    bool wait_for(std::chrono::milliseconds duration) const;

    pplx::cancellation_token token() const { return source_.get_token(); }

private:
    pplx::cancellation_token_source source_;
    mutable std::mutex mutex_;
    mutable std::condition_variable cv_;
};

// One HTTP request to the API server.
struct Request {
    std::string verb = "GET";
    // Path and query, already URL-encoded: "/api/v1/namespaces/ns/pods?limit=1".
    std::string path;
    std::string body;
    std::string content_type;  // set when body is non-empty
    std::string accept = "application/json";
    // Deadline for the whole call (connect, send, full answer). Zero: the transport's default.
    std::chrono::milliseconds timeout{0};
};

// The API server's response. Transport returns it for every status, 2xx or not.
struct Response {
    int status = 0;
    std::string body;
    std::string content_type;
    std::string retry_after;  // raw Retry-After header, empty when absent
};

struct TransportOptions {
    // Default deadline of each non-streaming call.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    // For streams: the connection fails when no byte arrives for this long.
    std::chrono::milliseconds stream_idle_timeout{std::chrono::minutes(5)};
};

// HTTPS to one API server over cpprestsdk: HTTP/1.1 with keep-alive (one connection pool
// per Transport), certificate verification on unless the Config says otherwise, the
// Config's CA as the only trust anchor when one is given, client certificates, a bearer
// token read from the TokenSource on every request, and
// `User-Agent: jibri-pod-controller/<JPC_VERSION>`. Thread-safe.
//
// The constructor reads the certificate and key files and validates the PEM data, so a
// bad path fails at start, not at the first request. It throws std::runtime_error.
// NOTE: proxy variables (HTTPS_PROXY, NO_PROXY) are ignored; connections go straight to
// the server.
class Transport {
public:
    explicit Transport(const Config& config, TransportOptions options = {});
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    // Sends the request and returns the response whatever its status. Throws TransportError
    // when there is no response (connect failure, timeout, broken connection, cancellation).
    Response send(const Request& request, const Cancellation* cancellation = nullptr);

    // Sends the request on a dedicated connection and passes the body to on_chunk piece by
    // piece as it arrives. Returns when the server ends the body, or when on_chunk returns
    // false (the connection is then closed). Throws ApiError for a non-2xx response before
    // any chunk is passed, TransportError when the connection fails, times out (no byte
    // for stream_idle_timeout) or is cancelled. Exceptions from on_chunk propagate.
    void stream(const Request& request, const std::function<bool(std::string_view)>& on_chunk,
                const Cancellation* cancellation = nullptr);

    const std::string& server() const { return server_; }

    // When the API server last sent a response (any status), or nullopt before the first.
    // Readiness checks use it to avoid a request of their own while the API is in use.
    std::optional<std::chrono::steady_clock::time_point> last_response() const;

private:
    std::unique_ptr<web::http::client::http_client> make_client(std::chrono::milliseconds timeout) const;
    void note_response();

    std::string server_;
    std::shared_ptr<TokenSource> token_source_;
    TransportOptions options_;
    std::shared_ptr<const detail::TlsMaterial> tls_;
    std::unique_ptr<web::http::client::http_client> client_;
    std::atomic<std::int64_t> last_response_ns_{0};
};

}  // namespace jpc::kube
