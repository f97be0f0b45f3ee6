// Tests of loopback address parsing, URL parsing and AddressPool. No sockets.

#include "sim/address_pool.h"
#include "sim/loopback.h"

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <thread>
#include <vector>

using jpc::sim::AddressPool;
using jpc::sim::AddressPoolExhausted;
using jpc::sim::format_ipv4;
using jpc::sim::parse_loopback_address;
using jpc::sim::parse_loopback_url;

TEST_CASE("parse_loopback_address accepts 127/8 hosts") {
    CHECK(parse_loopback_address("127.0.0.1") == 0x7f000001u);
    CHECK(parse_loopback_address("127.0.3.7") == 0x7f000307u);
    CHECK(parse_loopback_address("127.255.255.254") == 0x7ffffffeu);
    CHECK(format_ipv4(0x7f010203u) == "127.1.2.3");
}

TEST_CASE("parse_loopback_address rejects other text") {
    auto text = GENERATE(as<std::string>{}, "10.0.0.1", "172.16.0.1", "192.168.1.1",
                         "169.254.169.254", "0.0.0.0", "128.0.0.1", "127.0.0.0",
                         "127.255.255.255", "127.0.0", "127.0.0.1.1", "127.0.0.256", "127.0.0.01",
                         "127.0.0.-1", "127.0.0.1 ", "localhost", "::1", "");
    INFO(text);
    CHECK_THROWS_AS(parse_loopback_address(text), std::invalid_argument);
}

TEST_CASE("parse_loopback_url splits host, port and target") {
    auto url = parse_loopback_url("http://127.0.0.1:8080/webhook/jibri-0/v1/status");
    CHECK(url.host == "127.0.0.1");
    CHECK(url.port == 8080);
    CHECK(url.target == "/webhook/jibri-0/v1/status");

    auto bare = parse_loopback_url("http://127.0.3.7");
    CHECK(bare.port == 80);
    CHECK(bare.target == "/");

    auto query = parse_loopback_url("http://127.0.3.7:2222?x=1#fragment");
    CHECK(query.target == "/?x=1");
}

TEST_CASE("parse_loopback_url rejects other URLs") {
    auto url = GENERATE(as<std::string>{}, "https://127.0.0.1/", "http://localhost:8080/",
                        "http://10.1.2.3/", "http://[::1]:8080/", "http://user@127.0.0.1/",
                        "http://127.0.0.1:0/", "http://127.0.0.1:65536/", "http://127.0.0.1:/",
                        "127.0.0.1:8080/", "ftp://127.0.0.1/");
    INFO(url);
    CHECK_THROWS_AS(parse_loopback_url(url), std::invalid_argument);
}

TEST_CASE("AddressPool skips reserved addresses") {
    AddressPool pool(6, "127.0.0.253");
    std::vector<std::string> addresses;
    for (int i = 0; i < 6; ++i) {
        addresses.push_back(pool.acquire());
    }
    CHECK(addresses == std::vector<std::string>{"127.0.0.253", "127.0.0.254", "127.0.1.1",
                                                "127.0.1.2", "127.0.1.3", "127.0.1.4"});
}

TEST_CASE("AddressPool hands out distinct addresses") {
    AddressPool pool(600);
    std::set<std::string> seen;
    for (int i = 0; i < 600; ++i) {
        std::string address = pool.acquire();
        CHECK(parse_loopback_address(address) >> 24 == 127);
        unsigned host_octet = parse_loopback_address(address) & 0xff;
        CHECK(host_octet != 0);
        CHECK(host_octet != 255);
        seen.insert(address);
    }
    CHECK(seen.size() == 600);
    CHECK(seen.count("127.1.0.1") == 1);
    CHECK(pool.in_use() == 600);
}

TEST_CASE("AddressPool reuses released addresses") {
    AddressPool pool(2);
    std::string first = pool.acquire();
    std::string second = pool.acquire();
    pool.release(first);
    CHECK(pool.in_use() == 1);
    CHECK(pool.acquire() == first);

    CHECK_THROWS_AS(pool.release("127.9.9.9"), std::invalid_argument);
    pool.release(second);
    CHECK_THROWS_AS(pool.release(second), std::invalid_argument);
}

TEST_CASE("AddressPool reports exhaustion") {
    AddressPool pool(2, "127.5.0.1");
    pool.acquire();
    pool.acquire();
    try {
        pool.acquire();
        FAIL("acquire beyond the limit did not throw");
    } catch (const AddressPoolExhausted& error) {
        CHECK_THAT(error.what(), Catch::Contains("2 addresses"));
        CHECK_THAT(error.what(), Catch::Contains("127.5.0.1"));
    }
}

TEST_CASE("AddressPool rejects invalid ranges") {
    CHECK_THROWS_AS(AddressPool(1, "10.0.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(AddressPool(1, "127.0.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(AddressPool(1, "127.3.0.0"), std::invalid_argument);
    CHECK_THROWS_AS(AddressPool(1, "127.3.0.255"), std::invalid_argument);

    // 127.255.255.253 and .254 are the last two usable addresses.
    AddressPool last(2, "127.255.255.253");
    CHECK(last.acquire() == "127.255.255.253");
    CHECK(last.acquire() == "127.255.255.254");
    CHECK_THROWS_AS(AddressPool(3, "127.255.255.253"), std::invalid_argument);

    CHECK_NOTHROW(AddressPool(AddressPool::max_limit, "127.0.0.2"));
    CHECK_THROWS_AS(AddressPool(AddressPool::max_limit + 1, "127.0.0.2"), std::invalid_argument);
}

TEST_CASE("AddressPool is thread-safe") {
    constexpr int thread_count = 4;
    constexpr int per_thread = 500;
    AddressPool pool(thread_count * per_thread);
    std::vector<std::vector<std::string>> acquired(thread_count);
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < per_thread; ++i) {
                acquired[static_cast<std::size_t>(t)].push_back(pool.acquire());
            }
        });
    }
    for (auto& thread : threads) {
        thread.join();
    }
    std::set<std::string> all;
    for (const auto& list : acquired) {
        all.insert(list.begin(), list.end());
    }
    CHECK(all.size() == thread_count * per_thread);
}
