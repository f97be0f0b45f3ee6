#pragma once

// Shared by the webhook and health API parsers.

#include "jibri/http_error.h"
#include "jibri/report.h"
#include "jibri/result.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace jpc::jibri::detail {

// Checks the size and nesting limits, then parses the body as JSON.
// Errors: 413 past kMaxBodyBytes, 400 past kMaxJsonDepth or for invalid JSON.
Result<nlohmann::json, HttpError> parse_json_body(std::string_view body);

// Reads "status.busyStatus" and "status.health.healthStatus" from a parsed body.
// jibri_id is left unset.
Result<StatusReport, HttpError> read_status_object(const nlohmann::json& root);

}  // namespace jpc::jibri::detail
