#include "http/http_parser.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace jpc::http {

namespace {

constexpr std::size_t max_chunk_line_bytes = 1024;

bool is_token_char(char c) {
    if (std::isalnum(static_cast<unsigned char>(c))) return true;
    switch (c) {
        case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
        case '-': case '.': case '^': case '_': case '`': case '|': case '~':
            return true;
        default:
            return false;
    }
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

std::string lowercase(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

}  // namespace

std::string_view HttpRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (key == name) return value;
    }
    return {};
}

bool HttpRequest::keep_alive() const {
    auto connection = lowercase(header("connection"));
    if (version_minor == 0) return connection.find("keep-alive") != std::string::npos;
    return connection.find("close") == std::string::npos;
}

void HttpParser::reset() {
    request_ = HttpRequest{};
    phase_ = Phase::Head;
    head_.clear();
    content_length_ = 0;
    chunk_remaining_ = 0;
    line_.clear();
    consumed_ = 0;
    error_status_ = 0;
    error_reason_.clear();
}

HttpParser::State HttpParser::fail(int status, std::string reason) {
    error_status_ = status;
    error_reason_ = std::move(reason);
    return State::Failed;
}

HttpParser::State HttpParser::feed(std::string_view data) {
    consumed_ = 0;
    if (error_status_ != 0) return State::Failed;
    if (phase_ == Phase::Done) return State::Complete;

    if (phase_ == Phase::Head) {
        // The head may end at most max_header_bytes in; the 4 extra bytes are its CRLFCRLF.
        std::size_t old_size = head_.size();
        std::size_t limit = limits_.max_header_bytes + 4;
        std::size_t take = std::min(data.size(), limit > old_size ? limit - old_size : 0);
        head_.append(data.substr(0, take));
        auto end = head_.find("\r\n\r\n", old_size >= 3 ? old_size - 3 : 0);
        if (end == std::string::npos) {
            if (head_.size() >= limit) {
                return fail(431, "request line and headers exceed " +
                                     std::to_string(limits_.max_header_bytes) + " bytes");
            }
            consumed_ = take;
            return State::NeedMore;
        }
        consumed_ = end + 4 - old_size;
        head_.resize(end);
        if (auto state = parse_head(); state != State::NeedMore) return state;
        if (auto state = start_body(); state != State::NeedMore) return state;
    }

    std::size_t offset = consumed_;
    auto state = consume_body(data, offset);
    consumed_ = offset;
    return state;
}

HttpParser::State HttpParser::parse_head() {
    std::string_view head = head_;
    auto line_end = head.find("\r\n");
    if (!parse_request_line(head.substr(0, line_end))) return State::Failed;

    while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 2);
        line_end = head.find("\r\n");
        if (!parse_header_line(head.substr(0, line_end))) return State::Failed;
    }
    return State::NeedMore;
}

bool HttpParser::parse_request_line(std::string_view line) {
    auto first_space = line.find(' ');
    auto last_space = line.rfind(' ');
    if (first_space == std::string_view::npos || first_space == last_space) {
        fail(400, "malformed request line");
        return false;
    }
    auto method = line.substr(0, first_space);
    auto target = line.substr(first_space + 1, last_space - first_space - 1);
    auto version = line.substr(last_space + 1);

    if (method.empty() || !std::all_of(method.begin(), method.end(), is_token_char)) {
        fail(400, "malformed method");
        return false;
    }
    if (target.empty() || target.front() != '/' ||
        std::any_of(target.begin(), target.end(),
                    [](unsigned char c) { return c <= 0x20 || c >= 0x7f; })) {
        fail(400, "request target must be an absolute path of visible ASCII characters");
        return false;
    }
    if (version.substr(0, 5) != "HTTP/") {
        fail(400, "malformed HTTP version");
        return false;
    }
    if (version == "HTTP/1.1") {
        request_.version_minor = 1;
    } else if (version == "HTTP/1.0") {
        request_.version_minor = 0;
    } else {
        fail(505, "only HTTP/1.0 and HTTP/1.1 are supported");
        return false;
    }

    request_.method = std::string(method);
    request_.target = std::string(target);
    auto question = target.find('?');
    request_.path = std::string(target.substr(0, question));
    if (question != std::string_view::npos) request_.query = std::string(target.substr(question + 1));
    return true;
}

