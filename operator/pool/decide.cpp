#include "pool/decide.h"

#include "jibri/annotations.h"
#include "pool/membership.h"

#include <fmt/format.h>

#include <algorithm>

namespace jpc::pool {

namespace {

using jibri::BusyStatus;

// A configuration problem that makes the pool Degraded.
struct Problem {
    std::string_view reason;
    std::string message;
};

// A pool member with its latest report and its place relative to the selector.
struct MemberPod {
    const Pod* pod = nullptr;
    std::optional<BusyStatus> busy;
    bool in_selector = false;
    bool isolated = false;
};

struct Counts {
    std::int32_t idle = 0;
    std::int32_t busy = 0;
    std::int32_t expiring = 0;
};

ObjectRef pool_ref(const JibriPool& pool) {
    return ObjectRef{std::string(kApiVersion), std::string(kKind), pool.namespace_name, pool.name,
                     pool.uid};
}

ObjectRef pod_ref(const Pod& pod) {
    return ObjectRef{"v1", "Pod", pod.namespace_name, pod.name, pod.uid};
}

ObjectRef deployment_ref(const Deployment& deployment) {
    return ObjectRef{"apps/v1", "Deployment", deployment.namespace_name, deployment.name,
                     deployment.uid};
}

// Returns the problem that stops the pool from using the Deployment's selector at all.
std::optional<Problem> find_deployment_problem(const JibriPool& pool,
                                               const std::optional<Deployment>& deployment) {
    if (!deployment) {
        return Problem{kReasonDeploymentNotFound,
                       fmt::format("Deployment {}/{} not found; create it or set "
                                   "spec.deploymentName to an existing Deployment",
                                   pool.namespace_name, pool.spec.deployment_name)};
    }
    if (deployment->selector_error) {
        return Problem{kReasonInvalidSelector,
                       fmt::format("Deployment {}/{}: {}", deployment->namespace_name,
                                   deployment->name, *deployment->selector_error)};
    }
    if (deployment->selector.empty()) {
        return Problem{kReasonInvalidSelector,
                       fmt::format("Deployment {}/{} has an empty selector, which matches every "
                                   "pod; give it matchLabels that only its jibri pods carry",
                                   deployment->namespace_name, deployment->name)};
    }
    return std::nullopt;
}

std::vector<MemberPod> find_members(const JibriPool& pool, const LabelSelector& selector,
                                    const std::vector<Pod>& pods) {
    std::vector<MemberPod> members;
    for (const auto& pod : pods) {
        if (pod.namespace_name != pool.namespace_name ||
            !pool_member(pod, pool.spec.busy_labels, selector)) {
            continue;
        }
        MemberPod member;
        member.pod = &pod;
        if (const auto recorded = jibri::read_recorded_report(pod.annotations)) {
            member.busy = recorded->busy;
        }
        member.in_selector = selector.matches(pod.labels);
        member.isolated = !member.in_selector;
        members.push_back(member);
    }
    return members;
}

// An EXPIRED pod, or an isolated pod whose containers have exited: it is on its way out.
bool expiring(const MemberPod& member) {
    return member.busy == BusyStatus::expired || (member.isolated && member.pod->terminal());
}

// A BUSY pod that a ReplicaSet scale-down could still pick: running, not being deleted, and
// inside the selector.
bool busy_inside(const MemberPod& member) {
    return member.busy == BusyStatus::busy && member.in_selector && !member.pod->terminal() &&
           !member.pod->being_deleted();
}

Counts count_members(const std::vector<MemberPod>& members) {
    Counts counts;
    for (const auto& member : members) {
        if (expiring(member)) {
            ++counts.expiring;
        } else if (member.pod->terminal()) {
            // A terminated pod inside the selector: the ReplicaSet already replaced it.
        } else if (member.busy == BusyStatus::busy || member.isolated) {
            // Being deleted or not, it still runs and may still record.
            ++counts.busy;
        } else if (!member.pod->being_deleted() &&
                   (member.busy == BusyStatus::idle ||
                    (member.pod->phase == "Running" &&
                     !member.pod->annotations.contains(std::string(jibri::kBusyStatusAnnotation))))) {
            // A jibri reports only changes of its status, so a running pod inside the
            // selector that has never reported is an idle one that just started. An
            // unreadable report counts as nothing.
            ++counts.idle;
        }
    }
    return counts;
}

std::int32_t desired_replicas(const PoolSpec& spec, std::int32_t busy) {
    if (!spec.max_pods) {
        return spec.spare;
    }
    const std::int64_t room = static_cast<std::int64_t>(*spec.max_pods) - busy;
    return static_cast<std::int32_t>(std::max<std::int64_t>(0, std::min<std::int64_t>(spec.spare, room)));
}

IsolatePod make_isolate(const Pod& pod, const PoolSpec& spec) {
    nlohmann::json labels = nlohmann::json::object();
    for (const auto& [key, value] : spec.busy_labels) {
        labels[key] = value;
    }
    nlohmann::json patch{
        {"metadata",
         {{"labels", std::move(labels)},
          {"annotations", {{std::string(kSafeToEvictAnnotation), "false"}}}}}};
    Event event{pod_ref(pod), EventType::normal, std::string(kEventIsolated),
                fmt::format("jibri reported BUSY; set labels {{{}}} to take the pod out of "
                            "Deployment {}",
                            to_query_string(spec.busy_labels), spec.deployment_name)};
    return IsolatePod{pod_ref(pod), std::move(patch), std::move(event)};
}

DeletePod make_delete(const Pod& pod, std::string reason) {
    nlohmann::json options{
        {"apiVersion", "v1"},
        {"kind", "DeleteOptions"},
        {"preconditions", {{"uid", pod.uid}, {"resourceVersion", pod.resource_version}}}};
    Event event{pod_ref(pod), EventType::normal, std::string(kEventDeleted),
                fmt::format("Deleting pod: {}", reason)};
    return DeletePod{pod_ref(pod), pod.resource_version, std::move(options), std::move(reason),
                     std::move(event)};
}

ScaleDeployment make_scale(const JibriPool& pool, const Deployment& deployment, std::int32_t to,
                           std::int32_t busy) {
    const std::string cap =
        pool.spec.max_pods ? fmt::format(", maxPods {}", *pool.spec.max_pods) : std::string();
    Event event{pool_ref(pool), EventType::normal, std::string(kEventScaled),
                fmt::format("Scaled Deployment {} from {} to {} replicas (spare {}, busy {}{})",
                            deployment.name, deployment.replicas, to, pool.spec.spare, busy, cap)};
    return ScaleDeployment{deployment_ref(deployment), deployment.replicas, to,
                           nlohmann::json{{"spec", {{"replicas", to}}}}, std::move(event)};
}

std::vector<Condition> make_conditions(const JibriPool& pool, const std::optional<Problem>& problem,
                                       const Counts& counts, std::int32_t replicas) {
    Condition ready{std::string(kConditionReady), "", "", "", {}, pool.generation};
    Condition degraded{std::string(kConditionDegraded), "", "", "", {}, pool.generation};
    if (problem) {
        degraded.status = "True";
        degraded.reason = problem->reason;
        degraded.message = problem->message;
        ready.status = "False";
        ready.reason = problem->reason;
        ready.message = problem->message;
        return {ready, degraded};
    }

    // Every condition carries a message: kube-apiserver 1.20 as built here returns 422
    // ("must be of type string") to an empty string in the required message field.
    degraded.status = "False";
    degraded.reason = kReasonAsExpected;
    degraded.message = fmt::format("Deployment {} and the pool spec are valid", pool.spec.deployment_name);
    ready.status = counts.idle >= replicas ? "True" : "False";
    ready.reason = counts.idle >= replicas ? kReasonSparePodsIdle : kReasonWaitingForIdlePods;
    ready.message = fmt::format("{} of {} spare pods are idle", counts.idle, replicas);
    return {ready, degraded};
}

// Records an event when Degraded turns True or changes reason, not on every reconcile.
std::optional<RecordEvent> degraded_event(const JibriPool& pool,
                                          const std::optional<Problem>& problem) {
    if (!problem) {
        return std::nullopt;
    }
    const Condition* previous = pool.status.find_condition(kConditionDegraded);
    if (previous != nullptr && previous->status == "True" && previous->reason == problem->reason) {
        return std::nullopt;
    }
    return RecordEvent{Event{pool_ref(pool), EventType::warning, std::string(problem->reason),
                             problem->message}};
}

}  // namespace

Decision decide(const JibriPool& pool, const std::optional<Deployment>& deployment,
                const std::vector<Pod>& pods, jibri::Timestamp now) {
    Decision decision;
    std::optional<Problem> problem = find_deployment_problem(pool, deployment);
    Counts counts;
    std::int32_t replicas = 0;

    if (!problem) {
        const LabelSelector& selector = deployment->selector;
        const auto members = find_members(pool, selector, pods);
        counts = count_members(members);
        replicas = desired_replicas(pool.spec, counts.busy);

        const auto busy_labels_problem = check_busy_labels(pool.spec.busy_labels, selector);
        if (busy_labels_problem) {
            problem = Problem{kReasonBusyLabelsMatchSelector, *busy_labels_problem};
        }

        std::vector<Action> isolations;
        std::vector<Action> deletions;
        bool busy_pod_inside = false;
        for (const auto& member : members) {
            const Pod& pod = *member.pod;
            busy_pod_inside = busy_pod_inside || busy_inside(member);
            if (pod.being_deleted()) {
                continue;
            }
            if (member.busy == BusyStatus::expired) {
                deletions.push_back(make_delete(pod, "jibri reported EXPIRED"));
            } else if (member.isolated && pod.terminal()) {
                // Its containers have exited, so no recording runs, even if the last report
                // was BUSY.
                deletions.push_back(make_delete(pod, fmt::format("isolated pod in phase {}", pod.phase)));
            } else if (busy_inside(member) && !busy_labels_problem) {
                if (busy_labels_isolate(pod.labels, pool.spec.busy_labels, selector)) {
                    isolations.push_back(make_isolate(pod, pool.spec));
                } else if (!problem) {
                    // Unreachable while check_busy_labels is sound; kept so a gap in it
                    // degrades the pool instead of patching a pod that stays selected.
                    problem = Problem{kReasonBusyLabelsMatchSelector,
                                      fmt::format("pod {} still matches the Deployment's selector "
                                                  "with busy labels {{{}}}; set a busy label that "
                                                  "the selector excludes",
                                                  pod.name, to_query_string(pool.spec.busy_labels))};
                }
            }
        }

        decision.actions = std::move(isolations);
        decision.actions.insert(decision.actions.end(), deletions.begin(), deletions.end());

        const bool scale_down = replicas < deployment->replicas;
        if (replicas != deployment->replicas && !(scale_down && busy_pod_inside)) {
            decision.actions.push_back(make_scale(pool, *deployment, replicas, counts.busy));
        }
    }

    if (auto event = degraded_event(pool, problem)) {
        decision.actions.push_back(std::move(*event));
    }

    decision.status.observed_generation = pool.generation;
    decision.status.replicas = replicas;
    decision.status.idle = counts.idle;
    decision.status.busy = counts.busy;
    decision.status.expiring = counts.expiring;
    decision.status.conditions = merge_conditions(
        pool.status.conditions, make_conditions(pool, problem, counts, replicas), now);
    decision.status.last_sweep_time = pool.status.last_sweep_time;
    decision.status_changed = !(decision.status == pool.status);
    return decision;
}

}  // namespace jpc::pool
