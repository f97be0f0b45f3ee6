#pragma once

#include <string>

namespace jpc::logging {

// Sets up the default spdlog logger on standard error: `level` is trace, debug, info, warn
// or error; `format` is "text" (one readable line per message) or "json" (one JSON object
// per line with time, level and message, for log shippers).
void configure(const std::string& level, const std::string& format);

// Formats one message as a JSON line; exposed for tests.
std::string format_json_line(const std::string& time, const std::string& level, const std::string& message);

}  // namespace jpc::logging
