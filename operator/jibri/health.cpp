#include "jibri/health.h"

#include "jibri/status_body.h"

namespace jpc::jibri {

Result<StatusReport, HttpError> parse_health_body(std::string_view body) {
    const auto root = detail::parse_json_body(body);
    if (!root) {
        return fail(root.error());
    }
    return detail::read_status_object(root.value());
}

}  // namespace jpc::jibri
