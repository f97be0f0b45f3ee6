#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace jpc::kube::testing {

// A request as the fake server received it.
struct FakeRequest {
    std::string method;
    std::string path;  // path and query as sent, still URL-encoded
    std::string body;
    std::map<std::string, std::string> headers;  // names in lowercase
};

struct FakeResponse {
    int status = 200;
    std::string body;
    std::string content_type = "application/json";
    std::map<std::string, std::string> headers;
    // Time the server waits before responding, to provoke client timeouts.
    std::chrono::milliseconds delay{0};
};

// A plain-HTTP server on a free port of 127.0.0.1 that responds to every request with
// the handler's FakeResponse and records the requests. It runs on the operator's own
// HTTP server; the handler runs on that server's threads, possibly on several at once.
class FakeApiServer {
public:
    using Handler = std::function<FakeResponse(const FakeRequest&)>;

    explicit FakeApiServer(Handler handler);
    ~FakeApiServer();
    FakeApiServer(const FakeApiServer&) = delete;
    FakeApiServer& operator=(const FakeApiServer&) = delete;

    // "http://127.0.0.1:PORT"
    const std::string& url() const { return url_; }
    std::vector<FakeRequest> requests() const;

private:
    struct Listener;
    std::string url_;
    std::shared_ptr<Handler> handler_;
    mutable std::mutex mutex_;
    std::vector<FakeRequest> requests_;
    std::unique_ptr<Listener> listener_;
};

}  // namespace jpc::kube::testing
