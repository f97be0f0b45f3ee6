#pragma once

#include "controller/cluster_cache.h"
#include "controller/event_recorder.h"
#include "http/probe_client.h"
#include "kube/client.h"
#include "metrics/metrics.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace jpc::controller {

// What one sweep of a pool found and did.
struct SweepReport {
    std::size_t probed = 0;
    std::size_t answered = 0;
    std::size_t failed = 0;           // timed out, refused or unparseable
    std::size_t recorded_busy = 0;    // missed BUSY webhooks now recorded
    std::size_t recorded_expired = 0; // missed EXPIRED webhooks now recorded
    std::chrono::milliseconds duration{0};
};

// Polls the health API of every pod of every pool, each pool every
// spec.sweepIntervalSeconds, to recover webhooks that jibri sent but the operator never
// recorded (jibri does not retry). It writes what it finds as the webhook would: EXPIRED
// on any pod, BUSY on a pod still inside its Deployment. The reconciler then acts. A jibri
// that does not answer is logged and counted, and its pod left alone: nothing is ever
// deleted on a guess.
//
// Runs on the leader only (may_act), and a pool's first sweep after a restart waits for
// the interval since the status's lastSweepTime, so restarts do not sweep more often.
class Sweeper {
public:
    Sweeper(kube::Client client, const ClusterCache& cache, EventRecorder& recorder, metrics::OperatorMetrics& metrics,
            std::function<bool()> may_act, std::size_t max_concurrency);
    ~Sweeper();

    void start();
    void stop();

    // Sweeps one pool now and returns when every probe has finished.
    SweepReport sweep(const pool::JibriPool& pool, const pool::Deployment& deployment);

private:
    void run();
    void sweep_due_pools();
    // Handles one probe's result: logs a failure, and records a missed EXPIRED (any pod)
    // or BUSY (a pod inside the Deployment) as the webhook would. Writes nothing and
    // records no Event unless acting.
    void handle_probe(const std::string& pool_key, const pool::JibriPool& pool, const pool::Deployment& deployment,
                      const nlohmann::json& object, const pool::Pod& pod, const http::ProbeResult& result,
                      std::chrono::system_clock::time_point sent_at, bool acting, SweepReport& report);

    kube::Client client_;
    const ClusterCache& cache_;
    EventRecorder& recorder_;
    metrics::OperatorMetrics& metrics_;
    std::function<bool()> may_act_;
    std::size_t max_concurrency_;

    std::map<std::string, std::chrono::system_clock::time_point> next_sweep_;  // by pool key; sweeper thread only
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace jpc::controller
