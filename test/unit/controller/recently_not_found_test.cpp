#include "controller/webhook.h"

#include <catch2/catch.hpp>

using jpc::controller::RecentlyNotFound;
using namespace std::chrono_literals;

TEST_CASE("not-found memory expires after ttl", "[webhook]") {
    RecentlyNotFound missing(1000ms, 10);
    auto start = RecentlyNotFound::Clock::now();

    CHECK_FALSE(missing.contains("jitsi/a", start));
    missing.add("jitsi/a", start);
    CHECK(missing.contains("jitsi/a", start));
    CHECK(missing.contains("jitsi/a", start + 999ms));
    CHECK_FALSE(missing.contains("jitsi/b", start));
    CHECK_FALSE(missing.contains("other/a", start));
    CHECK_FALSE(missing.contains("jitsi/a", start + 1000ms));
    // An expired name is forgotten, and comes back only when added again.
    CHECK_FALSE(missing.contains("jitsi/a", start));
    missing.add("jitsi/a", start + 2s);
    CHECK(missing.contains("jitsi/a", start + 2500ms));
}

TEST_CASE("not-found memory keeps its capacity", "[webhook]") {
    RecentlyNotFound missing(1000ms, 3);
    auto start = RecentlyNotFound::Clock::now();
    missing.add("jitsi/a", start);
    missing.add("jitsi/b", start);
    missing.add("jitsi/c", start);

    // Full of live names: a new one is not remembered, the others stay.
    missing.add("jitsi/d", start + 10ms);
    CHECK_FALSE(missing.contains("jitsi/d", start + 10ms));
    CHECK(missing.contains("jitsi/a", start + 10ms));
    // Adding a remembered name again renews it even when full.
    missing.add("jitsi/a", start + 500ms);
    CHECK(missing.contains("jitsi/a", start + 1200ms));

    // Once b and c have expired, their room goes to new names.
    missing.add("jitsi/e", start + 1100ms);
    CHECK(missing.contains("jitsi/e", start + 1100ms));
}
