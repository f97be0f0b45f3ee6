#pragma once

#include "controller/cluster_cache.h"
#include "controller/event_recorder.h"
#include "controller/reconciler.h"
#include "controller/sweeper.h"
#include "controller/webhook.h"
#include "controller/work_queue.h"
#include "http/http_server.h"
#include "kube/client.h"
#include "kube/lease.h"
#include "metrics/metrics.h"
#include "options/options.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <memory>
#include <thread>
#include <vector>

namespace jpc::controller {

// Wires the operator together: the informer cache, leader election, the reconcile work
// queue and its workers, the sweeper, the event recorder, and the HTTP server for the
// webhook, /metrics, /healthz and /readyz. Components never construct each other; the
// manager owns them and decides the order of start and stop.
class Manager {
public:
    Manager(options::Options options, kube::Config config);
    ~Manager();
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    // Starts serving and watching. Throws when the HTTP port cannot be bound.
    void start();

    // Graceful stop: stops accepting webhooks and lets those in progress finish, stops the
    // reconcile workers and the sweeper, releases the lease, stops the informers.
    // Idempotent.
    void stop();

    bool is_leader() const;
    std::uint16_t port() const;
    const std::string& own_namespace() const { return own_namespace_; }

private:
    http::HttpResponse route(const http::HttpRequest& request);
    void on_pool_changed(const std::string& key);
    void on_started_leading();
    void resync_on_leadership();
    void work();
    void collect_metrics();
    // Returns an empty string when the API server sent a response in the last 10 s or
    // responds to GET /version within 2 s, else what failed.
    std::string api_problem() const;

    options::Options options_;
    std::string own_namespace_;
    std::string identity_;
    kube::Client client_;
    metrics::Registry registry_;
    metrics::OperatorMetrics metrics_;
    std::unique_ptr<ClusterCache> cache_;
    std::unique_ptr<kube::LeaderElector> elector_;
    std::unique_ptr<EventRecorder> recorder_;
    std::unique_ptr<Reconciler> reconciler_;
    std::unique_ptr<Sweeper> sweeper_;
    std::unique_ptr<WebhookHandler> webhook_;
    std::unique_ptr<http::HttpServer> server_;
    WorkQueue queue_;
    std::vector<std::thread> workers_;
    std::mutex resync_mutex_;
    std::condition_variable resync_wake_;
    bool resync_requested_ = false;  // guarded by resync_mutex_
    std::thread resync_thread_;
    std::atomic<bool> stopped_{false};
};

}  // namespace jpc::controller
