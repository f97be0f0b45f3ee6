#include "controller/reconciler.h"

#include "jibri/annotations.h"
#include "kube/errors.h"
#include "kube/resource.h"
#include "pool/membership.h"
#include "pool/status.h"

#include <spdlog/spdlog.h>

namespace jpc::controller {

namespace {

using namespace std::chrono_literals;

// Requeue delay while a pool's pod cache is not synced yet.
constexpr auto kWaitForCache = 500ms;
// Requeue delay after an action met a changed state (409 Conflict or 404).
constexpr auto kAfterConflict = 200ms;

jibri::Timestamp now_utc() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

std::pair<std::string, std::string> split_key(const std::string& key) {
    auto slash = key.find('/');
    if (slash == std::string::npos) return {"", key};
    return {key.substr(0, slash), key.substr(slash + 1)};
}

std::vector<pool::Pod> parse_pods(const std::vector<kube::ObjectPtr>& objects) {
    std::vector<pool::Pod> pods;
    pods.reserve(objects.size());
    for (const auto& object : objects) {
        auto parsed = pool::parse_pod(*object);
        if (parsed) {
            pods.push_back(std::move(parsed).value());
        } else {
            spdlog::warn("pod {}: cannot read it: {}", kube::key_of(*object), parsed.error());
        }
    }
    return pods;
}

const pool::ScaleDeployment* find_scale(const pool::Decision& decision) {
    for (const auto& action : decision.actions) {
        if (const auto* scale = std::get_if<pool::ScaleDeployment>(&action)) return scale;
    }
    return nullptr;
}

}  // namespace

bool deleting_would_lose_recording(const pool::Pod& pod, const pool::JibriPool& pool,
                                   const pool::LabelSelector& selector) {
    auto report = jibri::read_recorded_report(pod.annotations);
    if (!report || report->busy != jibri::BusyStatus::busy) return false;
    return !(pod.terminal() && pool::isolated(pod, pool.spec.busy_labels, selector));
}

Reconciler::Reconciler(kube::Client client, const ClusterCache& cache, EventRecorder& recorder,
                       metrics::OperatorMetrics& metrics, std::function<bool()> may_act)
    : client_(std::move(client)), cache_(cache), recorder_(recorder), metrics_(metrics), may_act_(std::move(may_act)) {}

ReconcileResult Reconciler::reconcile(const std::string& pool_key) {
    auto [ns, name] = split_key(pool_key);
    auto cached = cache_.pool(ns, name);
    if (!cached) {
        // The pool was deleted. Its pods and Deployment are left as they are: a pool owns
        // nothing, so deleting it never touches a recording.
        metrics_.pods.set({ns, name, "idle"}, 0);
        metrics_.pods.set({ns, name, "busy"}, 0);
        metrics_.pods.set({ns, name, "expiring"}, 0);
        return {};
    }
    if (!cached->pool) return reconcile_invalid_pool(*cached);
    const auto& pool = *cached->pool;

    auto deployment = cache_.deployment(ns, pool.spec.deployment_name);
    std::vector<pool::Pod> pods;
    if (deployment && !deployment->selector_error) {
        auto objects = cache_.pool_pods(pool, *deployment);
        if (!objects) {
            spdlog::debug("pool {}: waiting for its pod cache to sync", pool_key);
            return {kWaitForCache};
        }
        pods = parse_pods(*objects);
    }

    auto now = now_utc();
    auto decision = pool::decide(pool, deployment, pods, now);

    bool all_done = true;
    for (const auto& action : decision.actions) {
        if (!may_act_()) {
            spdlog::info("pool {}: no longer the leader; stopping this reconcile", pool_key);
            return {};
        }
        // Logged before the write, so the time the leader decided to act is on record even
        // when the process is paused before its result line.
        spdlog::debug("sending: {}", pool::describe(action));
        if (!perform(pool, deployment ? &*deployment : nullptr, action, now)) {
            all_done = false;
            break;
        }
    }

    if (may_act_()) write_status(pool, decision);
    record_pod_counts(pool, decision.status);
    if (!all_done) return {kAfterConflict};
    return {};
}

ReconcileResult Reconciler::reconcile_invalid_pool(const CachedPool& cached) {
    const auto& object = *cached.object;
    auto ns = kube::namespace_of(object);
    auto name = kube::name_of(object);
    spdlog::warn("pool {}/{}: invalid spec, nothing is done for it: {}", ns, name, cached.error);

    auto previous = pool::parse_pool_status(object.value("status", nlohmann::json::object()));
    auto generation = object["metadata"].value("generation", std::int64_t{0});
    pool::PoolStatus desired = previous;
    desired.observed_generation = generation;
    std::vector<pool::Condition> conditions = {
        {std::string(pool::kConditionReady), "False", "InvalidSpec", cached.error, {}, generation},
        {std::string(pool::kConditionDegraded), "True", "InvalidSpec", cached.error, {}, generation},
    };
    desired.conditions = pool::merge_conditions(previous.conditions, std::move(conditions), now_utc());
    if (desired == previous || !may_act_()) return {};

    bool newly_degraded = true;
    if (const auto* condition = previous.find_condition(pool::kConditionDegraded)) {
        newly_degraded = condition->reason != "InvalidSpec" || condition->status != "True";
    }
    try {
        client_.merge_patch(kube::resources::jibripools, ns, name, pool::build_status_patch(desired), "status");
    } catch (const kube::ApiError& error) {
        if (!error.is_not_found()) throw;
    }
    if (newly_degraded) {
        pool::Event event{{std::string(pool::kApiVersion), std::string(pool::kKind), ns, name, kube::uid_of(object)},
                          pool::EventType::warning, std::string(pool::kReasonInvalidSpec), "invalid spec: " + cached.error};
        recorder_.record(event);
    }
    return {};
}

bool Reconciler::perform(const pool::JibriPool& pool, const pool::Deployment* deployment, const pool::Action& action,
                         jibri::Timestamp now) {
    if (const auto* isolate_action = std::get_if<pool::IsolatePod>(&action)) return isolate(pool, *isolate_action);
    if (const auto* delete_action = std::get_if<pool::DeletePod>(&action)) {
        // Decide() never deletes a BUSY pod; this second check guards against a bug there.
        auto object = cache_.pod(delete_action->pod.namespace_name, delete_action->pod.name);
        if (!object || deployment == nullptr) return false;
        auto pod = pool::parse_pod(*object);
        if (!pod || pod.value().uid != delete_action->pod.uid) return false;
        if (deleting_would_lose_recording(pod.value(), pool, deployment->selector)) {
            spdlog::error("pool {}/{}: refusing to delete pod {} (uid {}): its jibri reported BUSY; this is a bug in "
                          "the decision logic",
                          pool.namespace_name, pool.name, delete_action->pod.name, delete_action->pod.uid);
            return false;
        }
        return remove(pool, *delete_action);
    }
    if (const auto* scale_action = std::get_if<pool::ScaleDeployment>(&action)) {
        if (deployment == nullptr) return false;
        return scale(pool, *deployment, *scale_action, now);
    }
    recorder_.record(pool::event_of(action));
    return true;
}

bool Reconciler::isolate(const pool::JibriPool& pool, const pool::IsolatePod& action) {
    try {
        client_.merge_patch(kube::resources::pods, action.pod.namespace_name, action.pod.name, action.merge_patch);
    } catch (const kube::ApiError& error) {
        if (error.is_not_found()) {
            spdlog::info("{}: the pod is gone", pool::describe(action));
            return false;
        }
        throw;
    }
    spdlog::info("{}", pool::describe(action));
    metrics_.isolations.increment({pool.namespace_name, pool.name});
    recorder_.record(action.event);
    return true;
}

bool Reconciler::remove(const pool::JibriPool& pool, const pool::DeletePod& action) {
    kube::DeleteOptions options;
    options.uid = action.pod.uid;
    options.resource_version = action.resource_version;
    try {
        client_.remove(kube::resources::pods, action.pod.namespace_name, action.pod.name, options);
    } catch (const kube::ApiError& error) {
        if (error.is_not_found()) return true;
        if (error.is_conflict()) {
            // The pod changed since the cache was read (a newer report, for example), or it
            // is another pod of the same name. Decide again from the new state.
            spdlog::info("{}: skipped, the pod changed since it was read ({})", pool::describe(action), error.what());
            return false;
        }
        throw;
    }
    spdlog::info("{}", pool::describe(action));
    bool expired = action.reason.find("EXPIRED") != std::string::npos;
    metrics_.deletions.increment({pool.namespace_name, pool.name, expired ? "expired" : "terminal"});
    recorder_.record(action.event);
    return true;
}

bool Reconciler::scale(const pool::JibriPool& pool, const pool::Deployment& deployment,
                       const pool::ScaleDeployment& action, jibri::Timestamp now) {
    if (action.to < action.from) {
        // A scale-down lets the ReplicaSet delete pods of its choice. Decide again from a
        // fresh list straight from the API, so a BUSY report that the cache has not
        // delivered yet still blocks the scale-down.
        kube::ListOptions list;
        list.label_selector = ClusterCache::pod_selector(pool, deployment);
        auto fresh = client_.list_all(kube::resources::pods, pool.namespace_name, list);
        std::vector<kube::ObjectPtr> objects;
        for (auto& item : fresh["items"]) {
            trim_pod(item);
            objects.push_back(std::make_shared<const nlohmann::json>(std::move(item)));
        }
        auto recheck = pool::decide(pool, deployment, parse_pods(objects), now);
        const auto* confirmed = find_scale(recheck);
        if (confirmed == nullptr || confirmed->to != action.to) {
            spdlog::info("pool {}/{}: scale-down to {} not confirmed by a fresh pod list; deciding again",
                         pool.namespace_name, pool.name, action.to);
            return false;
        }
    }

    try {
        client_.patch_scale(kube::resources::deployments, action.deployment.namespace_name, action.deployment.name,
                            action.to);
    } catch (const kube::ApiError& error) {
        if (error.is_not_found()) return false;
        throw;
    }
    spdlog::info("{}", pool::describe(action));
    metrics_.scales.increment({pool.namespace_name, pool.name});
    recorder_.record(action.event);
    return true;
}

void Reconciler::write_status(const pool::JibriPool& pool, const pool::Decision& decision) {
    if (!decision.status_changed) return;
    try {
        client_.merge_patch(kube::resources::jibripools, pool.namespace_name, pool.name,
                            pool::build_status_patch(decision.status), "status");
    } catch (const kube::ApiError& error) {
        if (error.is_not_found()) return;
        throw;
    }
    spdlog::debug("pool {}/{}: status idle={} busy={} expiring={} replicas={}", pool.namespace_name, pool.name,
                  decision.status.idle, decision.status.busy, decision.status.expiring, decision.status.replicas);
}

void Reconciler::record_pod_counts(const pool::JibriPool& pool, const pool::PoolStatus& status) {
    metrics_.pods.set({pool.namespace_name, pool.name, "idle"}, status.idle);
    metrics_.pods.set({pool.namespace_name, pool.name, "busy"}, status.busy);
    metrics_.pods.set({pool.namespace_name, pool.name, "expiring"}, status.expiring);
}

}  // namespace jpc::controller
