#include "sim/health_loop.h"

#include "sim/http_message.h"
#include "sim/loopback.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>
#include <vector>

namespace jpc::sim {

namespace {

using Clock = std::chrono::steady_clock;
using detail::UniqueFd;

// After responding, the server half-closes and reads until the client closes, so unread
// request bytes do not turn close() into a reset that could destroy the response in flight.
// A client that keeps its side open is dropped after this long.
constexpr auto drain_timeout = std::chrono::seconds(1);

constexpr std::string_view garbage_body =
    "<html><body>jibri simulator: this body is deliberately not JSON</body></html>\n";

constexpr int max_events_per_wait = 256;
constexpr int max_accepts_per_event = 64;

void log_error(std::string_view message) {
    fmt::print(stderr, "jibri-sim health server: {}\n", message);
}

std::string errno_text(int error) {
    return std::strerror(error);
}

}  // namespace

HealthServer::Loop::Loop(HealthServerOptions options)
    : options_(std::move(options)),
      epoll_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      spare_(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {
    if (!epoll_ || !wake_) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot create the health server's epoll or eventfd");
    }
    if (!watch(EPOLL_CTL_ADD, wake_.get(), EPOLLIN)) {
        throw std::system_error(errno, std::generic_category(),
                                "cannot watch the health server's eventfd");
    }
    thread_ = std::thread([this] { thread_main(); });
}

HealthServer::Loop::~Loop() {
    stop();
}

void HealthServer::Loop::stop() {
    {
        std::lock_guard lock(commands_mutex_);
        stopping_ = true;
    }
    wake();
    if (thread_.joinable()) {
        thread_.join();
    }
}

void HealthServer::Loop::wake() {
    std::uint64_t one = 1;
    if (::write(wake_.get(), &one, sizeof one) < 0 && errno != EAGAIN) {
        log_error(fmt::format("cannot wake the server thread: {}", errno_text(errno)));
    }
}

void HealthServer::Loop::thread_main() {
    try {
        run();
    } catch (const std::exception& error) {
        log_error(fmt::format("server thread failed and stops: {}", error.what()));
    }

    // Commands queued before stopping_ was set still run, so no caller waits forever.
    std::deque<std::function<void()>> remaining;
    {
        std::lock_guard lock(commands_mutex_);
        stopping_ = true;
        remaining.swap(commands_);
    }
    for (auto& command : remaining) {
        command();
    }

    connections_.clear();
    listeners_.clear();
    jibris_.clear();
}

void HealthServer::Loop::run() {
    std::vector<epoll_event> events(max_events_per_wait);
    while (true) {
        Clock::time_point next_deadline = expire_connections();
        int timeout_ms = -1;
        if (next_deadline != Clock::time_point::max()) {
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_deadline - Clock::now());
            timeout_ms = static_cast<int>(std::clamp<long long>(wait.count(), 0, 60'000));
        }

        int count = ::epoll_wait(epoll_.get(), events.data(), max_events_per_wait, timeout_ms);
        if (count < 0) {
            if (errno == EINTR) {
                continue;
            }
            throw std::system_error(errno, std::generic_category(), "epoll_wait failed");
        }

        // An event may name a fd that an earlier event of this batch closed or reused. Every
        // handler works on non-blocking sockets, so such an event costs one EAGAIN at most.
        for (int i = 0; i < count; ++i) {
            int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == wake_.get()) {
                std::uint64_t counter = 0;
                [[maybe_unused]] ssize_t n = ::read(wake_.get(), &counter, sizeof counter);
                if (!run_commands()) {
                    return;
                }
            } else if (auto listener = listeners_.find(fd); listener != listeners_.end()) {
                accept_connections(jibris_.at(listener->second));
            } else if (auto connection = connections_.find(fd); connection != connections_.end()) {
                on_connection_event(connection->second);
            }
        }
    }
}

// Runs the queued commands. Returns false when the server is stopping.
bool HealthServer::Loop::run_commands() {
    std::deque<std::function<void()>> queued;
    bool stopping = false;
    {
        std::lock_guard lock(commands_mutex_);
        queued.swap(commands_);
        stopping = stopping_;
    }
    for (auto& command : queued) {
        command();
    }
    return !stopping;
}

bool HealthServer::Loop::watch(int operation, int fd, std::uint32_t events) {
    epoll_event event{};
    event.events = events;
    event.data.fd = fd;
    return ::epoll_ctl(epoll_.get(), operation, fd, &event) == 0;
}

HealthServer::Loop::Jibri& HealthServer::Loop::find(std::uint32_t address) {
    auto jibri = jibris_.find(address);
    if (jibri == jibris_.end()) {
        throw std::invalid_argument(fmt::format(
            "no jibri at {} in the health server; add() it first", format_ipv4(address)));
    }
    return jibri->second;
}

void HealthServer::Loop::add_jibri(std::uint32_t address, JibriStatus status,
                                   HealthBehaviour behaviour) {
    if (jibris_.contains(address)) {
        throw std::invalid_argument(fmt::format("a jibri at {} was already added to the health server",
                                                format_ipv4(address)));
    }
    Jibri jibri;
    jibri.address = address;
    jibri.address_text = format_ipv4(address);
    jibri.status = status;
    jibri.behaviour = behaviour;
    if (behaviour != HealthBehaviour::Refuse) {
        open_listener(jibri);
    }
    jibris_.emplace(address, std::move(jibri));
}

void HealthServer::Loop::remove_jibri(std::uint32_t address) {
    Jibri& jibri = find(address);
    close_connections(jibri, false);
    close_listener(jibri);
    jibris_.erase(address);
}

void HealthServer::Loop::set_behaviour(std::uint32_t address, HealthBehaviour behaviour) {
    Jibri& jibri = find(address);
    if (behaviour == jibri.behaviour) {
        return;
    }
    if (jibri.behaviour == HealthBehaviour::Refuse) {
        open_listener(jibri);  // throws before anything changed when the bind fails
    }
    if (behaviour == HealthBehaviour::Refuse) {
        close_listener(jibri);
        close_connections(jibri, false);
    } else if (jibri.behaviour == HealthBehaviour::Hang) {
        close_connections(jibri, true);
    }
    jibri.behaviour = behaviour;
}

void HealthServer::Loop::open_listener(Jibri& jibri) {
    std::string endpoint = fmt::format("{}:{}", jibri.address_text, options_.port);
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot create a listening socket for {}", endpoint));
    }

