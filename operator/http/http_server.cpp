#include "http/http_server.h"

#include <boost/asio.hpp>

#include <array>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace jpc::http {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string_view reason_phrase(int status) {
    switch (status) {
        case 200: return "OK";
        case 204: return "No Content";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 413: return "Payload Too Large";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

namespace {

std::string serialize(const HttpResponse& response, bool keep_alive, bool head_only) {
    std::string out;
    out.reserve(128 + response.body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += reason_phrase(response.status);
    out += "\r\nContent-Type: ";
    out += response.content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(response.body.size());
    out += "\r\n";
    for (const auto& [name, value] : response.headers) {
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
    if (!head_only) out += response.body;
    return out;
}

}  // namespace

struct HttpServer::Impl {
    HttpServerOptions options;
    HttpHandler handler;
    HttpRejectionObserver on_rejection;
    std::atomic<bool> stopping{false};
    std::atomic<std::size_t> connections{0};
    std::mutex mutex;
    std::condition_variable idle;
    std::size_t requests_in_progress = 0;  // guarded by mutex
    bool stopped = false;
    // Declared after the counters above: destroying io destroys pending handlers and the
    // connections they own, whose destructors still update those counters.
    asio::io_context io;
    tcp::acceptor acceptor{io};
    std::vector<std::thread> threads;

    void accept();

    void request_started() {
        std::lock_guard lock(mutex);
        ++requests_in_progress;
    }

    void request_finished() {
        std::lock_guard lock(mutex);
        --requests_in_progress;
        idle.notify_all();
    }
};

namespace {

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, HttpServer::Impl& server)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), server_(server),
          parser_(server.options.limits) {
        ++server_.connections;
    }

    ~Connection() { --server_.connections; }

    auto executor() { return socket_.get_executor(); }

    void start() {
        boost::system::error_code error;
        auto endpoint = socket_.remote_endpoint(error);
        if (error) return;
        auto address = endpoint.address();
        // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; report it as IPv4.
        if (address.is_v6() && address.to_v6().is_v4_mapped()) {
            address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
        }
        peer_ = address.to_string();
        arm_timer(server_.options.idle_timeout, false);
        read();
    }

private:
    void read() {
        socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](auto error, std::size_t bytes) {
            self->on_read(error, bytes);
        });
    }

    void on_read(const boost::system::error_code& error, std::size_t bytes) {
        if (error) {
            close();
            return;
        }
        pending_.append(buffer_.data(), bytes);
        process();
    }

    // Parses what has arrived; answers a complete request, or reads more.
    void process() {
        if (pending_.empty()) {
            read();
            return;
        }
        if (!request_timer_armed_) {
            request_timer_armed_ = true;
            arm_timer(server_.options.request_timeout, true);
        }

        auto state = parser_.feed(pending_);
        pending_.erase(0, parser_.consumed());

        if (state == HttpParser::State::NeedMore) {
            read();
            return;
        }
        if (state == HttpParser::State::Failed) {
            reject(parser_.error_status(), parser_.error_reason());
            return;
        }
        answer();
    }

    void answer() {
        auto& request = parser_.request();
        request.peer_address = peer_;
        server_.request_started();
        in_progress_ = true;

        HttpResponse response;
        try {
            response = server_.handler(request);
        } catch (const std::exception& error) {
            response = HttpResponse{500, "text/plain; charset=utf-8", std::string("internal error: ") + error.what() + "\n", {}};
        }

        bool keep_alive = request.keep_alive() && !server_.stopping;
        bool head_only = request.method == "HEAD";
        write(serialize(response, keep_alive, head_only), keep_alive);
    }

    void reject(int status, const std::string& reason) {
        if (server_.on_rejection) server_.on_rejection(peer_, status, reason);
        HttpResponse response{status, "text/plain; charset=utf-8", reason + "\n", {}};
        server_.request_started();
        in_progress_ = true;
        write(serialize(response, false, false), false);
    }

    void write(std::string data, bool keep_alive) {
        output_ = std::move(data);
        asio::async_write(socket_, asio::buffer(output_),
                          [self = shared_from_this(), keep_alive](auto error, std::size_t) {
                              self->on_written(error, keep_alive);
                          });
    }

    void on_written(const boost::system::error_code& error, bool keep_alive) {
        finish_request();
        if (error) {
            close();
            return;
        }
        if (!keep_alive) {
            linger();
            return;
        }
        parser_.reset();
        request_timer_armed_ = false;
        arm_timer(server_.options.idle_timeout, false);
        process();
    }

    // Closing a socket whose input was not all read makes the kernel send a reset, which
    // can destroy the response before the client reads it: a client still sending a body
    // over the limit would see a broken connection instead of 413. So the server closes
    // its sending side and discards input until the client closes, or linger_timeout
    // passes, or max_linger_bytes arrive.
    void linger() {
        boost::system::error_code ignored;
        socket_.shutdown(tcp::socket::shutdown_send, ignored);
        arm_timer(server_.options.linger_timeout, false);
        drain();
    }

    void drain() {
        socket_.async_read_some(asio::buffer(buffer_), [self = shared_from_this()](auto error, std::size_t bytes) {
            self->drained_ += bytes;
            if (error || self->drained_ > self->server_.options.max_linger_bytes) {
                self->close();
                return;
            }
            self->drain();
        });
    }

    void finish_request() {
        if (in_progress_) {
            in_progress_ = false;
            server_.request_finished();
        }
    }

    void arm_timer(std::chrono::milliseconds timeout, bool for_request) {
        timer_.expires_after(timeout);
        timer_.async_wait([self = shared_from_this(), for_request, generation = ++timer_generation_](auto error) {
            if (error || generation != self->timer_generation_) return;
            self->on_timeout(for_request);
        });
    }

    void on_timeout(bool for_request) {
        if (in_progress_) return;  // a handler is running; its write decides what happens next
        if (for_request) {
            reject(408, "request not received completely within " +
                            std::to_string(server_.options.request_timeout.count()) + " ms");
            return;
        }
        close();
    }

    void close() {
        finish_request();
        ++timer_generation_;
        timer_.cancel();
        boost::system::error_code ignored;
        socket_.close(ignored);
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    HttpServer::Impl& server_;
    HttpParser parser_;
    std::array<char, 8192> buffer_{};
    std::string pending_;
    std::string output_;
    std::string peer_;
    bool request_timer_armed_ = false;
    bool in_progress_ = false;
    std::size_t drained_ = 0;
    std::uint64_t timer_generation_ = 0;
};

}  // namespace

