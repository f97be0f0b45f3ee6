#pragma once

#include "jibri/time.h"
#include "pool/actions.h"
#include "pool/jibripool.h"
#include "pool/objects.h"
#include "pool/status.h"

#include <optional>
#include <vector>

namespace jpc::pool {

// The actions and status that one reconcile of a pool produces.
struct Decision {
    // In the order to perform them: isolations, deletions, scaling, then other events.
    std::vector<Action> actions;
    // The status to write, with lastSweepTime carried over from the pool.
    PoolStatus status;
    // status differs from pool.status, so the caller writes build_status_patch(status).
    bool status_changed = false;
};

// Decides the actions and status of a pool from the cluster state that the caller read.
// `deployment` is nullopt when the Deployment named by spec.deploymentName does not exist.
// `pods` may hold any pods; those outside the pool's namespace or not pool members
// (see pool_member) are ignored.
//
// Rules, level-based, so running it again on the same state gives the same actions:
// - A pod whose latest report is EXPIRED is deleted, isolated or not.
// - A pod whose latest report is BUSY and that still matches the selector is isolated.
//   No pod is isolated when the busy labels would not take it out of the selector
//   (Degraded, reason BusyLabelsMatchSelector).
// - An isolated pod in phase Succeeded or Failed is deleted, even when its last report was
//   BUSY: its containers have exited, so no recording is running in it.
// - No other pod is deleted, so a pod whose latest report is BUSY is never deleted while it
//   runs.
// - Pods being deleted are only counted.
// - The Deployment is scaled to max(0, min(spare, maxPods - busy)), except that it is not
//   scaled down while a BUSY pod still matches its selector, so a ReplicaSet scale-down
//   cannot pick a recording pod. Isolate first; the next reconcile scales down.
// - Without the Deployment, or with an invalid selector, there are no pod or scale actions
//   and the pool is Degraded.
// - Degraded events are recorded when the condition turns True or changes reason, not on
//   every reconcile.
Decision decide(const JibriPool& pool, const std::optional<Deployment>& deployment,
                const std::vector<Pod>& pods, jibri::Timestamp now);

}  // namespace jpc::pool