    // Each served connection leaves a TIME_WAIT entry on the server side, because the
    // server closes first. SO_REUSEADDR lets a jibri listen again right after Refuse.
    // On Linux it still rejects a second listener on the same address and port.
    int enable = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);

    sockaddr_in address = detail::make_sockaddr(jibri.address, options_.port);
    if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot bind the health API to {}", endpoint));
    }
    if (::listen(fd.get(), SOMAXCONN) != 0) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot listen on {}", endpoint));
    }
    if (!watch(EPOLL_CTL_ADD, fd.get(), EPOLLIN)) {
        throw std::system_error(errno, std::generic_category(),
                                fmt::format("cannot watch the listening socket of {}", endpoint));
    }
    listeners_[fd.get()] = jibri.address;
    jibri.listener = std::move(fd);
}

void HealthServer::Loop::close_listener(Jibri& jibri) {
    if (!jibri.listener) {
        return;
    }
    listeners_.erase(jibri.listener.get());
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, jibri.listener.get(), nullptr);
    jibri.listener.reset();  // connections still in the accept queue are reset
}

void HealthServer::Loop::accept_connections(Jibri& jibri) {
    for (int i = 0; i < max_accepts_per_event; ++i) {
        int fd = ::accept4(jibri.listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int error = errno;
            if (error == EINTR || error == ECONNABORTED) {
                continue;
            }
            if (error == EMFILE || error == ENFILE) {
                shed_connection(jibri, error);
            } else if (error != EAGAIN && error != EWOULDBLOCK) {
                log_error(fmt::format("accept on {}:{} failed: {}", jibri.address_text,
                                      options_.port, errno_text(error)));
            }
            return;
        }

        Connection connection;
        connection.fd.reset(fd);
        connection.jibri = jibri.address;
        connection.deadline = Clock::now() + options_.request_timeout;
        if (!watch(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP)) {
            log_error(fmt::format("cannot watch a connection to {}: {}", jibri.address_text,
                                  errno_text(errno)));
            continue;  // the Connection closes the socket
        }
        jibri.connections.insert(fd);
        connections_.emplace(fd, std::move(connection));
    }
}

// Accepts and closes one pending connection when the process is out of file descriptors.
// Level-triggered epoll would otherwise report the listener again at once, forever.
void HealthServer::Loop::shed_connection(Jibri& jibri, int error) {
    if (shed_count_++ % 1000 == 0) {
        log_error(fmt::format("accept on {}:{} failed: {}; closing pending connections until "
                              "descriptors are free ({} so far)",
                              jibri.address_text, options_.port, errno_text(error), shed_count_));
    }
    spare_.reset();
    int fd = ::accept4(jibri.listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
        ::close(fd);
    }
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
}

void HealthServer::Loop::on_connection_event(Connection& connection) {
    switch (connection.phase) {
        case Phase::Reading:
            read_request(connection);
            return;
        case Phase::Writing:
            write_response(connection);
            return;
        case Phase::Held:
        case Phase::Draining:
            discard_input(connection);
            return;
    }
}

