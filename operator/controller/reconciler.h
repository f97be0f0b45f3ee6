#pragma once

#include "controller/cluster_cache.h"
#include "controller/event_recorder.h"
#include "kube/client.h"
#include "metrics/metrics.h"
#include "pool/actions.h"
#include "pool/decide.h"

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace jpc::controller {

struct ReconcileResult {
    // Reconcile the pool again after this delay even if nothing changes, for example
    // while its pod cache is still syncing or an action met a conflict.
    std::optional<std::chrono::milliseconds> requeue_after;
};

// Reconciles one JibriPool by name: reads the pool, its Deployment and its pods from the
// cache, asks pool::decide() what to do, and performs those actions through the API.
// Level-based: it receives only the key, so a missed or repeated event cannot make it
// wrong. API failures are thrown; the work loop retries them with backoff.
class Reconciler {
public:
    // may_act is checked before every write: it turns false when this replica stops being
    // the leader, and the reconcile then stops where it is.
    Reconciler(kube::Client client, const ClusterCache& cache, EventRecorder& recorder,
               metrics::OperatorMetrics& metrics, std::function<bool()> may_act);

    ReconcileResult reconcile(const std::string& pool_key);

private:
    ReconcileResult reconcile_invalid_pool(const CachedPool& cached);
    // Returns false when the action could not be performed because the state changed
    // (conflict or the object vanished), so the pool is reconciled again.
    bool perform(const pool::JibriPool& pool, const pool::Deployment* deployment, const pool::Action& action,
                 jibri::Timestamp now);
    bool isolate(const pool::JibriPool& pool, const pool::IsolatePod& action);
    bool remove(const pool::JibriPool& pool, const pool::DeletePod& action);
    bool scale(const pool::JibriPool& pool, const pool::Deployment& deployment, const pool::ScaleDeployment& action,
               jibri::Timestamp now);
    void write_status(const pool::JibriPool& pool, const pool::Decision& decision);
    void record_pod_counts(const pool::JibriPool& pool, const pool::PoolStatus& status);

    kube::Client client_;
    const ClusterCache& cache_;
    EventRecorder& recorder_;
    metrics::OperatorMetrics& metrics_;
    std::function<bool()> may_act_;
};

// Returns true when a delete of this pod would violate the operator's invariant: its
// latest recorded report is BUSY and it is not an isolated pod whose containers exited.
// The reconciler checks it before every delete, as a guard independent of decide().
bool deleting_would_lose_recording(const pool::Pod& pod, const pool::JibriPool& pool,
                                   const pool::LabelSelector& selector);

}  // namespace jpc::controller
