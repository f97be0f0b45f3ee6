#pragma once

#include <string>

namespace jpc::jibri {

// A rejected request, carrying what the HTTP server sends back.
struct HttpError {
    // 400 malformed body or invalid name, 404 unknown path, 405 wrong method, 413 body too large.
    int status = 400;
    // One line, no trailing newline, safe to send as the response body and to log.
    std::string reason;
    // The value of the Allow header for a 405, empty otherwise.
    std::string allow;

    bool operator==(const HttpError&) const = default;
};

}  // namespace jpc::jibri
