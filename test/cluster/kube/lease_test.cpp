#include "kube_cluster.h"

#include "kube/lease.h"
#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <memory>
#include <thread>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::TestNamespace;
using jpc::test::wait_until;
using namespace std::chrono_literals;
using std::chrono::steady_clock;

namespace {

struct Replica {
    std::unique_ptr<LeaderElector> elector;
    std::atomic<int> started{0};
    std::atomic<int> stopped{0};
};

std::unique_ptr<Replica> make_replica(const Client& client, const std::string& ns, const std::string& identity,
                                      std::chrono::milliseconds lease_duration, std::chrono::milliseconds renew_deadline,
                                      bool release_on_stop) {
    auto replica = std::make_unique<Replica>();
    LeaderElectionConfig config;
    config.identity = identity;
    config.lease_duration = lease_duration;
    config.renew_deadline = renew_deadline;
    config.retry_period = 500ms;
    config.release_on_stop = release_on_stop;
    config.on_started_leading = [raw = replica.get()] { ++raw->started; };
    config.on_stopped_leading = [raw = replica.get()] { ++raw->stopped; };
    auto store = std::make_shared<ApiLeaseStore>(client, ns, "jpc-leader", 1s);
    replica->elector = std::make_unique<LeaderElector>(store, config);
    return replica;
}

// Samples both replicas for `duration` and returns the highest number that led at once.
int max_simultaneous_leaders(const Replica& a, const Replica& b, std::chrono::milliseconds duration) {
    int most = 0;
    auto end = steady_clock::now() + duration;
    while (steady_clock::now() < end) {
        int leaders = (a.elector->is_leader() ? 1 : 0) + (b.elector->is_leader() ? 1 : 0);
        most = std::max(most, leaders);
        std::this_thread::sleep_for(20ms);
    }
    return most;
}

}  // namespace

TEST_CASE("two electors: one leads, the other takes over after a crash", "[cluster][lease]") {
    TestNamespace ns("kube-lease");
    Client client = admin_client();
    auto a = make_replica(client, ns.name(), "replica-a", 4s, 3s, false);
    auto b = make_replica(client, ns.name(), "replica-b", 4s, 3s, false);
    a->elector->start();
    b->elector->start();

    REQUIRE(wait_until([&] { return a->elector->is_leader() || b->elector->is_leader(); }, 10s, 20ms));
    CHECK(max_simultaneous_leaders(*a, *b, 3s) == 1);
    Replica& leader = a->elector->is_leader() ? *a : *b;
    Replica& follower = a->elector->is_leader() ? *b : *a;
    CHECK(leader.started == 1);
    CHECK(follower.started == 0);
    CHECK(follower.elector->info().holder_identity == leader.elector->info().holder_identity);

    auto lease = client.get(resources::leases, ns.name(), "jpc-leader");
    CHECK(lease["spec"]["holderIdentity"] == leader.elector->info().holder_identity);
    CHECK(lease["spec"]["leaseDurationSeconds"] == 4);

    // The leader's thread ends without releasing the Lease, as if the process were killed.
    leader.elector->stop();
    auto crashed_at = steady_clock::now();
    REQUIRE(wait_until([&] { return follower.elector->is_leader(); }, 10s, 20ms));
    auto takeover = steady_clock::now() - crashed_at;

    // The takeover must not come before the lease could expire, and the last renewal was at
    // most one retry period before the crash. It must come within the lease duration plus
    // the follower's observation delay, one jittered retry period (0.6 s at most each) and
    // request latency.
    CHECK(takeover >= 4s - 600ms);
    CHECK(takeover <= 4s + 1500ms);
    CHECK(follower.started == 1);
    auto after = client.get(resources::leases, ns.name(), "jpc-leader");
    CHECK(after["spec"]["leaseTransitions"] == lease["spec"]["leaseTransitions"].get<int>() + 1);

    follower.elector->stop();
}

TEST_CASE("two electors: release hands over at once", "[cluster][lease]") {
    TestNamespace ns("kube-release");
    Client client = admin_client();
    auto a = make_replica(client, ns.name(), "replica-a", 10s, 7s, true);
    a->elector->start();
    REQUIRE(wait_until([&] { return a->elector->is_leader(); }, 10s, 20ms));
    auto b = make_replica(client, ns.name(), "replica-b", 10s, 7s, true);
    b->elector->start();
    CHECK(max_simultaneous_leaders(*a, *b, 1500ms) == 1);
    CHECK_FALSE(b->elector->is_leader());

    auto released_at = steady_clock::now();
    a->elector->stop();
    CHECK(a->stopped == 1);
    auto lease = client.get(resources::leases, ns.name(), "jpc-leader");
    CHECK(lease["spec"]["holderIdentity"] != "replica-a");

    REQUIRE(wait_until([&] { return b->elector->is_leader(); }, 10s, 20ms));
    // Far sooner than the 10 s lease duration: one retry period with jitter.
    CHECK(steady_clock::now() - released_at < 1500ms);
    CHECK(b->started == 1);
    b->elector->stop();
    CHECK(client.get(resources::leases, ns.name(), "jpc-leader")["spec"].value("holderIdentity", "") == "");
}
