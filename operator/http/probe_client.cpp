#include "http/probe_client.h"

// Boost 1.74 Asio uses std::exchange without including <utility> itself (C++20, g++ 12).
#include <utility>

#include <boost/asio.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <memory>
#include <optional>

namespace jpc::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::string lowercase(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

// Decodes a chunked body. Returns nullopt when it is incomplete or malformed.
std::optional<std::string> decode_chunked(std::string_view data) {
    std::string body;
    while (true) {
        auto line_end = data.find("\r\n");
        if (line_end == std::string_view::npos) return std::nullopt;
        auto size_text = data.substr(0, std::min(line_end, data.find(';')));
        std::size_t size = 0;
        auto [end, error] = std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (error != std::errc{} || end != size_text.data() + size_text.size() || size_text.empty()) return std::nullopt;
        data.remove_prefix(line_end + 2);
        if (size == 0) return body;
        if (data.size() < size + 2) return std::nullopt;
        body.append(data.substr(0, size));
        data.remove_prefix(size + 2);
    }
}

// Parses a whole response. `complete` tells whether the peer closed the connection, so a
// body without framing ends there. Returns false with an error for a malformed response;
// returns true with `ready` false when more bytes are needed.
bool parse_response(const std::string& data, bool complete, ProbeResult& result, bool& ready) {
    ready = false;
    auto head_end = data.find("\r\n\r\n");
    if (head_end == std::string::npos) {
        if (complete) {
            result.error = "connection closed before the response headers ended";
            return false;
        }
        return true;
    }
    std::string_view head(data.data(), head_end);
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    if (status_line.substr(0, 7) != "HTTP/1." || status_line.size() < 12 || status_line[8] != ' ') {
        result.error = "not an HTTP/1.x status line";
        return false;
    }
    int status = 0;
    auto [end, error] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
    if (error != std::errc{} || end != status_line.data() + 12) {
        result.error = "invalid status code";
        return false;
    }

    std::optional<std::size_t> content_length;
    bool chunked = false;
    std::string_view headers = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!headers.empty()) {
        auto next = headers.find("\r\n");
        auto line = headers.substr(0, next);
        auto colon = line.find(':');
        if (colon != std::string_view::npos) {
            auto name = lowercase(std::string(line.substr(0, colon)));
            auto value = line.substr(colon + 1);
            while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
            if (name == "content-length") {
                std::size_t length = 0;
                auto [length_end, length_error] = std::from_chars(value.data(), value.data() + value.size(), length);
                if (length_error != std::errc{}) {
                    result.error = "invalid Content-Length";
                    return false;
                }
                content_length = length;
            } else if (name == "transfer-encoding" && lowercase(std::string(value)).find("chunked") != std::string::npos) {
                chunked = true;
            }
        }
        if (next == std::string_view::npos) break;
        headers.remove_prefix(next + 2);
    }

    std::string_view body(data.data() + head_end + 4, data.size() - head_end - 4);
    if (chunked) {
        auto decoded = decode_chunked(body);
        if (!decoded) {
            if (complete) {
                result.error = "incomplete or malformed chunked body";
                return false;
            }
            return true;
        }
        result.body = std::move(*decoded);
    } else if (content_length) {
        if (body.size() < *content_length) {
            if (complete) {
                result.error = "connection closed before the body ended";
                return false;
            }
            return true;
        }
        result.body = std::string(body.substr(0, *content_length));
    } else {
        if (!complete) return true;
        result.body = std::string(body);
    }
    result.status = status;
    ready = true;
    return true;
}

class Probe : public std::enable_shared_from_this<Probe> {
public:
    Probe(asio::io_context& io, const ProbeRequest& request, const ProbeOptions& options, ProbeResult& result,
          std::function<void()> on_done)
        : socket_(io), timer_(io), request_(request), options_(options), result_(result),
          on_done_(std::move(on_done)) {}