bool HttpParser::parse_header_line(std::string_view line) {
    auto colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
        fail(400, "malformed header line");
        return false;
    }
    auto name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), is_token_char)) {
        fail(400, "malformed header name");
        return false;
    }
    auto value = trim(line.substr(colon + 1));
    if (std::any_of(value.begin(), value.end(), [](unsigned char c) { return c < 0x20 && c != '\t'; })) {
        fail(400, "control character in header value");
        return false;
    }
    request_.headers.emplace_back(lowercase(name), std::string(value));
    return true;
}

HttpParser::State HttpParser::start_body() {
    bool has_length = false;
    bool has_transfer_encoding = false;
    std::string transfer_encoding;
    for (const auto& [name, value] : request_.headers) {
        if (name == "transfer-encoding") {
            has_transfer_encoding = true;
            transfer_encoding = lowercase(value);
        } else if (name == "content-length") {
            std::size_t length = 0;
            auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), length);
            if (error != std::errc{} || end != value.data() + value.size() || value.empty()) {
                return fail(400, "invalid Content-Length '" + value + "'");
            }
            if (has_length && length != content_length_) {
                return fail(400, "conflicting Content-Length headers");
            }
            has_length = true;
            content_length_ = length;
        }
    }

    if (has_transfer_encoding && has_length) {
        return fail(400, "both Transfer-Encoding and Content-Length are set");
    }
    if (has_transfer_encoding) {
        if (transfer_encoding != "chunked") {
            return fail(501, "Transfer-Encoding '" + transfer_encoding + "' is not supported; use chunked or Content-Length");
        }
        phase_ = Phase::ChunkSize;
        return State::NeedMore;
    }
    if (content_length_ > limits_.max_body_bytes) {
        return fail(413, "body of " + std::to_string(content_length_) + " bytes exceeds the limit of " +
                             std::to_string(limits_.max_body_bytes));
    }
    phase_ = content_length_ == 0 ? Phase::Done : Phase::Body;
    return phase_ == Phase::Done ? State::Complete : State::NeedMore;
}

HttpParser::State HttpParser::consume_body(std::string_view data, std::size_t& offset) {
    while (true) {
        if (phase_ == Phase::Done) return State::Complete;
        if (offset >= data.size()) return State::NeedMore;
        auto rest = data.substr(offset);

        switch (phase_) {
            case Phase::Body: {
                auto take = std::min(rest.size(), content_length_ - request_.body.size());
                request_.body.append(rest.substr(0, take));
                offset += take;
                if (request_.body.size() == content_length_) phase_ = Phase::Done;
                break;
            }
            case Phase::ChunkSize:
            case Phase::Trailer: {
                auto newline = rest.find('\n');
                auto take = newline == std::string_view::npos ? rest.size() : newline + 1;
                line_.append(rest.substr(0, take));
                offset += take;
                if (line_.size() > max_chunk_line_bytes) return fail(400, "chunk header or trailer line too long");
                if (newline == std::string_view::npos) break;
                if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return fail(400, "chunk line must end with CRLF");
                std::string_view line(line_.data(), line_.size() - 2);
                if (phase_ == Phase::Trailer) {
                    if (line.empty()) phase_ = Phase::Done;
                    line_.clear();
                    break;
                }
                auto size_text = line.substr(0, line.find(';'));
                std::size_t size = 0;
                auto [end, error] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
                if (size_text.empty() || error != std::errc{} || end != size_text.data() + size_text.size()) {
                    return fail(400, "invalid chunk size");
                }
                line_.clear();
                if (size > limits_.max_body_bytes - request_.body.size()) {
                    return fail(413, "chunked body exceeds the limit of " + std::to_string(limits_.max_body_bytes) + " bytes");
                }
                chunk_remaining_ = size;
                phase_ = size == 0 ? Phase::Trailer : Phase::ChunkData;
                break;
            }
            case Phase::ChunkData: {
                auto take = std::min(rest.size(), chunk_remaining_);
                request_.body.append(rest.substr(0, take));
                offset += take;
                chunk_remaining_ -= take;
                if (chunk_remaining_ == 0) phase_ = Phase::ChunkDataEnd;
                break;
            }
            case Phase::ChunkDataEnd: {
                auto take = std::min(rest.size(), 2 - line_.size());
                line_.append(rest.substr(0, take));
                offset += take;
                if (line_.size() == 2) {
                    if (line_ != "\r\n") return fail(400, "chunk data must end with CRLF");
                    line_.clear();
                    phase_ = Phase::ChunkSize;
                }
                break;
            }
            case Phase::Head:
            case Phase::Done:
                return State::Complete;
        }
    }
}

}  // namespace jpc::http
