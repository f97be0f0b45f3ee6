#pragma once

// Internal to jpc_sim: the little HTTP/1.1 that the health server reads and writes.

#include <optional>
#include <string>
#include <string_view>

namespace jpc::sim::detail {

struct RequestLine {
    std::string method;
    std::string path;  // the request target without its query
};

// Parses the request line at the start of a request head ("GET /path?query HTTP/1.1").
// Returns nullopt when it has not three space-separated parts, the target does not start
// with '/', or the version is not HTTP/1.0 or HTTP/1.1.
std::optional<RequestLine> parse_request_line(std::string_view head);

// Returns a complete response with Content-Type, Content-Length and Connection: close.
// extra_headers, when not empty, is inserted as is and must end with "\r\n".
std::string format_response(int status_code, std::string_view content_type,
                            std::string_view body, std::string_view extra_headers = {});

// Returns the standard reason phrase of the status codes the health server sends.
std::string_view reason_phrase(int status_code);

}  // namespace jpc::sim::detail
