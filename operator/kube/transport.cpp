// cpprestsdk defines a macro U() unless told not to, and it breaks fmt's templates.
#define _TURN_OFF_PLATFORM_STRING
#include "kube/transport.h"

#include "kube/errors.h"

#include <boost/asio/ssl.hpp>
#include <cpprest/http_client.h>
#include <fmt/format.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <future>
#include <sstream>
#include <stdexcept>

namespace jpc::kube {

namespace http = web::http;
namespace http_client = web::http::client;

// PEM data of the trust anchors and client credentials, loaded once.
struct detail::TlsMaterial {
    bool verify = true;
    std::string ca_pem;
    std::string certificate_pem;
    std::string key_pem;
};

namespace {

constexpr std::size_t stream_read_bytes = 64 * 1024;
// Longest body of a non-2xx response that stream() reads to build the ApiError.
constexpr std::size_t max_error_body = 64 * 1024;

std::string read_pem(const std::string& data, const std::string& file, const char* what) {
    if (!data.empty()) return data;
    if (file.empty()) return {};
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error(fmt::format("cannot read {} file {}", what, file));
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// Sets up an OpenSSL context for one connection. When a CA is given it is the only
// trust anchor, as in client-go, so the system store is replaced, not extended.
void configure_tls(boost::asio::ssl::context& context, const detail::TlsMaterial& tls) {
    SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
    if (!tls.ca_pem.empty()) {
        SSL_CTX_set_cert_store(context.native_handle(), X509_STORE_new());
        context.add_certificate_authority(boost::asio::buffer(tls.ca_pem));
    }
    if (!tls.certificate_pem.empty()) {
        context.use_certificate_chain(boost::asio::buffer(tls.certificate_pem));
        context.use_private_key(boost::asio::buffer(tls.key_pem), boost::asio::ssl::context::pem);
        if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
            throw std::runtime_error("the client key does not match the client certificate");
        }
    }
}

bool is_success(int status) { return status >= 200 && status <= 299; }

// Classifies a cpprestsdk failure. Only failures that cpprestsdk reports before the
// request is written count as `connect`, because RetryPolicy repeats those for every verb.
TransportError::Kind classify(const http::http_exception& error) {
    if (error.error_code() == std::errc::timed_out) return TransportError::Kind::timeout;
    std::string_view message = error.what();
    for (std::string_view marker : {"connect", "resolv", "SSL handshake", "handshake"}) {
        if (message.find(marker) != std::string_view::npos) return TransportError::Kind::connect;
    }
    return TransportError::Kind::broken;
}

http::http_request build_message(const Request& request, TokenSource* token_source) {
    http::http_request message(http::method(request.verb));
    message.set_request_uri(web::uri(request.path));
    auto& headers = message.headers();
    headers.add("User-Agent", "jibri-pod-controller/" JPC_VERSION);
    headers.add("Accept", request.accept);
    if (token_source != nullptr) {
        headers.add("Authorization", "Bearer " + token_source->token());
    }
    if (!request.body.empty() || !request.content_type.empty()) {
        message.set_body(request.body, request.content_type.empty() ? "application/json" : request.content_type);
    }
    return message;
}

pplx::cancellation_token_source linked_source(const Cancellation* cancellation) {
    if (cancellation == nullptr) return pplx::cancellation_token_source();
    auto token = cancellation->token();
    return pplx::cancellation_token_source::create_linked_source(token);
}

// Waits for `task` until the deadline. On timeout it cancels the call through `source`
// and throws TransportError; failures of the call are rethrown as TransportError too.
template <typename T>
T wait_for(pplx::task<T> task, std::chrono::milliseconds timeout, pplx::cancellation_token_source& source,
           const Cancellation* cancellation, const Request& request) {
    auto promise = std::make_shared<std::promise<T>>();
    auto future = promise->get_future();
    task.then([promise](pplx::task<T> finished) {
        try {
            promise->set_value(finished.get());
        } catch (...) {
            promise->set_exception(std::current_exception());
        }
    });
    if (future.wait_for(timeout) != std::future_status::ready) {
        source.cancel();
        throw TransportError(TransportError::Kind::timeout, request.verb, request.path,
                             fmt::format("no response within {} ms", timeout.count()));
    }
    try {
        return future.get();
    } catch (const pplx::task_canceled&) {
        bool by_caller = cancellation != nullptr && cancellation->is_cancelled();
        throw TransportError(by_caller ? TransportError::Kind::cancelled : TransportError::Kind::timeout,
                             request.verb, request.path, "the call was cancelled");
    } catch (const http::http_exception& error) {
        // Cancelling closes the socket, which cpprestsdk reports as a failed connection.
        if (cancellation != nullptr && cancellation->is_cancelled()) {
            throw TransportError(TransportError::Kind::cancelled, request.verb, request.path, error.what());
        }
        throw TransportError(classify(error), request.verb, request.path, error.what());
    }
}

std::string header_value(const http::http_headers& headers, const char* name) {
    auto found = headers.find(name);
    return found == headers.end() ? std::string() : found->second;
}

}  // namespace

void Cancellation::cancel() {
    // Cancelling runs cpprestsdk's callbacks, which close sockets, so it happens outside the
    // lock. Taking the lock afterwards orders the notification after any waiter's check.
    source_.cancel();
    { std::lock_guard lock(mutex_); }
    cv_.notify_all();
}

bool Cancellation::wait_for(std::chrono::milliseconds duration) const {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, duration, [this] { return is_cancelled(); });
}

