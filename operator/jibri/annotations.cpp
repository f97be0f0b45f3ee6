#include "jibri/annotations.h"

namespace jpc::jibri {

nlohmann::json build_report_patch(const StatusReport& report, Timestamp reported_at) {
    nlohmann::json annotations = nlohmann::json::object();
    annotations[std::string(kBusyStatusAnnotation)] = to_string(report.busy);
    annotations[std::string(kHealthStatusAnnotation)] = to_string(report.health);
    annotations[std::string(kReportedAtAnnotation)] = format_rfc3339_micro(reported_at);
    return nlohmann::json{{"metadata", {{"annotations", std::move(annotations)}}}};
}

std::optional<RecordedReport> read_recorded_report(const Annotations& annotations) {
    const auto busy_it = annotations.find(std::string(kBusyStatusAnnotation));
    if (busy_it == annotations.end()) {
        return std::nullopt;
    }
    const auto busy = parse_busy_status(busy_it->second);
    if (!busy) {
        return std::nullopt;
    }

    RecordedReport recorded;
    recorded.busy = *busy;
    if (const auto it = annotations.find(std::string(kHealthStatusAnnotation));
        it != annotations.end()) {
        recorded.health = parse_health_status(it->second);
    }
    if (const auto it = annotations.find(std::string(kReportedAtAnnotation));
        it != annotations.end()) {
        recorded.reported_at = parse_rfc3339(it->second);
    }
    return recorded;
}

bool is_stale_report(const Annotations& annotations, Timestamp reported_at) {
    const auto it = annotations.find(std::string(kReportedAtAnnotation));
    if (it == annotations.end()) {
        return false;
    }
    const auto recorded_at = parse_rfc3339(it->second);
    return recorded_at && *recorded_at > reported_at;
}

}  // namespace jpc::jibri
