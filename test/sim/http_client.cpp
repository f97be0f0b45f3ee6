#include "sim/http_client.h"

#include "sim/unique_fd.h"

#include <fmt/format.h>

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <optional>
#include <system_error>

namespace jpc::sim {

namespace {

using Clock = std::chrono::steady_clock;

// A response head longer than this is treated as invalid instead of buffered forever.
constexpr std::size_t max_response_head_bytes = 64 * 1024;

ExchangeError classify_errno(int error) {
    switch (error) {
        case ECONNREFUSED:
            return ExchangeError::ConnectionRefused;
        case ETIMEDOUT:
            return ExchangeError::TimedOut;
        case ECONNRESET:
        case EPIPE:
            return ExchangeError::ConnectionReset;
        default:
            return ExchangeError::SocketError;
    }
}

int remaining_ms(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return static_cast<int>(std::clamp<long long>(left.count(), 0, 1'000'000'000));
}

// Waits until fd is ready for `events` or the deadline passes. Returns false on timeout.
bool wait_ready(int fd, short events, Clock::time_point deadline) {
    while (true) {
        pollfd entry{fd, events, 0};
        int ready = ::poll(&entry, 1, remaining_ms(deadline));
        if (ready > 0) {
            return true;
        }
        if (ready == 0) {
            return false;
        }
        if (errno != EINTR) {
            return true;  // the following system call reports the error
        }
    }
}

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// How the end of a response body is found.
enum class BodyFraming { ContentLength, Chunked, UntilClose, None };

struct ResponseHead {
    int status_code = 0;
    BodyFraming framing = BodyFraming::UntilClose;
    std::size_t content_length = 0;
};

// Parses "HTTP/1.x NNN reason" and the headers that frame the body. Returns nullopt when
// the head is not HTTP/1.x.
std::optional<ResponseHead> parse_response_head(std::string_view head) {
    std::size_t line_end = head.find("\r\n");
    std::string_view status_line = head.substr(0, line_end);
    if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        return std::nullopt;
    }
    ResponseHead parsed;
    auto [ptr, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12,
                                     parsed.status_code);
    if (ec != std::errc() || ptr != status_line.data() + 12 || parsed.status_code < 100) {
        return std::nullopt;
    }

    std::string_view headers =
        line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
    while (!headers.empty()) {
        std::size_t end = headers.find("\r\n");
        std::string_view line = headers.substr(0, end);
        headers.remove_prefix(end == std::string_view::npos ? headers.size() : end + 2);
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return std::nullopt;
        }
        std::string_view name = line.substr(0, colon);
        std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Transfer-Encoding") && iequals(value, "chunked")) {
            parsed.framing = BodyFraming::Chunked;
        } else if (iequals(name, "Content-Length") && parsed.framing != BodyFraming::Chunked) {
            auto [end_ptr, error] =
                std::from_chars(value.data(), value.data() + value.size(), parsed.content_length);
            if (error != std::errc() || end_ptr != value.data() + value.size()) {
                return std::nullopt;
            }
            parsed.framing = BodyFraming::ContentLength;
        }
    }
    if (parsed.status_code == 204 || parsed.status_code == 304) {
        parsed.framing = BodyFraming::None;
    }
    return parsed;
}

enum class ChunkedState { Complete, Incomplete, Invalid };

// Decodes a whole chunked body from `data` into `body`. Returns Incomplete when the last
// chunk or the trailer section has not arrived yet.
ChunkedState decode_chunked(std::string_view data, std::string& body) {
    body.clear();
    while (true) {
        std::size_t line_end = data.find("\r\n");
        if (line_end == std::string_view::npos) {
            return ChunkedState::Incomplete;
        }
        std::string_view size_text = data.substr(0, line_end);
        size_text = size_text.substr(0, size_text.find(';'));  // drop chunk extensions
        std::size_t size = 0;
        auto [ptr, ec] =
            std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
        if (ec != std::errc() || ptr != size_text.data() + size_text.size()) {
            return ChunkedState::Invalid;
        }
        data.remove_prefix(line_end + 2);
        if (size == 0) {
            // Trailer fields, then an empty line.
            while (true) {
                std::size_t end = data.find("\r\n");
                if (end == std::string_view::npos) {
                    return ChunkedState::Incomplete;
                }
                if (end == 0) {
                    return ChunkedState::Complete;
                }
                data.remove_prefix(end + 2);
            }
        }
        if (data.size() < size + 2) {
            return ChunkedState::Incomplete;
        }
        if (data.substr(size, 2) != "\r\n") {
            return ChunkedState::Invalid;
        }
        body.append(data.substr(0, size));
        data.remove_prefix(size + 2);
    }
}

}  // namespace

