#pragma once

#include "kube/client.h"
#include "kube/informer.h"
#include "options/options.h"
#include "pool/jibripool.h"
#include "pool/objects.h"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace jpc::controller {

// A JibriPool parsed with the operator's defaults, or the reason it could not be.
struct CachedPool {
    kube::ObjectPtr object;
    std::optional<pool::JibriPool> pool;
    std::string error;  // set when pool is nullopt
};

// Applies the operator-wide defaults (from SWEEP_INTERVAL, JIBRI_HEALTH_PORT and
// JIBRI_BUSY_LABELS and their flags) to the fields a JibriPool leaves unset, then parses it.
CachedPool parse_pool_with_defaults(kube::ObjectPtr object, const options::PoolDefaults& defaults);

// Keeps only the fields of a pod that the operator reads (name, namespace, uid,
// resourceVersion, labels, annotations, deletionTimestamp, ownerReferences, status.phase,
// status.podIP), so thousands of cached pods stay small.
void trim_pod(nlohmann::json& pod);

// The operator's view of the cluster, kept current by informers: JibriPools and
// Deployments in the watched namespaces, and the pods of each pool. Pod informers are
// filtered server-side by the labels a pool's idle and busy pods share (see
// pool::shared_labels), so the operator does not cache every pod of the namespace. They
// are started and stopped as pools and their Deployments change.
//
// Whenever something may change what a pool should do, the handler is called with the
// pool's key ("namespace/name") on an informer thread.
class ClusterCache {
public:
    using PoolKeyHandler = std::function<void(const std::string& pool_key)>;

    // scopes: namespaces to watch; a single empty string means all namespaces.
    ClusterCache(kube::Client client, std::vector<std::string> scopes, options::PoolDefaults defaults);
    ~ClusterCache();
    ClusterCache(const ClusterCache&) = delete;
    ClusterCache& operator=(const ClusterCache&) = delete;

    void set_handler(PoolKeyHandler handler);
    void start();
    void stop();

    // True when the pool and Deployment informers have listed once and so has every pod
    // informer that the current pools need.
    bool synced() const;
    bool wait_for_sync(std::chrono::milliseconds timeout) const;

    bool watches_namespace(const std::string& ns) const;

    std::vector<CachedPool> pools() const;
    std::optional<CachedPool> pool(const std::string& ns, const std::string& name) const;
    std::optional<pool::Deployment> deployment(const std::string& ns, const std::string& name) const;

    // The pods of the pool's pod informer, or nullopt while that informer has not synced
    // (or does not exist yet), so a caller never decides from a partial list.
    std::optional<std::vector<kube::ObjectPtr>> pool_pods(const pool::JibriPool& pool,
                                                          const pool::Deployment& deployment) const;

    // A pod from any pod informer, or null.
    kube::ObjectPtr pod(const std::string& ns, const std::string& name) const;

    // The label selector the pod informer of this pool uses ("" for every pod of the namespace).
    static std::string pod_selector(const pool::JibriPool& pool, const pool::Deployment& deployment);

    std::vector<kube::InformerStats> informer_stats() const;
    std::size_t cached_pods() const;

private:
    // True when the pool's pod informer exists and has synced. Unlike pool_pods, it copies
    // no list, so checking it every second does not grow with the number of pods.
    bool pod_informer_synced(const pool::JibriPool& pool, const pool::Deployment& deployment) const;
    using PodWatchKey = std::pair<std::string, std::string>;  // namespace, label selector

    void on_pool_event(const nlohmann::json& object, bool deleted);
    void on_deployment_event(const nlohmann::json& object);
    void on_pod_event(const nlohmann::json& object);
    void refresh_pod_watches();
    void notify(const std::string& key) const;
    std::vector<std::shared_ptr<kube::Informer>> pod_informers_in(const std::string& ns) const;

    kube::Client client_;
    std::vector<std::string> scopes_;
    options::PoolDefaults defaults_;
    PoolKeyHandler handler_;

    std::vector<std::unique_ptr<kube::Informer>> pool_informers_;
    std::vector<std::unique_ptr<kube::Informer>> deployment_informers_;

    mutable std::mutex pods_mutex_;
    std::map<PodWatchKey, std::shared_ptr<kube::Informer>> pod_informers_;
    std::mutex refresh_mutex_;  // one refresh at a time
    std::atomic<bool> started_{false};
    std::atomic<bool> stopping_{false};
};

}  // namespace jpc::controller
