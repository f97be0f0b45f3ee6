#pragma once

// Jibri's health API for many simulated jibris at once. Each jibri is a loopback address
// (its pod IP) with a listening socket on the same port, and one thread serves all of them
// from an epoll loop, so a benchmark with 1,000 jibris needs one thread, not 1,000.

#include "sim/jibri_status.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace jpc::sim {

// How a simulated jibri responds to requests to its health API.
enum class HealthBehaviour {
    Respond,  // 200 with the jibri's status as JSON on the health path, 404 on other paths
    Hang,     // accept and read the request, but never respond; the connection stays open
    Refuse,   // no listening socket, so connect() fails with ECONNREFUSED
    Garbage,  // 200 with Content-Type: application/json and a body that is not JSON
    Error,    // 500
};

// Returns the enumerator's name, for test and log messages.
std::string_view to_string(HealthBehaviour behaviour);

struct HealthServerOptions {
    std::uint16_t port = 2222;  // Jibri's HTTP API port in Jitsi's container images
    std::string path = "/jibri/api/v1.0/health";

    // A request head (request line and headers) longer than this gets 431 and is closed.
    std::size_t max_header_bytes = 8192;

    // A connection that has not sent a complete request head by then is closed without a
    // response. Connections held by Hang have no time limit.
    std::chrono::milliseconds request_timeout = std::chrono::seconds(10);
};

// Serves the health API of the jibris added to it until stop() or destruction. Every
// response carries Connection: close. Member functions may be called from any thread except
// the server's own. Those that change a jibri return after the change took effect: after
// add() or a change away from Refuse the address accepts connections, and after remove()
// or a change to Refuse connect() is refused. Functions that take the address of a jibri
// throw std::invalid_argument when it was not added.
class HealthServer {
public:
    // Starts the server thread. Throws std::system_error when epoll or the thread cannot
    // be created, and std::invalid_argument when options.path does not start with '/'.
    explicit HealthServer(HealthServerOptions options = {});

    // Stops the thread and closes every socket.
    ~HealthServer();

    HealthServer(const HealthServer&) = delete;
    HealthServer& operator=(const HealthServer&) = delete;

    // Adds a jibri at address (a dotted quad in 127.0.0.0/8) and, unless behaviour is Refuse,
    // listens on address:port. Throws std::invalid_argument when the address is outside
    // 127.0.0.0/8 or already added, and std::system_error naming address:port when the
    // socket cannot be bound, for example EADDRINUSE because another process listens there.
    void add(std::string_view address, JibriStatus status = {},
             HealthBehaviour behaviour = HealthBehaviour::Respond);

    // Closes the jibri's listening socket and its open connections and removes the jibri.
    void remove(std::string_view address);

    // Sets the status that Respond reports from the next request on.
    void set_status(std::string_view address, JibriStatus status);

    // Sets the behaviour for the next request. Changing away from Hang closes the
    // connections it held without a response. Changing to Refuse closes the listening socket
    // and every open connection of the jibri. Changing away from Refuse listens again and
    // throws std::system_error, as add() does, when that bind fails.
    void set_behaviour(std::string_view address, HealthBehaviour behaviour);

    JibriStatus status(std::string_view address) const;
    HealthBehaviour behaviour(std::string_view address) const;

    // Complete request heads received at the address since add(), whatever the response was,
    // including requests held by Hang and requests for other paths.
    std::uint64_t request_count(std::string_view address) const;

    // Connections to the address that are open now, including those held by Hang.
    std::size_t connection_count(std::string_view address) const;

    // Jibris added and not removed.
    std::size_t size() const;

    std::uint16_t port() const { return port_; }

    // Stops the thread and closes every socket. Later calls to the member functions that
    // take an address, and to size(), throw std::logic_error. Calling stop() again does
    // nothing.
    void stop();

private:
    class Loop;

    std::uint16_t port_;
    std::unique_ptr<Loop> loop_;
};

}  // namespace jpc::sim