Transport::Transport(const Config& config, TransportOptions options)
    : server_(config.server), token_source_(config.token_source), options_(options) {
    if (server_.rfind("https://", 0) != 0 && server_.rfind("http://", 0) != 0) {
        throw std::runtime_error(fmt::format("{}: server \"{}\" is not an http(s) URL", config.source, server_));
    }
    auto tls = std::make_shared<detail::TlsMaterial>();
    tls->verify = !config.insecure_skip_tls_verify;
    tls->ca_pem = read_pem(config.ca_data, config.ca_file, "certificate-authority");
    tls->certificate_pem = read_pem(config.client_certificate_data, config.client_certificate_file,
                                    "client-certificate");
    tls->key_pem = read_pem(config.client_key_data, config.client_key_file, "client-key");
    if (tls->certificate_pem.empty() != tls->key_pem.empty()) {
        throw std::runtime_error(fmt::format("{}: a client certificate needs a client key and the reverse",
                                             config.source));
    }

    // Building a context once checks the PEM data now rather than at the first connection.
    try {
        boost::asio::ssl::context probe(boost::asio::ssl::context::tls_client);
        configure_tls(probe, *tls);
    } catch (const std::exception& error) {
        throw std::runtime_error(fmt::format("{}: invalid certificate, key or certificate-authority data: {}",
                                             config.source, error.what()));
    }
    if (!tls->verify) {
        spdlog::warn("TLS verification of {} is off (insecure-skip-tls-verify); anyone on the path can "
                     "impersonate the API server",
                     server_);
    }
    tls_ = std::move(tls);
    // send() enforces each call's deadline itself, so that Request::timeout may exceed the
    // default. cpprestsdk's own timeout on the shared client is only a backstop.
    client_ = make_client(std::max<std::chrono::milliseconds>(options_.timeout, std::chrono::minutes(10)));
}

Transport::~Transport() = default;

std::unique_ptr<http_client::http_client> Transport::make_client(std::chrono::milliseconds timeout) const {
    http_client::http_client_config config;
    config.set_timeout(timeout);
    config.set_validate_certificates(tls_->verify);
    config.set_proxy(web::web_proxy(web::web_proxy::disabled));
    auto tls = tls_;
    config.set_ssl_context_callback([tls](boost::asio::ssl::context& context) { configure_tls(context, *tls); });
    return std::make_unique<http_client::http_client>(web::uri(server_), config);
}

