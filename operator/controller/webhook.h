#pragma once

#include "controller/cluster_cache.h"
#include "http/http_server.h"
#include "kube/client.h"
#include "metrics/metrics.h"

#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace jpc::controller {

// Logs at most `burst` messages per key per `period` and counts the rest, so a client
// that repeats a bad request cannot flood the log. The next message of a key after a
// quiet period reports how many were suppressed.
class RateLimitedLog {
public:
    explicit RateLimitedLog(std::size_t burst = 5, std::chrono::seconds period = std::chrono::seconds(60));

    // Returns whether to log now, and sets suppressed to the count held back since the
    // last logged message of this key.
    bool allow(const std::string& key, std::uint64_t& suppressed);

private:
    struct Window {
        std::chrono::steady_clock::time_point start;
        std::size_t logged = 0;
        std::uint64_t suppressed = 0;
    };
    std::size_t burst_;
    std::chrono::seconds period_;
    std::mutex mutex_;
    std::map<std::string, Window> windows_;
};

// Remembers for ttl the pod names the API server reported as not found, so repeated
// reports for a missing pod cost one GET per ttl. It holds at most `capacity` names and
// does not add new ones when full, so those keep costing a GET each. Thread-safe.
class RecentlyNotFound {
public:
    using Clock = std::chrono::steady_clock;

    explicit RecentlyNotFound(std::chrono::milliseconds ttl = std::chrono::seconds(1), std::size_t capacity = 4096);

    // True when the API reported `key` as not found less than ttl before `now`.
    bool contains(const std::string& key, Clock::time_point now);
    void add(const std::string& key, Clock::time_point now);

private:
    std::chrono::milliseconds ttl_;
    std::size_t capacity_;
    std::mutex mutex_;
    std::map<std::string, Clock::time_point> expiry_;
};

// Serves jibri's status webhook. Every replica runs it, leader or not: it only records
// the report as annotations on the pod (see write_report), and the leader's reconciler
// acts on them.
//
// A report is accepted only for a pod in a watched namespace that belongs to a JibriPool
// (it matches the pool's Deployment selector or carries its busy labels), and, when the
// pool's spec.webhook.verifySourceIP is true, only from the pod's own IP. So a caller can
// neither touch pods outside the pools nor speak for another jibri.
class WebhookHandler {
public:
    WebhookHandler(kube::Client client, const ClusterCache& cache, std::string own_namespace,
                   metrics::OperatorMetrics& metrics);

    // Handles GET / and POST /webhook/...; the caller routes other paths elsewhere.
    http::HttpResponse handle(const http::HttpRequest& request);

    // Logs a request the HTTP server rejected before the handler saw it.
    void log_rejection(const std::string& peer, int status, const std::string& reason);

private:
    http::HttpResponse handle_status(const http::HttpRequest& request, const std::string& ns, const std::string& pod);
    http::HttpResponse reject(const http::HttpRequest& request, int status, const std::string& reason,
                              const std::string& allow = {});
    kube::ObjectPtr find_pod(const std::string& ns, const std::string& name);
    std::optional<pool::JibriPool> find_owner(const std::string& ns, const pool::Pod& pod) const;

    kube::Client client_;
    const ClusterCache& cache_;
    std::string own_namespace_;
    metrics::OperatorMetrics& metrics_;
    RateLimitedLog rejections_;
    RecentlyNotFound not_found_;
};

}  // namespace jpc::controller
