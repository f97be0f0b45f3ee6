#pragma once

#include "kube/client.h"
#include "kube/informer.h"
#include "pool/labels.h"
#include "sim/address_pool.h"
#include "sim/health_server.h"
#include "sim/jibri_status.h"
#include "sim/webhook_sender.h"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace jpc::sim {

struct FleetOptions {
    std::string ns;
    // Pods the fleet plays: those matching this label selector (idle and busy pods alike).
    std::string pod_selector = "app=jibri";
    // The Deployment's selector: a pod matching it is inside the Deployment.
    pool::LabelSelector deployment_selector;
    // The operator's webhook up to the pod name, such as http://127.0.0.1:8080/webhook/NS;
    // the fleet appends /<pod>/v1/status.
    std::string webhook_base;
    HealthServerOptions health;
    // A BUSY pod still inside the Deployment after this long counts as a lost recording.
    std::chrono::milliseconds isolation_grace{std::chrono::seconds(10)};
    std::string first_address = std::string(AddressPool::default_first);
};

// Counters of what happened to the recordings, for tests and the demo's summary.
struct FleetStats {
    std::uint64_t recordings_started = 0;
    std::uint64_t recordings_finished = 0;
    std::uint64_t webhooks_sent = 0;
    std::uint64_t webhooks_dropped = 0;  // skipped on purpose: only the sweeper can notice
    std::uint64_t webhooks_failed = 0;   // sent, but not answered 200
    std::uint64_t pods_started = 0;      // pods given an IP and a health endpoint
    std::uint64_t pods_deleted = 0;
    // A pod deleted while its jibri was BUSY, or left inside the Deployment for longer
    // than isolation_grace while BUSY.
    std::uint64_t lost_recordings = 0;
};

// Plays the jibris of a pool against the real API server and the operator. For every pod
// that appears it does what the kubelet and the jibri container would: sets phase Running
// and a podIP from 127.0.0.0/8 through the pods/status subresource, and serves Jibri's
// health API on that address. Tests then start and finish recordings, which change what
// the health API reports and send the webhooks from the pod's IP, as jibri does.
class JibriFleet {
public:
    JibriFleet(kube::Client client, FleetOptions options);
    ~JibriFleet();
    JibriFleet(const JibriFleet&) = delete;
    JibriFleet& operator=(const JibriFleet&) = delete;

    void start();
    void stop();

    // Pods that run an IDLE jibri and are inside the Deployment, by name.
    std::vector<std::string> idle_pods() const;
    // Pods whose jibri is BUSY.
    std::vector<std::string> busy_pods() const;

    // Makes the pod's jibri BUSY and, unless send_webhook is false, reports it. Returns the
    // webhook's HTTP status, or 0 when none was sent.
    int start_recording(const std::string& pod, bool send_webhook = true);
    // Makes the pod's jibri EXPIRED and reports it likewise.
    int finish_recording(const std::string& pod, bool send_webhook = true);
    // Sends the pod's current status again, without changing it.
    int send_status(const std::string& pod);

    // Checks every BUSY jibri: a pod inside the Deployment longer than isolation_grace
    // counts as lost (once per pod).
    void check_isolation();

    FleetStats stats() const;
    std::optional<std::string> pod_ip(const std::string& pod) const;
    HealthServer& health_server() { return *health_; }

private:
    struct Jibri {
        std::string uid;
        std::string ip;
        JibriStatus status;
        pool::Labels labels;
        std::chrono::steady_clock::time_point busy_since;
        bool counted_lost = false;
        bool being_deleted = false;
        // The API server has the pod's podIP: the operator accepts its webhooks and can
        // probe its health only then.
        bool ip_recorded = false;
    };

    void on_pod(const nlohmann::json& object);
    void on_pod_deleted(const nlohmann::json& object);
    int report(const std::string& pod, const Jibri& jibri);

    kube::Client client_;
    FleetOptions options_;
    std::unique_ptr<HealthServer> health_;
    AddressPool addresses_;
    WebhookSender sender_;
    std::unique_ptr<kube::Informer> informer_;

    mutable std::mutex mutex_;
    std::map<std::string, Jibri> jibris_;  // by pod name
    FleetStats stats_;
};

}  // namespace jpc::sim
