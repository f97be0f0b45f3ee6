#include "sim/loopback.h"

#include "sim/unique_fd.h"

#include <fmt/format.h>

#include <charconv>
#include <stdexcept>

namespace jpc::sim {

namespace {

constexpr std::uint32_t loopback_network = 0x7f000000;    // 127.0.0.0
constexpr std::uint32_t loopback_broadcast = 0x7fffffff;  // 127.255.255.255

// Parses 1 to 3 decimal digits without a leading zero (inet_aton reads "010" as octal, so
// such text is ambiguous) into a value up to max. Returns false otherwise.
bool parse_decimal(std::string_view text, unsigned max, unsigned& value) {
    if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) {
        return false;
    }
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    return ec == std::errc() && ptr == end && value <= max;
}

bool parse_ipv4(std::string_view text, std::uint32_t& address) {
    address = 0;
    for (int octet_index = 0; octet_index < 4; ++octet_index) {
        std::size_t dot = text.find('.');
        bool last = octet_index == 3;
        if (last != (dot == std::string_view::npos)) {
            return false;
        }
        std::string_view octet_text = last ? text : text.substr(0, dot);
        unsigned octet = 0;
        if (octet_text.size() > 3 || !parse_decimal(octet_text, 255, octet)) {
            return false;
        }
        address = (address << 8) | octet;
        text.remove_prefix(last ? text.size() : dot + 1);
    }
    return true;
}

}  // namespace

std::uint32_t parse_loopback_address(std::string_view text) {
    std::uint32_t address = 0;
    if (!parse_ipv4(text, address)) {
        throw std::invalid_argument(
            fmt::format("invalid IPv4 address \"{}\": expected a dotted quad such as 127.0.3.7",
                        text));
    }
    if ((address >> 24) != 127) {
        throw std::invalid_argument(fmt::format(
            "address {} is outside 127.0.0.0/8: the simulator uses loopback addresses only",
            text));
    }
    if (address == loopback_network || address == loopback_broadcast) {
        throw std::invalid_argument(fmt::format(
            "address {} is the network or broadcast address of 127.0.0.0/8; use a host address",
            text));
    }
    return address;
}

std::string format_ipv4(std::uint32_t host_order) {
    return fmt::format("{}.{}.{}.{}", host_order >> 24, (host_order >> 16) & 0xff,
                       (host_order >> 8) & 0xff, host_order & 0xff);
}

LoopbackUrl parse_loopback_url(std::string_view url) {
    constexpr std::string_view scheme = "http://";
    if (url.substr(0, scheme.size()) != scheme) {
        throw std::invalid_argument(
            fmt::format("invalid URL \"{}\": expected http://127.x.y.z[:PORT][/PATH]", url));
    }
    std::string_view rest = url.substr(scheme.size());
    std::size_t authority_end = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, authority_end);
    std::string_view target =
        authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);
    target = target.substr(0, target.find('#'));

    if (authority.find('@') != std::string_view::npos || authority.find('[') == 0) {
        throw std::invalid_argument(fmt::format(
            "invalid URL \"{}\": user info and IPv6 hosts are not supported", url));
    }

    LoopbackUrl parsed;
    std::size_t colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
        unsigned port = 0;
        if (!parse_decimal(authority.substr(colon + 1), 65535, port) || port == 0) {
            throw std::invalid_argument(
                fmt::format("invalid port in URL \"{}\": expected 1 to 65535", url));
        }
        parsed.port = static_cast<std::uint16_t>(port);
    }

    try {
        parsed.host = format_ipv4(parse_loopback_address(host));
    } catch (const std::invalid_argument& error) {
        throw std::invalid_argument(fmt::format("invalid URL \"{}\": {}", url, error.what()));
    }

    if (target.empty()) {
        parsed.target = "/";
    } else if (target.front() == '?') {
        parsed.target = "/";
        parsed.target.append(target);
    } else {
        parsed.target = std::string(target);
    }
    return parsed;
}

namespace detail {

std::string format_endpoint(const sockaddr_in& address) {
    return fmt::format("{}:{}", format_ipv4(ntohl(address.sin_addr.s_addr)),
                       ntohs(address.sin_port));
}

}  // namespace detail

}  // namespace jpc::sim
