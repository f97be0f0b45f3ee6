#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jpc::http {

// One HTTP/1.1 request as the server hands it to a handler.
struct HttpRequest {
    std::string method;
    std::string target;  // as sent: path and query
    std::string path;    // target up to '?', not percent-decoded
    std::string query;   // after '?', empty when absent
    int version_minor = 1;
    std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
    std::string body;
    std::string peer_address;  // the TCP peer's IP address, filled in by the server

    // Returns the first header with this lowercase name, or an empty view.
    std::string_view header(std::string_view name) const;
    bool keep_alive() const;
};

struct HttpParserLimits {
    std::size_t max_header_bytes = 16 * 1024;  // request line and headers together
    std::size_t max_body_bytes = 64 * 1024;
};

// Incremental HTTP/1.1 request parser. Bytes arrive in any split; feed() consumes what it
// can and reports whether a whole request is ready. It supports Content-Length and chunked
// bodies and rejects anything else it cannot frame safely, so a request is never
// misread as two.
class HttpParser {
public:
    enum class State { NeedMore, Complete, Failed };

    explicit HttpParser(HttpParserLimits limits = {}) : limits_(limits) {}

    // Consumes bytes from data and returns the parser's state. After Complete, bytes past
    // the end of the request are not consumed: consumed() tells how many were used, and
    // the caller feeds the rest to the next request after reset().
    State feed(std::string_view data);

    std::size_t consumed() const { return consumed_; }
    HttpRequest& request() { return request_; }

    // On Failed: the status to answer (400, 413, 431, 501, 505) and a one-line reason.
    int error_status() const { return error_status_; }
    const std::string& error_reason() const { return error_reason_; }

    void reset();

private:
    enum class Phase { Head, Body, ChunkSize, ChunkData, ChunkDataEnd, Trailer, Done };

    State fail(int status, std::string reason);
    State parse_head();
    bool parse_request_line(std::string_view line);
    bool parse_header_line(std::string_view line);
    State start_body();
    State consume_body(std::string_view data, std::size_t& offset);

    HttpParserLimits limits_;
    HttpRequest request_;
    Phase phase_ = Phase::Head;
    std::string head_;
    std::size_t content_length_ = 0;
    std::size_t chunk_remaining_ = 0;
    std::string line_;
    std::size_t consumed_ = 0;
    int error_status_ = 0;
    std::string error_reason_;
};

}  // namespace jpc::http