std::string_view to_string(ExchangeError error) {
    switch (error) {
        case ExchangeError::None:
            return "None";
        case ExchangeError::ConnectionRefused:
            return "ConnectionRefused";
        case ExchangeError::TimedOut:
            return "TimedOut";
        case ExchangeError::ConnectionReset:
            return "ConnectionReset";
        case ExchangeError::ClosedEarly:
            return "ClosedEarly";
        case ExchangeError::InvalidResponse:
            return "InvalidResponse";
        case ExchangeError::SocketError:
            return "SocketError";
    }
    return "Unknown";
}

ClientConnection::ClientConnection(std::string_view source_address, std::string_view host,
                                   std::uint16_t port)
    : source_(source_address), host_(host), port_(port) {
    std::uint32_t source = parse_loopback_address(source_address);
    parse_loopback_address(host);

    detail::UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!socket) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot create a socket for {}", source_address));
    }

    // Without this option bind() reserves an ephemeral port for the source address alone.
    // With it the port is chosen at connect() per destination, so many connections from one
    // source do not run out of ports. Linux has it since 4.2; an older kernel ignores it.
    int enable = 1;
    ::setsockopt(socket.get(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &enable, sizeof enable);

    sockaddr_in local = detail::make_sockaddr(source, 0);
    if (::bind(socket.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot bind a client socket to {}", source_address));
    }
    fd_ = socket.release();
}

ClientConnection::~ClientConnection() {
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

ExchangeStatus ClientConnection::connect(std::chrono::milliseconds timeout) {
    sockaddr_in remote = detail::make_sockaddr(parse_loopback_address(host_), port_);
    auto deadline = Clock::now() + timeout;
    auto failure = [&](ExchangeError error, std::string_view reason) {
        return ExchangeStatus{error, fmt::format("connect from {} to {}:{} failed: {}", source_,
                                                 host_, port_, reason)};
    };

    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&remote), sizeof remote) == 0) {
        return {};
    }
    if (errno != EINPROGRESS) {
        return failure(classify_errno(errno), std::strerror(errno));
    }
    if (!wait_ready(fd_, POLLOUT, deadline)) {
        return failure(ExchangeError::TimedOut, fmt::format("timed out after {} ms", timeout.count()));
    }
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
        error = errno;
    }
    if (error != 0) {
        return failure(classify_errno(error), std::strerror(error));
    }
    return {};
}

ExchangeStatus ClientConnection::send(std::string_view bytes, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            int error = errno;
            return {classify_errno(error),
                    fmt::format("send to {}:{} failed after {} of {} bytes: {}", host_, port_, sent,
                                bytes.size(), std::strerror(error))};
        }
        if (!wait_ready(fd_, POLLOUT, deadline)) {
            return {ExchangeError::TimedOut,
                    fmt::format("send to {}:{} timed out after {} ms with {} of {} bytes sent",
                                host_, port_, timeout.count(), sent, bytes.size())};
        }
    }
    return {};
}

void ClientConnection::shutdown_write() {
    ::shutdown(fd_, SHUT_WR);
}

