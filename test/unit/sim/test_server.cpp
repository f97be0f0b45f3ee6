#include "test_server.h"

#include "sim/loopback.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace jpc::sim::testing {

namespace {

using Clock = std::chrono::steady_clock;

bool wait_readable(int fd, Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
        return false;
    }
    pollfd entry{fd, POLLIN, 0};
    return ::poll(&entry, 1, static_cast<int>(left.count())) > 0;
}

// Returns true once `bytes` contains a request head and the Content-Length bytes after it.
bool request_complete(const std::string& bytes) {
    std::size_t head_end = bytes.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        return false;
    }
    std::size_t content_length = 0;
    std::size_t header = bytes.find("Content-Length:");
    if (header != std::string::npos && header < head_end) {
        std::size_t value = bytes.find_first_not_of(' ', header + 15);
        std::from_chars(bytes.data() + value, bytes.data() + head_end, content_length);
    }
    return bytes.size() >= head_end + 4 + content_length;
}

}  // namespace

TestServer::TestServer(std::string_view address, TestServerOptions options)
    : address_(address), options_(std::move(options)) {
    std::uint32_t host_order = parse_loopback_address(address);
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener_ < 0) {
        throw std::system_error(errno, std::generic_category(), "test server: socket failed");
    }
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr.s_addr = htonl(host_order);
    socklen_t length = sizeof local;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
        ::listen(listener_, 64) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
        int error = errno;
        ::close(listener_);
        throw std::system_error(error, std::generic_category(),
                                fmt::format("test server: cannot listen on {}", address));
    }
    port_ = ntohs(local.sin_port);
    thread_ = std::thread([this] { serve(); });
}

TestServer::~TestServer() {
    join();
    ::close(listener_);
}

std::string TestServer::url(std::string_view target) const {
    return fmt::format("http://{}:{}{}", address_, port_, target);
}

std::vector<ReceivedRequest> TestServer::join() {
    if (thread_.joinable()) {
        thread_.join();
    }
    return received_;
}

void TestServer::serve() {
    for (int i = 0; i < options_.connections; ++i) {
        if (!wait_readable(listener_, Clock::now() + options_.timeout)) {
            return;
        }
        sockaddr_in peer{};
        socklen_t length = sizeof peer;
        int fd = ::accept4(listener_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC);
        if (fd < 0) {
            return;
        }

        ReceivedRequest request;
        request.peer_address = format_ipv4(ntohl(peer.sin_addr.s_addr));
        auto deadline = Clock::now() + options_.timeout;
        char buffer[4096];
        while (options_.read_until_close || !request_complete(request.bytes)) {
            if (!wait_readable(fd, deadline)) {
                break;
            }
            ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
            if (n <= 0) {
                break;
            }
            request.bytes.append(buffer, static_cast<std::size_t>(n));
        }

        if (!options_.response.empty()) {
            ::send(fd, options_.response.data(), options_.response.size(), MSG_NOSIGNAL);
        }
        if (options_.hold_open) {
            while (wait_readable(fd, deadline) && ::recv(fd, buffer, sizeof buffer, 0) > 0) {
            }
        }
        ::close(fd);
        received_.push_back(std::move(request));
    }
}

}  // namespace jpc::sim::testing
