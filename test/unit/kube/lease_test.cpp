#include "kube/errors.h"
#include "kube/lease.h"

#include <catch2/catch.hpp>

#include <thread>

using namespace jpc::kube;
using namespace std::chrono_literals;

namespace {

// A clock that moves only when the test advances it.
class FakeClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override {
        return std::chrono::steady_clock::time_point(1000s + offset());
    }
    std::chrono::system_clock::time_point wall_now() const override {
        return std::chrono::system_clock::time_point(1700000000s + offset());
    }
    void advance(std::chrono::milliseconds step) { offset_ms_ += step.count(); }

private:
    std::chrono::milliseconds offset() const { return std::chrono::milliseconds(offset_ms_.load()); }
    std::atomic<long long> offset_ms_{0};
};

// One Lease in memory with the API server's optimistic concurrency.
class MemoryLeaseStore final : public LeaseStore {
public:
    std::optional<LeaseRecord> get() override {
        if (unreachable) throw TransportError(TransportError::Kind::connect, "GET", "/lease", "refused");
        return lease;
    }
    LeaseRecord create(const LeaseRecord& record) override {
        if (unreachable) throw TransportError(TransportError::Kind::connect, "POST", "/lease", "refused");
        if (lease) throw ApiError(409, "AlreadyExists", "exists", "POST", "/lease");
        lease = record;
        lease->resource_version = std::to_string(++version);
        return *lease;
    }
    LeaseRecord update(const LeaseRecord& record) override {
        if (unreachable) throw TransportError(TransportError::Kind::connect, "PUT", "/lease", "refused");
        if (before_update) {
            auto hook = std::move(before_update);
            before_update = nullptr;
            hook();
        }
        if (!lease) throw ApiError(404, "NotFound", "absent", "PUT", "/lease");
        if (record.resource_version != lease->resource_version) {
            throw ApiError(409, "Conflict", "the object has been modified", "PUT", "/lease");
        }
        lease = record;
        lease->resource_version = std::to_string(++version);
        ++updates;
        return *lease;
    }
    std::string describe() const override { return "test/lease"; }

    std::optional<LeaseRecord> lease;
    bool unreachable = false;
    int version = 0;
    int updates = 0;
    std::function<void()> before_update;
};

LeaseRecord make_record(const std::string& holder, std::int32_t duration, const std::string& acquired,
                        const std::string& renewed, std::int32_t transitions) {
    LeaseRecord record;
    record.holder_identity = holder;
    record.lease_duration_seconds = duration;
    record.acquire_time = acquired;
    record.renew_time = renewed;
    record.lease_transitions = transitions;
    return record;
}

struct Callbacks {
    int started = 0;
    int stopped = 0;
    std::vector<std::string> leaders;
};

LeaderElectionConfig config_for(const std::string& identity, Callbacks& callbacks) {
    LeaderElectionConfig config;
    config.identity = identity;
    config.on_started_leading = [&callbacks] { ++callbacks.started; };
    config.on_stopped_leading = [&callbacks] { ++callbacks.stopped; };
    config.on_new_leader = [&callbacks](const std::string& leader) { callbacks.leaders.push_back(leader); };
    return config;
}

}  // namespace

TEST_CASE("elector acquires an absent lease", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks callbacks;
    LeaderElector elector(store, config_for("a", callbacks), clock);

    auto next = elector.step();
    CHECK(elector.is_leader());
    CHECK(callbacks.started == 1);
    CHECK(next == clock->now() + 2s);
    REQUIRE(store->lease);
    CHECK(store->lease->holder_identity == "a");
    CHECK(store->lease->lease_duration_seconds == 15);
    CHECK(store->lease->lease_transitions == 0);
    CHECK(store->lease->acquire_time == "2023-11-14T22:13:20.000000Z");
    CHECK(store->lease->renew_time == store->lease->acquire_time);
    CHECK(callbacks.leaders == std::vector<std::string>{"a"});

    auto info = elector.info();
    CHECK(info.holder_identity == "a");
    CHECK(info.lease_transitions == 0);
    CHECK(info.is_leader);
}

