#include "http/http_server.h"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

using jpc::http::HttpRequest;
using jpc::http::HttpResponse;
using jpc::http::HttpServer;
using jpc::http::HttpServerOptions;
using namespace std::chrono_literals;

namespace {

// A blocking loopback client socket with a receive timeout, closed on destruction.
class Client {
public:
    Client(std::uint16_t port, const char* source = nullptr) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd_ >= 0);
        timeval timeout{5, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        if (source != nullptr) {
            sockaddr_in local{};
            local.sin_family = AF_INET;
            ::inet_pton(AF_INET, source, &local.sin_addr);
            REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0);
        }
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
        REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~Client() { ::close(fd_); }

    void send(const std::string& data) { REQUIRE(::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size())); }

    // Reads until the peer closes, the timeout passes, or the text contains the marker.
    std::string receive_until(const std::string& marker) {
        std::string data;
        char buffer[4096];
        while (data.find(marker) == std::string::npos) {
            ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            data.append(buffer, static_cast<std::size_t>(n));
        }
        return data;
    }

    // True when the server closed the connection (recv returns 0).
    bool closed_by_peer() {
        char byte;
        return ::recv(fd_, &byte, 1, 0) == 0;
    }

private:
    int fd_ = -1;
};

HttpServerOptions loopback_options() {
    HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    return options;
}

HttpResponse echo(const HttpRequest& request) {
    return HttpResponse{200, "text/plain", request.method + " " + request.path + " " + request.peer_address + " " + request.body, {}};
}

}  // namespace

TEST_CASE("server answers keep-alive requests on one connection", "[http]") {
    HttpServer server(loopback_options(), echo);
    server.start();
    Client client(server.port());

    client.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
    auto first = client.receive_until("127.0.0.1 ");
    CHECK(first.find("HTTP/1.1 200 OK") == 0);
    CHECK(first.find("Connection: keep-alive") != std::string::npos);
    CHECK(first.find("GET /a 127.0.0.1 ") != std::string::npos);

    client.send("POST /b HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody");
    auto second = client.receive_until("body");
    CHECK(second.find("POST /b 127.0.0.1 body") != std::string::npos);
}

TEST_CASE("server reports the peer address", "[http]") {
    HttpServer server(loopback_options(), echo);
    server.start();
    Client client(server.port(), "127.0.9.7");
    client.send("GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
    auto response = client.receive_until("\r\n\r\nGET");
    auto all = response + client.receive_until("never");
    CHECK(all.find("GET / 127.0.9.7 ") != std::string::npos);
}

TEST_CASE("server rejects an oversized body without reading it", "[http]") {
    std::atomic<int> handled{0};
    std::atomic<int> rejected{0};
    HttpServer server(
        loopback_options(),
        [&](const HttpRequest& request) {
            ++handled;
            return echo(request);
        },
        [&](const std::string&, int status, const std::string&) {
            if (status == 413) ++rejected;
        });
    server.start();
    Client client(server.port());
    client.send("POST /webhook/x/v1/status HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n");
    auto response = client.receive_until("\n\n");
    CHECK(response.find("HTTP/1.1 413 Payload Too Large") == 0);
    CHECK(response.find("Connection: close") != std::string::npos);
    CHECK(client.closed_by_peer());
    CHECK(handled == 0);
    CHECK(rejected == 1);
}

TEST_CASE("server answer 413 reaches a client that sends the whole oversized body", "[http]") {
    HttpServer server(loopback_options(), echo);
    server.start();
    Client client(server.port());
    // The server responds after the headers, so it must keep reading and discarding the body,
    // or closing the socket would reset the connection under the client's send.
    client.send("POST /webhook/x/v1/status HTTP/1.1\r\nContent-Length: 10485760\r\n\r\n" +
                std::string(10 * 1024 * 1024, ' '));
    auto response = client.receive_until("\n\n");
    CHECK(response.find("HTTP/1.1 413 Payload Too Large") == 0);
    CHECK(client.closed_by_peer());
}

TEST_CASE("server times out an unfinished body and keeps serving", "[http]") {
    auto options = loopback_options();
    options.request_timeout = 300ms;
    HttpServer server(options, echo);
    server.start();

    Client slow(server.port());
    slow.send("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\npartial");

    // Another client is served while the slow one waits.
    Client other(server.port());
    other.send("GET /y HTTP/1.1\r\n\r\n");
    CHECK(other.receive_until("127.0.0.1 ").find("GET /y") != std::string::npos);

    auto started = std::chrono::steady_clock::now();
    auto response = slow.receive_until("\n\n");
    auto waited = std::chrono::steady_clock::now() - started;
    CHECK(response.find("HTTP/1.1 408 Request Timeout") == 0);
    CHECK(waited < 3s);
    CHECK(slow.closed_by_peer());
}

TEST_CASE("server turns a handler exception into 500", "[http]") {
    HttpServer server(loopback_options(), [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    server.start();
    Client client(server.port());
    client.send("GET / HTTP/1.1\r\n\r\n");
    auto response = client.receive_until("boom");
    CHECK(response.find("HTTP/1.1 500") == 0);
}

TEST_CASE("server stop waits for a request in progress", "[http]") {
    std::atomic<bool> entered{false};
    HttpServer server(loopback_options(), [&](const HttpRequest& request) {
        entered = true;
        std::this_thread::sleep_for(300ms);
        return echo(request);
    });
    server.start();
    Client client(server.port());
    client.send("GET /slow HTTP/1.1\r\n\r\n");
    while (!entered) std::this_thread::sleep_for(5ms);

    server.stop(5s);
    auto response = client.receive_until("127.0.0.1 ");
    CHECK(response.find("HTTP/1.1 200 OK") == 0);
    CHECK(response.find("Connection: close") != std::string::npos);
}

TEST_CASE("server start names the address it cannot bind", "[http]") {
    HttpServer first(loopback_options(), echo);
    first.start();
    auto options = loopback_options();
    options.port = first.port();
    HttpServer second(options, echo);
    try {
        second.start();
        FAIL("second server bound a port already in use");
    } catch (const std::runtime_error& error) {
        CHECK(std::string(error.what()).find("127.0.0.1:" + std::to_string(first.port())) != std::string::npos);
    }
}
