#include "fake_api_server.h"

#include "http/http_server.h"

#include <stdexcept>
#include <thread>

namespace jpc::kube::testing {

struct FakeApiServer::Listener {
    Listener(http::HttpServerOptions options, http::HttpHandler handler)
        : server(std::move(options), std::move(handler)) {}
    http::HttpServer server;
};

FakeApiServer::FakeApiServer(Handler handler) : handler_(std::make_shared<Handler>(std::move(handler))) {
    http::HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    // Requests of these tests carry whole objects. A response waits out its delay on a
    // server thread, so there are enough threads for several delayed responses at once.
    options.limits.max_body_bytes = 16 * 1024 * 1024;
    options.threads = 8;
    auto serve = [this](const http::HttpRequest& request) {
        FakeRequest received;
        received.method = request.method;
        received.path = request.target;
        received.body = request.body;
        for (const auto& [name, value] : request.headers) received.headers[name] = value;
        {
            std::lock_guard lock(mutex_);
            requests_.push_back(received);
        }
        FakeResponse answer = (*handler_)(received);
        if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
        http::HttpResponse response;
        response.status = answer.status;
        response.content_type = answer.content_type;
        response.body = std::move(answer.body);
        for (const auto& header : answer.headers) response.headers.push_back(header);
        return response;
    };
    listener_ = std::make_unique<Listener>(options, serve);
    listener_->server.start();
    url_ = "http://127.0.0.1:" + std::to_string(listener_->server.port());
}

FakeApiServer::~FakeApiServer() {
    // Requests in progress finish first: their handlers use this object.
    if (listener_) listener_->server.stop(std::chrono::seconds(30));
}

std::vector<FakeRequest> FakeApiServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

}  // namespace jpc::kube::testing