TEST_CASE("elector renews and keeps acquireTime", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks callbacks;
    LeaderElector elector(store, config_for("a", callbacks), clock);

    elector.step();
    auto acquired = store->lease->acquire_time;
    clock->advance(2500ms);
    elector.step();

    CHECK(store->lease->acquire_time == acquired);
    CHECK(store->lease->renew_time == "2023-11-14T22:13:22.500000Z");
    CHECK(store->lease->lease_transitions == 0);
    CHECK(store->updates == 1);
    CHECK(callbacks.started == 1);
    CHECK(elector.is_leader());
}

TEST_CASE("candidate waits for a held lease to expire", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks a_callbacks;
    Callbacks b_callbacks;
    LeaderElector a(store, config_for("a", a_callbacks), clock);
    LeaderElector b(store, config_for("b", b_callbacks), clock);

    a.step();
    auto next = b.step();
    CHECK_FALSE(b.is_leader());
    CHECK(next >= clock->now() + 2s);
    CHECK(next <= clock->now() + 2400ms);
    CHECK(b.info().holder_identity == "a");

    // a stops renewing (it crashed). b counts the lease duration from its own observation.
    clock->advance(14999ms);
    b.step();
    CHECK_FALSE(b.is_leader());
    CHECK(store->lease->holder_identity == "a");

    clock->advance(1ms);
    b.step();
    CHECK(b.is_leader());
    CHECK(store->lease->holder_identity == "b");
    CHECK(store->lease->lease_transitions == 1);
    CHECK(b_callbacks.started == 1);
    CHECK(b_callbacks.leaders == std::vector<std::string>{"a", "b"});
}

TEST_CASE("candidate restarts its wait when the lease changes", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks a_callbacks;
    Callbacks b_callbacks;
    LeaderElector a(store, config_for("a", a_callbacks), clock);
    LeaderElector b(store, config_for("b", b_callbacks), clock);

    a.step();
    b.step();
    clock->advance(10s);
    a.step();  // renewal: b reads a new renewTime
    b.step();
    clock->advance(10s);
    b.step();
    CHECK_FALSE(b.is_leader());
    clock->advance(5s);
    b.step();
    CHECK(b.is_leader());
}

TEST_CASE("leader stops before its lease expires", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks a_callbacks;
    Callbacks b_callbacks;
    LeaderElector a(store, config_for("a", a_callbacks), clock);
    LeaderElector b(store, config_for("b", b_callbacks), clock);

    a.step();
    b.step();
    store->unreachable = true;  // a's renewals fail; b cannot reach the store either

    clock->advance(2s);
    a.step();
    CHECK(a.is_leader());
    CHECK(a_callbacks.stopped == 0);

    clock->advance(7999ms);
    CHECK(a.is_leader());
    clock->advance(1ms);
    // 10 s after the last successful renewal began: is_leader turns false without a step.
    CHECK_FALSE(a.is_leader());
    a.step();
    CHECK(a_callbacks.stopped == 1);

    store->unreachable = false;
    b.step();
    CHECK_FALSE(b.is_leader());  // 10 s after b saw a's record, less than 15 s
    clock->advance(5s);
    b.step();
    CHECK(b.is_leader());
    CHECK(b_callbacks.started == 1);
}

TEST_CASE("leader renews after a short outage", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks callbacks;
    LeaderElector a(store, config_for("a", callbacks), clock);

    a.step();
    store->unreachable = true;
    clock->advance(4s);
    a.step();
    store->unreachable = false;
    clock->advance(4s);
    a.step();
    CHECK(a.is_leader());
    CHECK(callbacks.stopped == 0);
    CHECK(callbacks.started == 1);
    clock->advance(9s);
    CHECK(a.is_leader());
}

TEST_CASE("conflict keeps the loser a candidate", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks a_callbacks;
    Callbacks b_callbacks;
    LeaderElector a(store, config_for("a", a_callbacks), clock);
    LeaderElector b(store, config_for("b", b_callbacks), clock);

    // A released lease: both may take it. a writes between b's read and b's write.
    store->lease = make_record("", 1, "t", "t", 3);
    store->lease->resource_version = std::to_string(++store->version);
    store->before_update = [&] { a.step(); };

    b.step();
    CHECK(a.is_leader());
    CHECK_FALSE(b.is_leader());
    CHECK(b_callbacks.started == 0);
    CHECK(store->lease->holder_identity == "a");
    CHECK(store->lease->lease_transitions == 4);
}

