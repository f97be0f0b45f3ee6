#include "controller/report_writer.h"

#include "jibri/annotations.h"
#include "kube/errors.h"
#include "kube/resource.h"

#include <spdlog/spdlog.h>

namespace jpc::controller {

namespace {

jibri::Annotations annotations_of(const nlohmann::json& pod) {
    jibri::Annotations annotations;
    const auto& metadata = pod["metadata"];
    if (metadata.contains("annotations") && metadata["annotations"].is_object()) {
        for (const auto& [key, value] : metadata["annotations"].items()) {
            if (value.is_string()) annotations[key] = value.get<std::string>();
        }
    }
    return annotations;
}

}  // namespace

std::string_view to_string(WriteOutcome outcome) {
    switch (outcome) {
        case WriteOutcome::written: return "written";
        case WriteOutcome::unchanged: return "unchanged";
        case WriteOutcome::stale: return "stale";
        case WriteOutcome::pod_gone: return "pod gone";
    }
    return "unknown";
}

WriteOutcome write_report(const kube::Client& client, const nlohmann::json& pod, const jibri::StatusReport& report,
                          jibri::Timestamp reported_at, int attempts) {
    nlohmann::json current = pod;
    auto ns = kube::namespace_of(pod);
    auto name = kube::name_of(pod);
    auto uid = kube::uid_of(pod);

    for (int attempt = 1;; ++attempt) {
        auto annotations = annotations_of(current);
        if (jibri::is_stale_report(annotations, reported_at)) return WriteOutcome::stale;
        auto recorded = jibri::read_recorded_report(annotations);
        if (recorded && recorded->busy == report.busy && recorded->health == report.health) {
            return WriteOutcome::unchanged;
        }

        auto patch = jibri::build_report_patch(report, reported_at);
        patch["metadata"]["resourceVersion"] = kube::resource_version_of(current);
        patch["metadata"]["uid"] = uid;
        try {
            client.merge_patch(kube::resources::pods, ns, name, patch);
            return WriteOutcome::written;
        } catch (const kube::ApiError& error) {
            if (error.is_not_found()) return WriteOutcome::pod_gone;
            if (!error.is_conflict() || attempt >= attempts) throw;
            spdlog::debug("pod {}/{}: the pod changed while recording {}; reading it again", ns, name,
                          jibri::to_string(report.busy));
        }

        try {
            current = client.get(kube::resources::pods, ns, name);
        } catch (const kube::ApiError& error) {
            if (error.is_not_found()) return WriteOutcome::pod_gone;
            throw;
        }
        if (kube::uid_of(current) != uid) return WriteOutcome::pod_gone;
    }
}

}  // namespace jpc::controller
