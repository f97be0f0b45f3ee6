#include "controller/work_queue.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

using jpc::controller::WorkQueue;
using namespace std::chrono_literals;

TEST_CASE("work queue deduplicates keys", "[workqueue]") {
    WorkQueue queue;
    queue.add("ns/a");
    queue.add("ns/a");
    queue.add("ns/b");
    CHECK(queue.size() == 2);
    CHECK(queue.get() == "ns/a");
    CHECK(queue.get() == "ns/b");
    CHECK(queue.size() == 0);
}

TEST_CASE("work queue hands a key to one worker at a time", "[workqueue]") {
    WorkQueue queue;
    queue.add("ns/a");
    auto key = queue.get();
    REQUIRE(key == "ns/a");

    // Added while processing: not handed out until done().
    queue.add("ns/a");
    CHECK(queue.size() == 0);

    queue.done("ns/a");
    CHECK(queue.size() == 1);
    CHECK(queue.get() == "ns/a");
    queue.done("ns/a");
    CHECK(queue.size() == 0);
}

TEST_CASE("work queue delays keys", "[workqueue]") {
    WorkQueue queue;
    auto started = std::chrono::steady_clock::now();
    queue.add_after("ns/late", 150ms);
    queue.add("ns/now");
    CHECK(queue.get() == "ns/now");
    CHECK(queue.get() == "ns/late");
    CHECK(std::chrono::steady_clock::now() - started >= 150ms);
}

TEST_CASE("work queue backs off exponentially per key", "[workqueue]") {
    WorkQueue queue(10ms, 50ms);
    CHECK(queue.add_rate_limited("k") == 10ms);
    CHECK(queue.add_rate_limited("k") == 20ms);
    CHECK(queue.add_rate_limited("k") == 40ms);
    CHECK(queue.add_rate_limited("k") == 50ms);
    CHECK(queue.add_rate_limited("k") == 50ms);
    CHECK(queue.failures("k") == 5);
    CHECK(queue.add_rate_limited("other") == 10ms);
    queue.forget("k");
    CHECK(queue.failures("k") == 0);
    CHECK(queue.add_rate_limited("k") == 10ms);
}

TEST_CASE("work queue shutdown wakes waiting workers", "[workqueue]") {
    WorkQueue queue;
    std::atomic<bool> returned{false};
    std::thread worker([&] {
        auto key = queue.get();
        CHECK_FALSE(key.has_value());
        returned = true;
    });
    std::this_thread::sleep_for(50ms);
    CHECK_FALSE(returned);
    queue.shut_down();
    worker.join();
    CHECK(returned);
}

TEST_CASE("work queue survives workers waiting on one delayed key", "[workqueue]") {
    // Two workers wait for the same delayed key. The one that takes it removes the key's
    // entry while the other still waits for that deadline, so the sanitizer build catches
    // a wait that reads the removed entry.
    WorkQueue queue;
    std::atomic<int> taken{0};
    auto worker = [&] {
        while (auto key = queue.get()) {
            ++taken;
            queue.done(*key);
        }
    };
    std::thread first(worker);
    std::thread second(worker);
    queue.add_after("a", std::chrono::milliseconds(50));
    for (int i = 0; i < 100 && taken < 1; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    queue.add("b");
    for (int i = 0; i < 100 && taken < 2; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(taken == 2);
    queue.shut_down();
    first.join();
    second.join();
}
