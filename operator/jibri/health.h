#pragma once

#include "jibri/http_error.h"
#include "jibri/report.h"
#include "jibri/result.h"

#include <string_view>

namespace jpc::jibri {

// Parses the body of jibri's health API (GET <podIP>:<port>/jibri/api/v1.0/health):
// "status.busyStatus" and "status.health.healthStatus" as in a webhook body, with no
// "jibriId" (the result's jibri_id is nullopt). The size and depth limits of
// parse_webhook_body apply, and the HttpError status tells the log which one failed.
Result<StatusReport, HttpError> parse_health_body(std::string_view body);

}  // namespace jpc::jibri