TEST_CASE("release hands over at once", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    Callbacks a_callbacks;
    Callbacks b_callbacks;
    LeaderElector a(store, config_for("a", a_callbacks), clock);
    LeaderElector b(store, config_for("b", b_callbacks), clock);

    a.step();
    b.step();
    REQUIRE(a.release());
    CHECK_FALSE(a.is_leader());
    CHECK(store->lease->holder_identity.empty());
    CHECK(store->lease->lease_duration_seconds == 1);
    CHECK(store->lease->lease_transitions == 0);

    b.step();
    CHECK(b.is_leader());
    CHECK(store->lease->holder_identity == "b");
    CHECK(store->lease->lease_transitions == 1);

    CHECK_FALSE(a.release());  // not the holder any more
    CHECK(store->lease->holder_identity == "b");
}

TEST_CASE("elector reclaims its own lease at once", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    auto clock = std::make_shared<FakeClock>();
    store->lease = make_record("a", 15, "old", "old", 2);
    store->lease->resource_version = std::to_string(++store->version);

    Callbacks callbacks;
    LeaderElector a(store, config_for("a", callbacks), clock);
    a.step();
    CHECK(a.is_leader());
    CHECK(store->lease->lease_transitions == 2);
    CHECK(store->lease->acquire_time == "old");
}

TEST_CASE("elector thread leads and releases on stop", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    Callbacks callbacks;
    auto config = config_for("a", callbacks);
    config.retry_period = 50ms;
    config.renew_deadline = 200ms;
    config.lease_duration = 1s;
    LeaderElector elector(store, config);

    elector.start();
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!elector.is_leader() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(10ms);
    REQUIRE(elector.is_leader());
    std::this_thread::sleep_for(200ms);
    CHECK(elector.is_leader());
    CHECK(store->updates >= 2);

    auto before_stop = std::chrono::steady_clock::now();
    elector.stop();
    CHECK(std::chrono::steady_clock::now() - before_stop < 1s);
    CHECK(callbacks.started == 1);
    CHECK(callbacks.stopped == 1);
    CHECK_FALSE(elector.is_leader());
    CHECK(store->lease->holder_identity.empty());
}

TEST_CASE("elector rejects invalid durations", "[lease]") {
    auto store = std::make_shared<MemoryLeaseStore>();
    LeaderElectionConfig config;
    CHECK_THROWS_AS(LeaderElector(store, config), std::invalid_argument);  // no identity

    config.identity = "a";
    config.renew_deadline = 15s;
    CHECK_THROWS_AS(LeaderElector(store, config), std::invalid_argument);

    config.renew_deadline = 10s;
    config.retry_period = 10s;
    CHECK_THROWS_AS(LeaderElector(store, config), std::invalid_argument);

    config.retry_period = 2s;
    CHECK_NOTHROW(LeaderElector(store, config));
}

TEST_CASE("lease JSON round trip", "[lease]") {
    LeaseRecord record = make_record("pod-1", 15, "2024-01-02T03:04:05.000006Z", "2024-01-02T03:04:07.000000Z", 3);
    record.resource_version = "42";
    auto lease = lease_to_json(record, "jitsi", "jpc");
    CHECK(lease["apiVersion"] == "coordination.k8s.io/v1");
    CHECK(lease["kind"] == "Lease");
    CHECK(lease["metadata"]["namespace"] == "jitsi");
    CHECK(lease["metadata"]["name"] == "jpc");
    CHECK(lease["metadata"]["resourceVersion"] == "42");
    CHECK(lease["spec"]["holderIdentity"] == "pod-1");
    CHECK(lease["spec"]["leaseDurationSeconds"] == 15);
    CHECK(lease["spec"]["leaseTransitions"] == 3);

    auto back = lease_from_json(lease);
    CHECK(back.same_spec(record));
    CHECK(back.resource_version == "42");

    auto empty = lease_from_json({{"metadata", {{"resourceVersion", "1"}}}});
    CHECK(empty.holder_identity.empty());
    CHECK(empty.lease_transitions == 0);
}

TEST_CASE("format_micro_time", "[lease]") {
    std::chrono::system_clock::time_point time(1700000000s + 123456us);
    CHECK(format_micro_time(time) == "2023-11-14T22:13:20.123456Z");
    CHECK(format_micro_time(std::chrono::system_clock::time_point(0s)) == "1970-01-01T00:00:00.000000Z");
}
