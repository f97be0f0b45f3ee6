#pragma once

// A blocking HTTP/1.1 client for loopback tests. Each connection binds its source address
// before it connects, so the server's accept() returns a chosen 127.x.y.z as the peer
// address, the way a jibri pod's requests come from its pod IP.

#include "sim/loopback.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace jpc::sim {

// Why an exchange ended without a complete response.
enum class ExchangeError {
    None,
    ConnectionRefused,  // connect() failed with ECONNREFUSED: nothing listens there
    TimedOut,           // connect, send or read did not finish before its timeout
    ConnectionReset,    // the peer reset the connection (ECONNRESET or EPIPE)
    ClosedEarly,        // the peer closed before a complete response arrived
    InvalidResponse,    // the bytes received are not an HTTP/1.x response
    SocketError,        // any other system call failure
};

// Returns the enumerator's name, for test and log messages.
std::string_view to_string(ExchangeError error);

// Result of one step (connect, send) on a ClientConnection.
struct ExchangeStatus {
    ExchangeError error = ExchangeError::None;
    std::string message;  // the step, the address and the system error text; empty on success

    bool ok() const { return error == ExchangeError::None; }
};

// Result of reading a response, or of a whole request.
struct HttpResult {
    ExchangeError error = ExchangeError::None;
    std::string message;   // what failed, empty on success
    int status_code = 0;   // from the status line; 0 when no status line arrived
    std::string body;      // the body received so far, de-chunked when the response is chunked

    bool ok() const { return error == ExchangeError::None; }
};

// One TCP connection from a loopback source address to a loopback server. Not thread-safe,
// but separate connections may be used from separate threads. The destructor closes the
// socket.
class ClientConnection {
public:
    // Creates a socket bound to source_address (the kernel picks the port at connect time).
    // Throws std::invalid_argument when either address is outside 127.0.0.0/8, and
    // std::system_error, naming the address, when the socket cannot be created or bound.
    ClientConnection(std::string_view source_address, std::string_view host, std::uint16_t port);
    ~ClientConnection();
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    ExchangeStatus connect(std::chrono::milliseconds timeout);

    // Sends every byte of `bytes`, waiting at most `timeout` in total.
    ExchangeStatus send(std::string_view bytes, std::chrono::milliseconds timeout);

    // Sends FIN, so a server that reads to end of stream gets it after the request.
    void shutdown_write();

    // Reads one response: the status line and headers, then a body of Content-Length bytes,
    // a chunked body up to its last chunk, or everything up to end of stream when the
    // response has neither. Waits at most `timeout` in total.
    HttpResult read_response(std::chrono::milliseconds timeout);

    // The bound local address as "127.x.y.z:port", for messages.
    std::string local_endpoint() const;

private:
    int fd_ = -1;
    std::string source_;
    std::string host_;
    std::uint16_t port_ = 0;
};

// Connects from source_address, sends `request` unchanged, sends FIN after it when
// half_close is set, and reads one response. read_timeout bounds sending and reading
// together. Throws only for the reasons the ClientConnection constructor throws.
HttpResult exchange(std::string_view source_address, const LoopbackUrl& url,
                    std::string_view request, std::chrono::milliseconds connect_timeout,
                    std::chrono::milliseconds read_timeout, bool half_close = false);

// Sends GET url with Connection: close from source_address and reads the response.
HttpResult http_get(std::string_view source_address, std::string_view url,
                    std::chrono::milliseconds timeout);

}  // namespace jpc::sim
