#pragma once

// Internal to jpc_sim: an owned file descriptor and helpers for IPv4 socket addresses.

#include <netinet/in.h>
#include <unistd.h>

#include <cstdint>
#include <string>
#include <utility>

namespace jpc::sim::detail {

// Owns a file descriptor and closes it on destruction. -1 means none.
class UniqueFd {
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd) : fd_(fd) {}
    ~UniqueFd() { reset(); }
    UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    UniqueFd& operator=(UniqueFd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other.fd_, -1));
        }
        return *this;
    }
    UniqueFd(const UniqueFd&) = delete;
    UniqueFd& operator=(const UniqueFd&) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

    // Gives up ownership and returns the descriptor.
    int release() { return std::exchange(fd_, -1); }

    void reset(int fd = -1) {
        if (fd_ >= 0) {
            ::close(fd_);
        }
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

inline sockaddr_in make_sockaddr(std::uint32_t host_order_address, std::uint16_t port) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(host_order_address);
    address.sin_port = htons(port);
    return address;
}

// Returns "ADDRESS:PORT".
std::string format_endpoint(const sockaddr_in& address);

}  // namespace jpc::sim::detail