    void start() {
        started_ = std::chrono::steady_clock::now();
        boost::system::error_code error;
        auto address = asio::ip::make_address(request_.address, error);
        if (error) {
            finish(ProbeResult::Outcome::connect_failed, "invalid address '" + request_.address + "'");
            return;
        }
        timer_.expires_after(options_.timeout);
        timer_.async_wait([self = shared_from_this()](auto wait_error) {
            if (!wait_error) {
                self->finish(ProbeResult::Outcome::timed_out,
                             "no response within " + std::to_string(self->options_.timeout.count()) + " ms");
            }
        });
        socket_.async_connect(tcp::endpoint(address, request_.port), [self = shared_from_this()](auto connect_error) {
            if (connect_error) {
                self->finish(ProbeResult::Outcome::connect_failed, connect_error.message());
                return;
            }
            self->send();
        });
    }

private:
    void send() {
        request_text_ = "GET " + request_.path + " HTTP/1.1\r\nHost: " + host_header() +
                        "\r\nUser-Agent: " + options_.user_agent +
                        "\r\nAccept: application/json\r\nConnection: close\r\n\r\n";
        asio::async_write(socket_, asio::buffer(request_text_), [self = shared_from_this()](auto error, std::size_t) {
            if (error) {
                self->finish(ProbeResult::Outcome::connect_failed, "sending the request failed: " + error.message());
                return;
            }
            self->read();
        });
    }

    std::string host_header() const {
        bool is_v6 = request_.address.find(':') != std::string::npos;
        return (is_v6 ? "[" + request_.address + "]" : request_.address) + ":" + std::to_string(request_.port);
    }

    void read() {
        socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](auto error, std::size_t bytes) {
            self->on_read(error, bytes);
        });
    }

    void on_read(const boost::system::error_code& error, std::size_t bytes) {
        if (done_) return;
        bool closed = error == asio::error::eof;
        if (error && !closed) {
            finish(ProbeResult::Outcome::connect_failed, "reading the response failed: " + error.message());
            return;
        }
        data_.append(buffer_.data(), bytes);
        if (data_.size() > options_.max_response_bytes) {
            finish(ProbeResult::Outcome::invalid_response,
                   "response exceeds " + std::to_string(options_.max_response_bytes) + " bytes");
            return;
        }
        bool ready = false;
        if (!parse_response(data_, closed, result_, ready)) {
            finish(ProbeResult::Outcome::invalid_response, result_.error);
            return;
        }
        if (ready) {
            finish(ProbeResult::Outcome::answered, "");
            return;
        }
        read();
    }

    void finish(ProbeResult::Outcome outcome, std::string error) {
        if (done_) return;
        done_ = true;
        result_.outcome = outcome;
        result_.error = std::move(error);
        result_.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
        timer_.cancel();
        boost::system::error_code ignored;
        socket_.close(ignored);
        on_done_();
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    const ProbeRequest& request_;
    const ProbeOptions& options_;
    ProbeResult& result_;
    std::function<void()> on_done_;
    std::array<char, 4096> buffer_{};
    std::string request_text_;
    std::string data_;
    bool done_ = false;
    std::chrono::steady_clock::time_point started_;
};

}  // namespace

std::vector<ProbeResult> probe_all(const std::vector<ProbeRequest>& requests, const ProbeOptions& options,
                                   const ProbeResultHandler& on_result) {
    std::vector<ProbeResult> results(requests.size());
    if (requests.empty()) return results;

    asio::io_context io;
    std::size_t next = 0;
    std::function<void()> start_next = [&] {
        if (next >= requests.size()) return;
        auto index = next++;
        auto probe = std::make_shared<Probe>(io, requests[index], options, results[index], [&, index] {
            if (on_result) on_result(index, results[index]);
            // Start the next request from a fresh handler, never inside another probe's
            // completion, so the call depth stays flat however many requests there are.
            asio::post(io, start_next);
        });
        probe->start();
    };

    auto concurrency = std::max<std::size_t>(1, std::min(options.max_concurrency, requests.size()));
    for (std::size_t i = 0; i < concurrency; ++i) start_next();
    io.run();
    return results;
}

}  // namespace jpc::http
