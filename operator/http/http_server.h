#pragma once

#include "http/http_parser.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace jpc::http {

struct HttpResponse {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // extra headers, such as Allow
};

struct HttpServerOptions {
    std::string address = "0.0.0.0";
    std::uint16_t port = 8080;  // 0 picks a free port; port() tells which
    HttpParserLimits limits;
    // A request must arrive whole within this time from its first byte, so a client that
    // sends a body slowly or never finishes it cannot hold a connection.
    std::chrono::milliseconds request_timeout{10'000};
    // A kept-alive connection with no request in progress closes after this time.
    std::chrono::milliseconds idle_timeout{60'000};
    // After the last response on a connection, input is read and discarded for at most
    // this time and this many bytes, so that the client receives the response (see
    // Connection::linger).
    std::chrono::milliseconds linger_timeout{2'000};
    std::size_t max_linger_bytes = 32 * 1024 * 1024;
    // Threads that run both the network I/O and the handlers. Handlers may block on
    // API calls, so more than one keeps a slow call from stalling the rest.
    unsigned threads = 4;
    // Connections beyond this are accepted and closed at once.
    std::size_t max_connections = 1024;
};

// Called for every complete request, on one of the server's threads, possibly
// concurrently. It must not throw; an exception becomes a 500 answer.
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Called for each request the server rejects before a handler sees it (malformed,
// too large, timed out), with the peer address, the status sent and the reason.
using HttpRejectionObserver = std::function<void(const std::string& peer, int status, const std::string& reason)>;

// A small HTTP/1.1 server on Boost.Asio with keep-alive, limits and timeouts, for the
// webhook, the metrics and the probes.
class HttpServer {
public:
    HttpServer(HttpServerOptions options, HttpHandler handler, HttpRejectionObserver on_rejection = {});
    ~HttpServer();
    HttpServer(const HttpServer&) = delete;
    HttpServer& operator=(const HttpServer&) = delete;

    // Binds and starts the threads. Throws std::runtime_error naming the address and port
    // when it cannot listen.
    void start();

    // Stops accepting, lets requests in progress finish for up to grace, then closes every
    // connection and joins the threads. Safe to call more than once.
    void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

    std::uint16_t port() const;

    struct Impl;  // public only so that the connection type in the .cpp file can name it

private:
    std::unique_ptr<Impl> impl_;
};

// Returns the reason phrase of an HTTP status code ("Not Found" for 404).
std::string_view reason_phrase(int status);

}  // namespace jpc::http
