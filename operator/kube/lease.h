#pragma once

#include "kube/client.h"
#include "kube/transport.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace jpc::kube {

// Time for leader election, injectable so tests drive it by hand.
class Clock {
public:
    virtual ~Clock() = default;
    // Monotonic time for deadlines and for when a lease was observed.
    virtual std::chrono::steady_clock::time_point now() const = 0;
    // Wall time written to the Lease (acquireTime, renewTime).
    virtual std::chrono::system_clock::time_point wall_now() const = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
    std::chrono::system_clock::time_point wall_now() const override {
        return std::chrono::system_clock::now();
    }
};

// The spec of a coordination.k8s.io/v1 Lease plus its resourceVersion.
struct LeaseRecord {
    std::string holder_identity;  // empty: free (released)
    std::int32_t lease_duration_seconds = 0;
    std::string acquire_time;  // MicroTime, RFC 3339 with microseconds
    std::string renew_time;
    std::int32_t lease_transitions = 0;
    std::string resource_version;

    // Equal holder, duration, times and transitions (resource_version ignored).
    bool same_spec(const LeaseRecord& other) const;
};

// Reads and writes one Lease. The elector uses it so unit tests can put an in-memory
// Lease behind it.
class LeaseStore {
public:
    virtual ~LeaseStore() = default;
    // Returns the Lease, or nullopt when it does not exist. Throws on any other failure.
    virtual std::optional<LeaseRecord> get() = 0;
    // Creates the Lease. Throws ApiError (409 AlreadyExists) when another replica won.
    virtual LeaseRecord create(const LeaseRecord& record) = 0;
    // Replaces the Lease if its resourceVersion still equals record.resource_version;
    // otherwise throws ApiError with is_conflict().
    virtual LeaseRecord update(const LeaseRecord& record) = 0;
    // "namespace/name", for logs.
    virtual std::string describe() const = 0;
};

// LeaseStore on the API server. Its calls are not retried and time out after
// request_timeout, so that one slow call cannot use up the renew deadline; the elector
// tries again every retry_period instead.
class ApiLeaseStore final : public LeaseStore {
public:
    ApiLeaseStore(const Client& client, std::string ns, std::string name,
                  std::chrono::milliseconds request_timeout = std::chrono::seconds(2));
    std::optional<LeaseRecord> get() override;
    LeaseRecord create(const LeaseRecord& record) override;
    LeaseRecord update(const LeaseRecord& record) override;
    std::string describe() const override { return ns_ + "/" + name_; }

private:
    Client client_;
    std::string ns_;
    std::string name_;
};

// Converts between LeaseRecord and the Lease object.
nlohmann::json lease_to_json(const LeaseRecord& record, const std::string& ns, const std::string& name);
LeaseRecord lease_from_json(const nlohmann::json& lease);
// Formats wall time as a MicroTime: "2024-01-02T03:04:05.123456Z".
std::string format_micro_time(std::chrono::system_clock::time_point time);

struct LeaderElectionConfig {
    std::string identity;  // unique per replica, such as the pod name; required
    // How long others wait after they last saw the lease change before taking it.
    std::chrono::milliseconds lease_duration{std::chrono::seconds(15)};
    // How long the leader keeps trying to renew before it stops leading. Must be shorter
    // than lease_duration, so the leader stops before anyone else may take over.
    std::chrono::milliseconds renew_deadline{std::chrono::seconds(10)};
    // Interval between tries; candidates add up to 20% jitter.
    std::chrono::milliseconds retry_period{std::chrono::seconds(2)};
    // Release the lease in stop() so another replica takes over at once.
    bool release_on_stop = true;

    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;
    // Called when the observed holder changes, with the new holder ("" when released).
    std::function<void(const std::string& identity)> on_new_leader;
};

// Snapshot for logs and status.
struct LeaderInfo {
    std::string holder_identity;  // last observed holder, "" when none
    std::int32_t lease_transitions = 0;  // the term: incremented on each change of holder
    bool is_leader = false;
};

// Leader election on a Lease with client-go's semantics:
// - a candidate takes the Lease only when it does not exist, has no holder, or has not
//   changed for lease_duration as measured on this replica's clock since it saw the change;
// - every write carries the resourceVersion that was read, so of two racing replicas one
//   gets 409 Conflict and stays a candidate;
// - the leader renews every retry_period; when no renewal has succeeded for
//   renew_deadline, counted from the start of the last successful renewal request, it
//   stops leading. As renew_deadline < lease_duration, it stops before another replica
//   may acquire;
// - on stop() the leader releases the Lease (empty holder, duration 1 s).
//
// The state machine is step(), one try, which is what unit tests drive with a fake
// Clock. start() runs it on a thread. Callbacks run on that thread; on_started_leading
// must return promptly, so long work belongs on another thread that checks is_leader().
class LeaderElector {
public:
    LeaderElector(std::shared_ptr<LeaseStore> store, LeaderElectionConfig config,
                  std::shared_ptr<const Clock> clock = std::make_shared<SystemClock>());
    ~LeaderElector();  // calls stop()
    LeaderElector(const LeaderElector&) = delete;
    LeaderElector& operator=(const LeaderElector&) = delete;

    void start();
    // Stops the thread; when leading, calls on_stopped_leading and releases the Lease if
    // release_on_stop. Idempotent.
    void stop();

    // Makes one acquire or renew try and returns when the next try is due. Public for tests;
    // do not call it while the thread runs.
    std::chrono::steady_clock::time_point step();

    // Releases the Lease when this replica holds it. Returns whether it was released.
    bool release();

    // True while this replica leads and its last successful renewal started less than
    // renew_deadline ago, judged against the clock now, so it turns false on time even if
    // the election thread is blocked in a request.
    bool is_leader() const;
    LeaderInfo info() const;

private:
    void run();
    bool try_acquire_or_renew(std::vector<std::function<void()>>& notifications);
    void observe(const LeaseRecord& record, std::chrono::steady_clock::time_point now,
                 std::vector<std::function<void()>>& notifications);

    std::shared_ptr<LeaseStore> store_;
    LeaderElectionConfig config_;
    std::shared_ptr<const Clock> clock_;

    mutable std::mutex mutex_;
    std::optional<LeaseRecord> observed_;
    std::chrono::steady_clock::time_point observed_at_{};
    std::chrono::steady_clock::time_point renewed_at_{};  // start of the last successful write
    bool leading_ = false;
    std::mt19937_64 random_;

    Cancellation cancellation_;
    std::thread thread_;
    std::atomic<bool> running_{false};
};

}  // namespace jpc::kube
