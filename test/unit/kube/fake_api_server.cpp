#define _TURN_OFF_PLATFORM_STRING
#include "fake_api_server.h"

#include <cpprest/http_listener.h>

#include <cctype>
#include <random>
#include <stdexcept>
#include <thread>

namespace jpc::kube::testing {

namespace http = web::http;
using web::http::experimental::listener::http_listener;

struct FakeApiServer::Listener {
    http_listener listener;
};

FakeApiServer::FakeApiServer(Handler handler) : handler_(std::make_shared<Handler>(std::move(handler))) {
    std::mt19937 engine{std::random_device{}()};
    std::uniform_int_distribution<int> ports(30000, 60000);
    for (int attempt = 0; attempt < 20 && !listener_; ++attempt) {
        std::string url = "http://127.0.0.1:" + std::to_string(ports(engine));
        auto candidate = std::make_unique<Listener>(Listener{http_listener(web::uri(url))});
        candidate->listener.support([this](http::http_request request) {
            FakeRequest received;
            received.method = request.method();
            received.path = request.relative_uri().to_string();
            received.body = request.extract_utf8string(true).get();
            for (const auto& [name, value] : request.headers()) {
                std::string lower = name;
                for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                received.headers[lower] = value;
            }
            {
                std::lock_guard lock(mutex_);
                requests_.push_back(received);
            }
            FakeResponse answer = (*handler_)(received);
            if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
            http::http_response response(static_cast<http::status_code>(answer.status));
            response.set_body(answer.body, answer.content_type);
            for (const auto& [name, value] : answer.headers) response.headers().add(name, value);
            request.reply(response).wait();
        });
        try {
            candidate->listener.open().wait();
            listener_ = std::move(candidate);
            url_ = url;
        } catch (const std::exception&) {
            // The port is taken; try another one.
        }
    }
    if (!listener_) throw std::runtime_error("FakeApiServer: no free port found on 127.0.0.1 after 20 tries");
}

FakeApiServer::~FakeApiServer() {
    if (listener_) listener_->listener.close().wait();
}

std::vector<FakeRequest> FakeApiServer::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

}  // namespace jpc::kube::testing