void HttpServer::Impl::accept() {
    acceptor.async_accept(asio::make_strand(io), [this](const boost::system::error_code& error, tcp::socket socket) {
        if (error) {
            if (error == asio::error::operation_aborted || stopping) return;
            accept();
            return;
        }
        if (connections >= options.max_connections || stopping) {
            boost::system::error_code ignored;
            socket.close(ignored);
        } else {
            socket.set_option(tcp::no_delay(true));
            auto connection = std::make_shared<Connection>(std::move(socket), *this);
            asio::dispatch(connection->executor(), [connection] { connection->start(); });
        }
        accept();
    });
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler, HttpRejectionObserver on_rejection)
    : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    impl_->handler = std::move(handler);
    impl_->on_rejection = std::move(on_rejection);
}

HttpServer::~HttpServer() { stop(std::chrono::milliseconds(0)); }

void HttpServer::start() {
    auto& options = impl_->options;
    boost::system::error_code error;
    auto address = asio::ip::make_address(options.address, error);
    if (error) {
        throw std::runtime_error("invalid listen address '" + options.address + "': " + error.message());
    }
    tcp::endpoint endpoint(address, options.port);
    auto& acceptor = impl_->acceptor;
    acceptor.open(endpoint.protocol(), error);
    if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor.bind(endpoint, error);
    if (!error) acceptor.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        throw std::runtime_error("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                                 ": " + error.message());
    }

    impl_->accept();
    unsigned count = std::max(1u, options.threads);
    for (unsigned i = 0; i < count; ++i) {
        impl_->threads.emplace_back([this] { impl_->io.run(); });
    }
}

void HttpServer::stop(std::chrono::milliseconds grace) {
    if (impl_->stopped) return;
    impl_->stopped = true;
    impl_->stopping = true;
    asio::post(impl_->io, [this] {
        boost::system::error_code ignored;
        impl_->acceptor.close(ignored);
    });
    {
        std::unique_lock lock(impl_->mutex);
        impl_->idle.wait_for(lock, grace, [this] { return impl_->requests_in_progress == 0; });
    }
    impl_->io.stop();
    for (auto& thread : impl_->threads) {
        if (thread.joinable()) thread.join();
    }
    impl_->threads.clear();
}

std::uint16_t HttpServer::port() const {
    boost::system::error_code error;
    auto endpoint = impl_->acceptor.local_endpoint(error);
    return error ? impl_->options.port : endpoint.port();
}

}  // namespace jpc::http
