#include "sim/http_message.h"

#include <fmt/format.h>

namespace jpc::sim::detail {

std::optional<RequestLine> parse_request_line(std::string_view head) {
    std::string_view line = head.substr(0, head.find("\r\n"));

    std::size_t first_space = line.find(' ');
    if (first_space == std::string_view::npos || first_space == 0) {
        return std::nullopt;
    }
    std::size_t second_space = line.find(' ', first_space + 1);
    if (second_space == std::string_view::npos) {
        return std::nullopt;
    }
    std::string_view method = line.substr(0, first_space);
    std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
    std::string_view version = line.substr(second_space + 1);

    if (target.empty() || target.front() != '/') {
        return std::nullopt;
    }
    if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        return std::nullopt;
    }
    for (char c : method) {
        if (c < 'A' || c > 'Z') {
            return std::nullopt;
        }
    }
    return RequestLine{std::string(method), std::string(target.substr(0, target.find('?')))};
}

std::string_view reason_phrase(int status_code) {
    switch (status_code) {
        case 200:
            return "OK";
        case 400:
            return "Bad Request";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        default:
            return "Unknown";
    }
}

std::string format_response(int status_code, std::string_view content_type,
                            std::string_view body, std::string_view extra_headers) {
    return fmt::format(
        "HTTP/1.1 {} {}\r\n"
        "Content-Type: {}\r\n"
        "Content-Length: {}\r\n"
        "Connection: close\r\n"
        "{}"
        "\r\n"
        "{}",
        status_code, reason_phrase(status_code), content_type, body.size(), extra_headers, body);
}

}  // namespace jpc::sim::detail
