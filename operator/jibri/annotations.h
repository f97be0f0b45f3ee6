#pragma once

#include "jibri/report.h"
#include "jibri/time.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace jpc::jibri {

using Annotations = std::map<std::string, std::string>;

// Pod annotations written by the webhook and the sweeper. They are the only record of a
// jibri's status, so the reconcile loop reads them back from the pod.
inline constexpr std::string_view kBusyStatusAnnotation = "jibri.dev/busy-status";
inline constexpr std::string_view kHealthStatusAnnotation = "jibri.dev/health-status";
// When the operator received the report (webhook) or sent the health request (sweeper),
// RFC 3339 UTC with microseconds.
inline constexpr std::string_view kReportedAtAnnotation = "jibri.dev/reported-at";

// Builds the JSON merge patch that records a report on a pod:
// {"metadata":{"annotations":{busy-status, health-status, reported-at}}}.
// The sweeper passes the time it sent the health request, not the time the response
// arrived, so a webhook received while the request was in flight counts as newer.
nlohmann::json build_report_patch(const StatusReport& report, Timestamp reported_at);

// A report read back from a pod's annotations.
struct RecordedReport {
    BusyStatus busy = BusyStatus::idle;
    // nullopt when the health annotation is missing or not a known spelling.
    std::optional<HealthStatus> health;
    // nullopt when the time annotation is missing or not RFC 3339.
    std::optional<Timestamp> reported_at;
};

// Reads the recorded report. Returns nullopt when the busy-status annotation is missing
// or not one of IDLE, BUSY, EXPIRED, so an unreadable status counts as unknown, never as IDLE.
std::optional<RecordedReport> read_recorded_report(const Annotations& annotations);

// Returns true when the pod already records a report newer than `reported_at`, so writing
// this one would overwrite newer information. A missing or unparsable reported-at
// annotation never makes a report stale, and neither does an equal time.
// NOTE: the times come from the clocks of the operator replicas that received the reports,
// so clock skew between their nodes can misorder reports that arrive within the skew.
bool is_stale_report(const Annotations& annotations, Timestamp reported_at);

}  // namespace jpc::jibri
