#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jpc::sim {

// Thrown by AddressPool::acquire when every address the pool may hand out is in use.
class AddressPoolExhausted : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Hands out distinct loopback addresses for simulated jibris, one per pod IP. Addresses
// are taken in ascending order from the first address, skipping host octets 0 and 255,
// 127.0.0.1 and anything outside 127.0.0.0/8. A released address is handed out again
// before a new one. All member functions are thread-safe.
class AddressPool {
public:
    // The default first address. It leaves 127.0.0.0/16 alone because local services
    // commonly use addresses there (127.0.0.53 for systemd-resolved, 127.0.1.1 for the
    // host name in Debian's /etc/hosts).
    static constexpr std::string_view default_first = "127.1.0.1";

    // Usable addresses from 127.0.0.2 to 127.255.255.254 without .0/.255 host octets.
    static constexpr std::size_t max_limit = 256u * 256u * 254u - 1u;

    // A pool of at most `limit` addresses in use at once, starting at `first`. Throws
    // std::invalid_argument when `first` is outside 127.0.0.0/8, has host octet 0 or 255,
    // is 127.0.0.1, or when fewer than `limit` usable addresses follow it.
    explicit AddressPool(std::size_t limit = 4096, std::string_view first = default_first);

    // Returns an address not in use and marks it in use. Throws AddressPoolExhausted,
    // naming the limit, when `limit` addresses are already in use.
    std::string acquire();

    // Makes an address from acquire() available again. Throws std::invalid_argument when
    // the address is not in use in this pool.
    void release(std::string_view address);

    std::size_t in_use() const;
    std::size_t limit() const { return limit_; }

private:
    const std::size_t limit_;
    const std::uint32_t first_;

    mutable std::mutex mutex_;
    std::uint32_t next_;                  // lowest address never handed out
    std::set<std::uint32_t> released_;    // handed out earlier and released since
    std::set<std::uint32_t> in_use_;
};

}  // namespace jpc::sim