HttpResult ClientConnection::read_response(std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    HttpResult result;
    std::string received;
    std::optional<ResponseHead> head;
    std::size_t body_start = 0;

    auto fail = [&](ExchangeError error, std::string message) {
        result.error = error;
        result.message = fmt::format("response from {}:{}: {}", host_, port_, message);
        return result;
    };

    while (true) {
        // Parse what has arrived: first the head, skipping 1xx interim responses, then the body.
        while (!head) {
            std::size_t head_end = received.find("\r\n\r\n");
            if (head_end == std::string::npos) {
                if (received.size() > max_response_head_bytes) {
                    return fail(ExchangeError::InvalidResponse,
                                fmt::format("no end of headers in the first {} bytes",
                                            received.size()));
                }
                break;
            }
            head = parse_response_head(std::string_view(received).substr(0, head_end));
            if (!head) {
                return fail(ExchangeError::InvalidResponse,
                            fmt::format("invalid status line or header in \"{}\"",
                                        received.substr(0, std::min<std::size_t>(head_end, 200))));
            }
            if (head->status_code < 200) {
                received.erase(0, head_end + 4);
                head.reset();
                continue;
            }
            result.status_code = head->status_code;
            body_start = head_end + 4;
        }

        if (head) {
            std::string_view body = std::string_view(received).substr(body_start);
            switch (head->framing) {
                case BodyFraming::None:
                    return result;
                case BodyFraming::ContentLength:
                    if (body.size() >= head->content_length) {
                        result.body = std::string(body.substr(0, head->content_length));
                        return result;
                    }
                    break;
                case BodyFraming::Chunked: {
                    ChunkedState state = decode_chunked(body, result.body);
                    if (state == ChunkedState::Complete) {
                        return result;
                    }
                    if (state == ChunkedState::Invalid) {
                        return fail(ExchangeError::InvalidResponse, "invalid chunked body");
                    }
                    break;
                }
                case BodyFraming::UntilClose:
                    break;
            }
        }

        if (!wait_ready(fd_, POLLIN, deadline)) {
            if (head && head->framing != BodyFraming::Chunked) {
                result.body = received.substr(body_start);
            }
            return fail(ExchangeError::TimedOut,
                        fmt::format("timed out after {} ms with {} bytes received",
                                    timeout.count(), received.size()));
        }
        char buffer[16 * 1024];
        ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
        if (n > 0) {
            received.append(buffer, static_cast<std::size_t>(n));
            continue;
        }
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }

        int error = n < 0 ? errno : 0;
        if (head && head->framing != BodyFraming::Chunked) {
            result.body = received.substr(body_start);
        }
        if (n == 0 && head && head->framing == BodyFraming::UntilClose) {
            return result;  // end of stream ends this body
        }
        if (n == 0) {
            return fail(ExchangeError::ClosedEarly,
                        fmt::format("connection closed after {} bytes, before a complete response",
                                    received.size()));
        }
        return fail(classify_errno(error),
                    fmt::format("receive failed after {} bytes: {}", received.size(),
                                std::strerror(error)));
    }
}

std::string ClientConnection::local_endpoint() const {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
        return source_ + ":?";
    }
    return detail::format_endpoint(local);
}

HttpResult exchange(std::string_view source_address, const LoopbackUrl& url,
                    std::string_view request, std::chrono::milliseconds connect_timeout,
                    std::chrono::milliseconds read_timeout, bool half_close) {
    ClientConnection connection(source_address, url.host, url.port);
    auto to_result = [](ExchangeStatus status) {
        HttpResult result;
        result.error = status.error;
        result.message = std::move(status.message);
        return result;
    };

    if (auto status = connection.connect(connect_timeout); !status.ok()) {
        return to_result(std::move(status));
    }
    auto deadline = Clock::now() + read_timeout;
    if (auto status = connection.send(request, read_timeout); !status.ok()) {
        return to_result(std::move(status));
    }
    if (half_close) {
        connection.shutdown_write();
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    return connection.read_response(std::max(left, std::chrono::milliseconds(0)));
}

HttpResult http_get(std::string_view source_address, std::string_view url,
                    std::chrono::milliseconds timeout) {
    LoopbackUrl parsed = parse_loopback_url(url);
    std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: {}:{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        parsed.target, parsed.host, parsed.port);
    return exchange(source_address, parsed, request, timeout, timeout);
}

}  // namespace jpc::sim
