#pragma once

// A scripted HTTP server for the simulator's client tests: it listens on a loopback address,
// accepts a fixed number of connections one after the other, records each peer address and
// request, and responds with canned bytes. Every wait in it is bounded, so a test that goes
// wrong fails instead of hanging.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace jpc::sim::testing {

struct TestServerOptions {
    // Sent as is after the request was read. Empty: send nothing.
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    // Read until the client half-closes instead of until the end of the request head and
    // Content-Length bytes of body.
    bool read_until_close = false;

    // After the response, keep the connection open until the client closes it.
    bool hold_open = false;

    int connections = 1;

    // Bounds each accept and each connection's reading and holding.
    std::chrono::milliseconds timeout = std::chrono::seconds(5);
};

// What the server saw on one connection.
struct ReceivedRequest {
    std::string peer_address;  // dotted quad from accept()
    std::string bytes;
};

class TestServer {
public:
    // Listens on address with a port that the kernel picks.
    TestServer(std::string_view address, TestServerOptions options);
    ~TestServer();
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    std::uint16_t port() const { return port_; }

    // Returns "http://ADDRESS:PORT" followed by target.
    std::string url(std::string_view target = "/") const;

    // Waits for the server thread to finish its connections and returns what it saw.
    std::vector<ReceivedRequest> join();

private:
    void serve();

    std::string address_;
    TestServerOptions options_;
    int listener_ = -1;
    std::uint16_t port_ = 0;
    std::vector<ReceivedRequest> received_;
    std::thread thread_;
};

}  // namespace jpc::sim::testing
