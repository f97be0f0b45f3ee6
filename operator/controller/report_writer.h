#pragma once

#include "jibri/report.h"
#include "jibri/time.h"
#include "kube/client.h"

#include <nlohmann/json.hpp>

#include <string>

namespace jpc::controller {

enum class WriteOutcome {
    written,    // the annotations now record this report
    unchanged,  // the pod already recorded the same statuses; nothing was written
    stale,      // the pod records a newer report; nothing was written
    pod_gone,   // the pod no longer exists (or was replaced by one of the same name)
};

// Records a jibri report as annotations on its pod, the only place the webhook and the
// sweeper write. The merge patch carries the resourceVersion of the pod it was decided on,
// so a concurrent write (another replica's webhook, an isolation) makes the API server
// answer 409; the writer then reads the pod again and decides again, up to `attempts`
// times. An older report never overwrites a newer one, and an identical one is not
// written. API failures other than 404 and exhausted conflicts are thrown.
WriteOutcome write_report(const kube::Client& client, const nlohmann::json& pod, const jibri::StatusReport& report,
                          jibri::Timestamp reported_at, int attempts = 3);

std::string_view to_string(WriteOutcome outcome);

}  // namespace jpc::controller
