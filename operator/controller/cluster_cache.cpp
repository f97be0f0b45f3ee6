#include "controller/cluster_cache.h"

#include "kube/resource.h"
#include "pool/labels.h"
#include "pool/membership.h"

#include <spdlog/spdlog.h>

#include <set>

namespace jpc::controller {

namespace {

std::string key_of(const std::string& ns, const std::string& name) { return ns + "/" + name; }

void trim_deployment(nlohmann::json& deployment) {
    deployment["metadata"].erase("managedFields");
    if (deployment.contains("spec")) deployment["spec"].erase("template");
}

}  // namespace

CachedPool parse_pool_with_defaults(kube::ObjectPtr object, const options::PoolDefaults& defaults) {
    CachedPool cached;
    cached.object = object;
    nlohmann::json copy = *object;
    auto& spec = copy["spec"];
    if (spec.is_object()) {
        if (!spec.contains("busyLabels") && !defaults.busy_labels.empty()) {
            spec["busyLabels"] = defaults.busy_labels;
        }
        if (!spec.contains("sweepIntervalSeconds")) spec["sweepIntervalSeconds"] = defaults.sweep_interval_seconds;
        if (!spec.contains("health") || !spec["health"].is_object() || !spec["health"].contains("port")) {
            spec["health"]["port"] = defaults.health_port;
        }
    }
    auto parsed = pool::parse_jibri_pool(copy);
    if (parsed) {
        cached.pool = std::move(parsed).value();
    } else {
        cached.error = parsed.error();
    }
    return cached;
}

void trim_pod(nlohmann::json& pod) {
    nlohmann::json trimmed = {{"apiVersion", "v1"}, {"kind", "Pod"}};
    auto& metadata = trimmed["metadata"];
    const auto& source = pod["metadata"];
    for (const char* field : {"name", "namespace", "uid", "resourceVersion", "labels", "annotations",
                              "deletionTimestamp", "ownerReferences"}) {
        if (source.contains(field)) metadata[field] = source[field];
    }
    if (pod.contains("status")) {
        for (const char* field : {"phase", "podIP"}) {
            if (pod["status"].contains(field)) trimmed["status"][field] = pod["status"][field];
        }
    }
    pod = std::move(trimmed);
}

ClusterCache::ClusterCache(kube::Client client, std::vector<std::string> scopes, options::PoolDefaults defaults)
    : client_(std::move(client)), scopes_(std::move(scopes)), defaults_(std::move(defaults)) {
    if (scopes_.empty()) scopes_.push_back("");
}

ClusterCache::~ClusterCache() { stop(); }

void ClusterCache::set_handler(PoolKeyHandler handler) { handler_ = std::move(handler); }

void ClusterCache::start() {
    for (const auto& scope : scopes_) {
        kube::InformerOptions pools;
        pools.type = kube::resources::jibripools;
        pools.ns = scope;
        pools.resync_period = std::chrono::minutes(5);
        pools.transform = [](nlohmann::json& object) { object["metadata"].erase("managedFields"); };
        kube::InformerHandlers pool_handlers;
        pool_handlers.on_add = [this](const nlohmann::json& object) { on_pool_event(object, false); };
        pool_handlers.on_update = [this](const nlohmann::json&, const nlohmann::json& object) {
            on_pool_event(object, false);
        };
        pool_handlers.on_delete = [this](const nlohmann::json& object) { on_pool_event(object, true); };
        pool_informers_.push_back(std::make_unique<kube::Informer>(client_, pools, pool_handlers));

        kube::InformerOptions deployments;
        deployments.type = kube::resources::deployments;
        deployments.ns = scope;
        deployments.transform = trim_deployment;
        kube::InformerHandlers deployment_handlers;
        deployment_handlers.on_add = [this](const nlohmann::json& object) { on_deployment_event(object); };
        deployment_handlers.on_update = [this](const nlohmann::json&, const nlohmann::json& object) {
            on_deployment_event(object);
        };
        deployment_handlers.on_delete = [this](const nlohmann::json& object) { on_deployment_event(object); };
        deployment_informers_.push_back(std::make_unique<kube::Informer>(client_, deployments, deployment_handlers));
    }
    started_ = true;
    for (auto& informer : deployment_informers_) informer->start();
    for (auto& informer : pool_informers_) informer->start();
}

void ClusterCache::stop() {
    if (stopping_.exchange(true)) return;
    for (auto& informer : pool_informers_) informer->stop();
    for (auto& informer : deployment_informers_) informer->stop();
    std::map<PodWatchKey, std::shared_ptr<kube::Informer>> pods;
    {
        std::lock_guard lock(pods_mutex_);
        pods.swap(pod_informers_);
    }
    for (auto& [key, informer] : pods) informer->stop();
}

bool ClusterCache::synced() const {
    if (!started_) return false;
    for (const auto& informer : pool_informers_) {
        if (!informer->has_synced()) return false;
    }
    for (const auto& informer : deployment_informers_) {
        if (!informer->has_synced()) return false;
    }
    // Every pool whose Deployment exists must have a synced pod informer.
    for (const auto& cached : pools()) {
        if (!cached.pool) continue;
        auto deployment = this->deployment(cached.pool->namespace_name, cached.pool->spec.deployment_name);
        if (!deployment || deployment->selector_error) continue;
        if (!pod_informer_synced(*cached.pool, *deployment)) return false;
    }
    return true;
}

bool ClusterCache::pod_informer_synced(const pool::JibriPool& pool, const pool::Deployment& deployment) const {
    std::shared_ptr<kube::Informer> informer;
    {
        std::lock_guard lock(pods_mutex_);
        auto found = pod_informers_.find({pool.namespace_name, pod_selector(pool, deployment)});
        if (found == pod_informers_.end()) return false;
        informer = found->second;
    }
    return informer->has_synced();
}

bool ClusterCache::wait_for_sync(std::chrono::milliseconds timeout) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!synced()) {
        if (std::chrono::steady_clock::now() >= deadline || stopping_) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

bool ClusterCache::watches_namespace(const std::string& ns) const {
    for (const auto& scope : scopes_) {
        if (scope.empty() || scope == ns) return true;
    }
    return false;
}

std::vector<CachedPool> ClusterCache::pools() const {
    std::vector<CachedPool> result;
    for (const auto& informer : pool_informers_) {
        for (const auto& object : informer->list()) {
            result.push_back(parse_pool_with_defaults(object, defaults_));
        }
    }
    return result;
}

std::optional<CachedPool> ClusterCache::pool(const std::string& ns, const std::string& name) const {
    for (const auto& informer : pool_informers_) {
        if (auto object = informer->get(ns, name)) return parse_pool_with_defaults(object, defaults_);
    }
    return std::nullopt;
}

std::optional<pool::Deployment> ClusterCache::deployment(const std::string& ns, const std::string& name) const {
    for (const auto& informer : deployment_informers_) {
        if (auto object = informer->get(ns, name)) {
            auto parsed = pool::parse_deployment(*object);
            if (parsed) return std::move(parsed).value();
            spdlog::warn("deployment {}/{}: cannot read it: {}", ns, name, parsed.error());
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::string ClusterCache::pod_selector(const pool::JibriPool& pool, const pool::Deployment& deployment) {
    return pool::to_query_string(pool::shared_labels(pool.spec.busy_labels, deployment.selector));
}

std::optional<std::vector<kube::ObjectPtr>> ClusterCache::pool_pods(const pool::JibriPool& pool,
                                                                     const pool::Deployment& deployment) const {
    std::shared_ptr<kube::Informer> informer;
    {
        std::lock_guard lock(pods_mutex_);
        auto found = pod_informers_.find({pool.namespace_name, pod_selector(pool, deployment)});
        if (found == pod_informers_.end()) return std::nullopt;
        informer = found->second;
    }
    if (!informer->has_synced()) return std::nullopt;
    return informer->list();
}

std::vector<std::shared_ptr<kube::Informer>> ClusterCache::pod_informers_in(const std::string& ns) const {
    std::vector<std::shared_ptr<kube::Informer>> result;
    std::lock_guard lock(pods_mutex_);
    for (const auto& [key, informer] : pod_informers_) {
        if (key.first == ns) result.push_back(informer);
    }
    return result;
}

kube::ObjectPtr ClusterCache::pod(const std::string& ns, const std::string& name) const {
    for (const auto& informer : pod_informers_in(ns)) {
        if (auto object = informer->get(ns, name)) return object;
    }
    return nullptr;
}

std::vector<kube::InformerStats> ClusterCache::informer_stats() const {
    std::vector<kube::InformerStats> stats;
    for (const auto& informer : pool_informers_) stats.push_back(informer->stats());
    for (const auto& informer : deployment_informers_) stats.push_back(informer->stats());
    std::lock_guard lock(pods_mutex_);
    for (const auto& [key, informer] : pod_informers_) stats.push_back(informer->stats());
    return stats;
}

std::size_t ClusterCache::cached_pods() const {
    std::lock_guard lock(pods_mutex_);
    std::size_t total = 0;
    for (const auto& [key, informer] : pod_informers_) total += informer->size();
    return total;
}

void ClusterCache::notify(const std::string& key) const {
    if (handler_) handler_(key);
}

void ClusterCache::on_pool_event(const nlohmann::json& object, bool deleted) {
    if (!deleted) refresh_pod_watches();
    notify(key_of(kube::namespace_of(object), kube::name_of(object)));
    if (deleted) refresh_pod_watches();
}

void ClusterCache::on_deployment_event(const nlohmann::json& object) {
    refresh_pod_watches();
    auto ns = kube::namespace_of(object);
    auto name = kube::name_of(object);
    for (const auto& cached : pools()) {
        if (cached.pool && cached.pool->namespace_name == ns && cached.pool->spec.deployment_name == name) {
            notify(key_of(ns, cached.pool->name));
        }
    }
}

void ClusterCache::on_pod_event(const nlohmann::json& object) {
    auto parsed = pool::parse_pod(object);
    if (!parsed) return;
    const auto& pod = parsed.value();
    for (const auto& cached : pools()) {
        if (!cached.pool || cached.pool->namespace_name != pod.namespace_name) continue;
        auto deployment = this->deployment(pod.namespace_name, cached.pool->spec.deployment_name);
        if (!deployment) continue;
        if (pool::pool_member(pod, cached.pool->spec.busy_labels, deployment->selector)) {
            notify(key_of(pod.namespace_name, cached.pool->name));
        }
    }
}

// Starts a pod informer for each (namespace, selector) that a pool needs and stops the
// ones no pool needs any more. Informers that stay needed are kept, with their caches.
void ClusterCache::refresh_pod_watches() {
    if (stopping_) return;
    std::lock_guard refresh(refresh_mutex_);

    std::set<PodWatchKey> wanted;
    for (const auto& cached : pools()) {
        if (!cached.pool) continue;
        auto deployment = this->deployment(cached.pool->namespace_name, cached.pool->spec.deployment_name);
        if (!deployment || deployment->selector_error) continue;
        wanted.insert({cached.pool->namespace_name, pod_selector(*cached.pool, *deployment)});
    }

    std::vector<std::shared_ptr<kube::Informer>> unused;
    std::vector<std::shared_ptr<kube::Informer>> added;
    {
        std::lock_guard lock(pods_mutex_);
        for (auto it = pod_informers_.begin(); it != pod_informers_.end();) {
            if (wanted.count(it->first) == 0) {
                unused.push_back(it->second);
                it = pod_informers_.erase(it);
            } else {
                ++it;
            }
        }
        for (const auto& key : wanted) {
            if (pod_informers_.count(key) != 0) continue;
            kube::InformerOptions options;
            options.type = kube::resources::pods;
            options.ns = key.first;
            options.label_selector = key.second;
            options.transform = trim_pod;
            kube::InformerHandlers handlers;
            handlers.on_add = [this](const nlohmann::json& pod) { on_pod_event(pod); };
            handlers.on_update = [this](const nlohmann::json& old_pod, const nlohmann::json& pod) {
                // Both states: a relabelled pod may have left one pool's selector.
                on_pod_event(old_pod);
                on_pod_event(pod);
            };
            handlers.on_delete = [this](const nlohmann::json& pod) { on_pod_event(pod); };
            auto informer = std::make_shared<kube::Informer>(client_, options, handlers);
            pod_informers_[key] = informer;
            added.push_back(informer);
            if (key.second.empty()) {
                spdlog::warn("namespace {}: the pool's selector and busy labels share no label, so the operator "
                             "watches every pod of the namespace; add a common label such as app=jibri to both",
                             key.first);
            }
        }
    }
    for (auto& informer : added) {
        spdlog::info("starting the pod watch: {}", informer->name());
        informer->start();
    }
    for (auto& informer : unused) informer->stop();
}

}  // namespace jpc::controller
