#pragma once

// IPv4 loopback addresses and URLs. The simulator binds and connects only inside
// 127.0.0.0/8, which Linux routes to the lo interface as a whole, so every address in it
// can be bound without configuration and no packet leaves the machine.

#include <cstdint>
#include <string>
#include <string_view>

namespace jpc::sim {

// Parses a dotted-quad IPv4 address and returns it in host byte order. Throws
// std::invalid_argument naming the text when it is not a dotted quad inside 127.0.0.0/8,
// or when it is 127.0.0.0 or 127.255.255.255 (the network and broadcast addresses).
std::uint32_t parse_loopback_address(std::string_view text);

// Formats a host-byte-order IPv4 address as a dotted quad.
std::string format_ipv4(std::uint32_t host_order);

// An http:// URL whose host is a loopback address, split for a client socket.
struct LoopbackUrl {
    std::string host;            // dotted quad inside 127.0.0.0/8
    std::uint16_t port = 80;
    std::string target = "/";    // path and query, as sent in the request line
};

// Parses http://HOST[:PORT][/PATH]. Throws std::invalid_argument naming the URL when the
// scheme is not http, the port is invalid, or the host is not a numeric address inside
// 127.0.0.0/8. Host names, "localhost" included, are rejected, so nothing is resolved.
LoopbackUrl parse_loopback_url(std::string_view url);

}  // namespace jpc::sim
