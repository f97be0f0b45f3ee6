#include "sim/address_pool.h"

#include "sim/loopback.h"

#include <fmt/format.h>

namespace jpc::sim {

namespace {

constexpr std::uint32_t localhost = 0x7f000001;  // 127.0.0.1

bool is_usable(std::uint32_t address) {
    std::uint32_t host_octet = address & 0xff;
    return (address >> 24) == 127 && host_octet != 0 && host_octet != 255 && address != localhost;
}

// Usable addresses below `address`, which must be usable itself.
std::size_t rank(std::uint32_t address) {
    std::size_t subnet = (address >> 8) & 0xffff;  // the middle two octets
    std::size_t host_octet = address & 0xff;
    std::size_t below = subnet * 254 + (host_octet - 1);
    return address > localhost ? below - 1 : below;
}

std::uint32_t next_usable(std::uint32_t address) {
    do {
        ++address;
    } while ((address >> 24) == 127 && !is_usable(address));
    return address;
}

}  // namespace

AddressPool::AddressPool(std::size_t limit, std::string_view first)
    : limit_(limit), first_(parse_loopback_address(first)), next_(first_) {
    if (!is_usable(first_)) {
        throw std::invalid_argument(fmt::format(
            "invalid first address {} for the address pool: host octets 0 and 255 and 127.0.0.1 "
            "are never handed out",
            first));
    }
    std::size_t available = max_limit - rank(first_);
    if (limit > available) {
        throw std::invalid_argument(fmt::format(
            "address pool limit {} is too large: only {} usable addresses follow {} in 127.0.0.0/8",
            limit, available, first));
    }
}

std::string AddressPool::acquire() {
    std::lock_guard lock(mutex_);
    if (in_use_.size() >= limit_) {
        throw AddressPoolExhausted(fmt::format(
            "address pool exhausted: all {} addresses from {} are in use; release one or raise the "
            "limit",
            limit_, format_ipv4(first_)));
    }

    std::uint32_t address = 0;
    if (!released_.empty()) {
        address = *released_.begin();
        released_.erase(released_.begin());
    } else {
        // The constructor checked that `limit_` usable addresses follow first_, and next_
        // advances only while no released address is waiting, so it stays inside 127.0.0.0/8.
        address = next_;
        next_ = next_usable(next_);
    }
    in_use_.insert(address);
    return format_ipv4(address);
}

void AddressPool::release(std::string_view address) {
    std::uint32_t value = parse_loopback_address(address);
    std::lock_guard lock(mutex_);
    if (in_use_.erase(value) == 0) {
        throw std::invalid_argument(
            fmt::format("cannot release {}: the address pool did not hand it out or it was "
                        "released already",
                        address));
    }
    released_.insert(value);
}

std::size_t AddressPool::in_use() const {
    std::lock_guard lock(mutex_);
    return in_use_.size();
}

}  // namespace jpc::sim