void HealthServer::Loop::read_request(Connection& connection) {
    char buffer[4096];
    while (true) {
        ssize_t n = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
        if (n == 0) {
            close_connection(connection.fd.get());
            return;
        }
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                close_connection(connection.fd.get());
            }
            return;
        }

        connection.input.append(buffer, static_cast<std::size_t>(n));
        std::size_t head_end = connection.input.find("\r\n\r\n");
        std::size_t head_size = head_end == std::string::npos ? connection.input.size() : head_end + 4;
        if (head_size > options_.max_header_bytes) {
            respond(connection, detail::format_response(
                                    431, "text/plain",
                                    fmt::format("request head exceeds {} bytes\n",
                                                options_.max_header_bytes)));
            return;
        }
        if (head_end != std::string::npos) {
            std::string head = connection.input.substr(0, head_end);
            handle_request(connection, head);
            return;
        }
    }
}

void HealthServer::Loop::handle_request(Connection& connection, std::string_view head) {
    Jibri& jibri = jibris_.at(connection.jibri);
    ++jibri.requests;

    if (jibri.behaviour == HealthBehaviour::Hang) {
        connection.phase = Phase::Held;
        connection.deadline = Clock::time_point::max();
        connection.input.clear();
        return;
    }

    std::optional<detail::RequestLine> line = detail::parse_request_line(head);
    if (!line) {
        respond(connection, detail::format_response(400, "text/plain", "invalid request line\n"));
        return;
    }
    if (line->method != "GET") {
        respond(connection, detail::format_response(405, "text/plain", "only GET is supported\n",
                                                    "Allow: GET\r\n"));
        return;
    }
    if (line->path != options_.path) {
        respond(connection,
                detail::format_response(404, "text/plain",
                                        fmt::format("no resource at {}\n", line->path)));
        return;
    }

    switch (jibri.behaviour) {
        case HealthBehaviour::Respond:
            respond(connection,
                    detail::format_response(200, "application/json", health_body(jibri.status)));
            return;
        case HealthBehaviour::Garbage:
            respond(connection, detail::format_response(200, "application/json", garbage_body));
            return;
        case HealthBehaviour::Error:
            respond(connection, detail::format_response(500, "text/plain",
                                                        "simulated internal server error\n"));
            return;
        case HealthBehaviour::Hang:
        case HealthBehaviour::Refuse:
            // Hang returned above. Refuse closed every connection of the jibri.
            close_connection(connection.fd.get());
            return;
    }
}

void HealthServer::Loop::respond(Connection& connection, std::string response) {
    connection.phase = Phase::Writing;
    connection.output = std::move(response);
    connection.written = 0;
    connection.deadline = Clock::now() + options_.request_timeout;
    write_response(connection);
}

void HealthServer::Loop::write_response(Connection& connection) {
    int fd = connection.fd.get();
    while (connection.written < connection.output.size()) {
        ssize_t n = ::send(fd, connection.output.data() + connection.written,
                           connection.output.size() - connection.written, MSG_NOSIGNAL);
        if (n >= 0) {
            connection.written += static_cast<std::size_t>(n);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if ((errno == EAGAIN || errno == EWOULDBLOCK) && watch(EPOLL_CTL_MOD, fd, EPOLLOUT)) {
            return;
        }
        close_connection(fd);
        return;
    }

    ::shutdown(fd, SHUT_WR);
    connection.phase = Phase::Draining;
    connection.output.clear();
    connection.deadline = Clock::now() + drain_timeout;
    if (!watch(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP)) {
        close_connection(fd);
    }
}

void HealthServer::Loop::discard_input(Connection& connection) {
    char buffer[4096];
    while (true) {
        ssize_t n = ::recv(connection.fd.get(), buffer, sizeof buffer, 0);
        if (n > 0) {
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        close_connection(connection.fd.get());  // end of stream or error
        return;
    }
}

void HealthServer::Loop::close_connection(int fd) {
    auto connection = connections_.find(fd);
    if (connection == connections_.end()) {
        return;
    }
    if (auto jibri = jibris_.find(connection->second.jibri); jibri != jibris_.end()) {
        jibri->second.connections.erase(fd);
    }
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
    connections_.erase(connection);
}

void HealthServer::Loop::close_connections(Jibri& jibri, bool held_only) {
    std::vector<int> to_close;
    for (int fd : jibri.connections) {
        if (!held_only || connections_.at(fd).phase == Phase::Held) {
            to_close.push_back(fd);
        }
    }
    for (int fd : to_close) {
        close_connection(fd);
    }
}

// Closes connections past their deadline and returns the earliest deadline left.
Clock::time_point HealthServer::Loop::expire_connections() {
    Clock::time_point now = Clock::now();
    Clock::time_point next = Clock::time_point::max();
    std::vector<int> expired;
    for (const auto& [fd, connection] : connections_) {
        if (connection.deadline <= now) {
            expired.push_back(fd);
        } else {
            next = std::min(next, connection.deadline);
        }
    }
    for (int fd : expired) {
        close_connection(fd);
    }
    return next;
}

}  // namespace jpc::sim