Response Transport::send(const Request& request, const Cancellation* cancellation) {
    auto timeout = request.timeout.count() > 0 ? request.timeout : options_.timeout;
    auto source = linked_source(cancellation);
    http::http_request message = build_message(request, token_source_.get());

    auto task = client_->request(message, source.get_token()).then([](http::http_response answer) {
        return answer.extract_vector().then([answer](std::vector<unsigned char> body) {
            Response response;
            response.status = answer.status_code();
            response.body.assign(body.begin(), body.end());
            response.content_type = answer.headers().content_type();
            response.retry_after = header_value(answer.headers(), "Retry-After");
            return response;
        });
    });
    auto response = wait_for(task, timeout, source, cancellation, request);
    note_response();
    return response;
}

void Transport::note_response() {
    last_response_ns_.store(std::chrono::steady_clock::now().time_since_epoch().count(), std::memory_order_relaxed);
}

std::optional<std::chrono::steady_clock::time_point> Transport::last_response() const {
    auto ticks = last_response_ns_.load(std::memory_order_relaxed);
    if (ticks == 0) return std::nullopt;
    return std::chrono::steady_clock::time_point(std::chrono::steady_clock::duration(ticks));
}

void Transport::stream(const Request& request, const std::function<bool(std::string_view)>& on_chunk,
                       const Cancellation* cancellation) {
    auto idle_timeout = request.timeout.count() > 0 ? request.timeout : options_.stream_idle_timeout;
    auto client = make_client(idle_timeout);
    auto source = linked_source(cancellation);
    http::http_request message = build_message(request, token_source_.get());

    // The task completes once the status line and headers are in; the body follows.
    auto answer = wait_for(client->request(message, source.get_token()), options_.timeout, source,
                           cancellation, request);
    note_response();
    auto body = answer.body().streambuf();

    if (!is_success(answer.status_code())) {
        std::string text(max_error_body, '\0');
        auto read = wait_for(body.getn(reinterpret_cast<std::uint8_t*>(text.data()), text.size()),
                             options_.timeout, source, cancellation, request);
        text.resize(read);
        throw make_api_error(answer.status_code(), text, request.verb, request.path,
                             header_value(answer.headers(), "Retry-After"));
    }

    std::string chunk(stream_read_bytes, '\0');
    while (true) {
        // Waiting for one byte returns as soon as any data arrives; the rest of what is
        // buffered is then taken without waiting.
        std::size_t available = body.in_avail();
        std::size_t wanted = available == 0 ? 1 : std::min(available, chunk.size());
        std::size_t read = 0;
        try {
            read = body.getn(reinterpret_cast<std::uint8_t*>(chunk.data()), wanted).get();
        } catch (const pplx::task_canceled&) {
            bool by_caller = cancellation != nullptr && cancellation->is_cancelled();
            throw TransportError(by_caller ? TransportError::Kind::cancelled : TransportError::Kind::broken,
                                 request.verb, request.path, "the stream was cancelled");
        } catch (const http::http_exception& error) {
            if (cancellation != nullptr && cancellation->is_cancelled()) {
                throw TransportError(TransportError::Kind::cancelled, request.verb, request.path, error.what());
            }
            auto kind = classify(error);
            throw TransportError(kind == TransportError::Kind::connect ? TransportError::Kind::broken : kind,
                                 request.verb, request.path, error.what());
        } catch (const std::exception& error) {
            bool by_caller = cancellation != nullptr && cancellation->is_cancelled();
            throw TransportError(by_caller ? TransportError::Kind::cancelled : TransportError::Kind::broken,
                                 request.verb, request.path, error.what());
        }
        if (read > 0) note_response();
        if (read == 0) {
            if (cancellation != nullptr && cancellation->is_cancelled()) {
                throw TransportError(TransportError::Kind::cancelled, request.verb, request.path,
                                     "the stream was cancelled");
            }
            return;
        }
        bool more = false;
        try {
            more = on_chunk(std::string_view(chunk.data(), read));
        } catch (...) {
            source.cancel();
            throw;
        }
        if (!more) {
            source.cancel();
            return;
        }
    }
}

}  // namespace jpc::kube
