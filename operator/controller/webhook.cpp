#include "controller/webhook.h"

#include "controller/report_writer.h"
#include "jibri/webhook.h"
#include "kube/errors.h"
#include "kube/resource.h"
#include "pool/membership.h"

#include <spdlog/spdlog.h>

namespace jpc::controller {

namespace {

jibri::Timestamp now_utc() {
    return std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
}

http::HttpResponse text(int status, std::string body) {
    return http::HttpResponse{status, "text/plain; charset=utf-8", std::move(body) + "\n", {}};
}

}  // namespace

RateLimitedLog::RateLimitedLog(std::size_t burst, std::chrono::seconds period) : burst_(burst), period_(period) {}

bool RateLimitedLog::allow(const std::string& key, std::uint64_t& suppressed) {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (windows_.size() > 10'000) windows_.clear();  // bounds memory when keys are attacker-chosen
    auto& window = windows_[key];
    if (now - window.start >= period_) {
        window.start = now;
        window.logged = 0;
    }
    if (window.logged < burst_) {
        ++window.logged;
        suppressed = window.suppressed;
        window.suppressed = 0;
        return true;
    }
    ++window.suppressed;
    return false;
}

RecentlyNotFound::RecentlyNotFound(std::chrono::milliseconds ttl, std::size_t capacity)
    : ttl_(ttl), capacity_(capacity) {}

bool RecentlyNotFound::contains(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto found = expiry_.find(key);
    if (found == expiry_.end()) return false;
    if (now < found->second) return true;
    expiry_.erase(found);
    return false;
}

void RecentlyNotFound::add(const std::string& key, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (expiry_.size() >= capacity_ && !expiry_.contains(key)) {
        std::erase_if(expiry_, [now](const auto& entry) { return entry.second <= now; });
        if (expiry_.size() >= capacity_) return;
    }
    expiry_[key] = now + ttl_;
}

WebhookHandler::WebhookHandler(kube::Client client, const ClusterCache& cache, std::string own_namespace,
                               metrics::OperatorMetrics& metrics)
    : client_(std::move(client)), cache_(cache), own_namespace_(std::move(own_namespace)), metrics_(metrics) {}

void WebhookHandler::log_rejection(const std::string& peer, int status, const std::string& reason) {
    metrics_.webhook_requests.increment({std::to_string(status)});
    std::uint64_t suppressed = 0;
    if (rejections_.allow("server " + std::to_string(status), suppressed)) {
        spdlog::warn("webhook: rejected a request from {} with {}: {}{}", peer, status, reason,
                     suppressed ? fmt::format(" ({} similar rejections not logged)", suppressed) : "");
    }
}

http::HttpResponse WebhookHandler::reject(const http::HttpRequest& request, int status, const std::string& reason,
                                          const std::string& allow) {
    std::uint64_t suppressed = 0;
    if (rejections_.allow(std::to_string(status) + " " + request.peer_address, suppressed)) {
        spdlog::warn("webhook: {} {} from {}: {} {}{}", request.method, request.path, request.peer_address, status,
                     reason, suppressed ? fmt::format(" ({} similar rejections not logged)", suppressed) : "");
    }
    auto response = text(status, reason);
    if (!allow.empty()) response.headers.emplace_back("Allow", allow);
    return response;
}

http::HttpResponse WebhookHandler::handle(const http::HttpRequest& request) {
    auto started = std::chrono::steady_clock::now();
    auto route = jibri::route_request(request.method, request.target, own_namespace_);

    http::HttpResponse response;
    if (!route) {
        const auto& error = route.error();
        response = reject(request, error.status, error.reason, error.allow);
    } else if (std::holds_alternative<jibri::RootRoute>(route.value())) {
        response = text(200, "");
    } else {
        const auto& status_route = std::get<jibri::StatusRoute>(route.value());
        response = handle_status(request, status_route.namespace_name, status_route.pod_name);
    }

    metrics_.webhook_requests.increment({std::to_string(response.status)});
    metrics_.webhook_duration.observe({}, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    return response;
}

kube::ObjectPtr WebhookHandler::find_pod(const std::string& ns, const std::string& name) {
    if (auto cached = cache_.pod(ns, name)) {
        metrics_.webhook_pod_lookups.increment({"cache"});
        return cached;
    }
    // A new pod can report before the watch delivers it, so a cache miss costs one GET,
    // unless the API reported this name as not found a moment ago. The cache is read
    // first, so a remembered name stops mattering once the watch delivers the pod.
    auto key = ns + "/" + name;
    if (not_found_.contains(key, RecentlyNotFound::Clock::now())) {
        metrics_.webhook_pod_lookups.increment({"remembered"});
        return nullptr;
    }
    metrics_.webhook_pod_lookups.increment({"api"});
    try {
        auto object = client_.get(kube::resources::pods, ns, name);
        return std::make_shared<const nlohmann::json>(std::move(object));
    } catch (const kube::ApiError& error) {
        if (!error.is_not_found()) throw;
        not_found_.add(key, RecentlyNotFound::Clock::now());
        return nullptr;
    }
}

std::optional<pool::JibriPool> WebhookHandler::find_owner(const std::string& ns, const pool::Pod& pod) const {
    // The pool of the pod: it matches a pool's Deployment selector or carries its busy labels.
    for (const auto& cached : cache_.pools()) {
        if (!cached.pool || cached.pool->namespace_name != ns) continue;
        auto deployment = cache_.deployment(ns, cached.pool->spec.deployment_name);
        if (!deployment || deployment->selector_error) continue;
        if (pool::pool_member(pod, cached.pool->spec.busy_labels, deployment->selector)) return cached.pool;
    }
    return std::nullopt;
}

http::HttpResponse WebhookHandler::handle_status(const http::HttpRequest& request, const std::string& ns,
                                                 const std::string& pod_name) {
    auto received_at = now_utc();
    auto pod_key = ns + "/" + pod_name;
    if (!cache_.watches_namespace(ns)) {
        return reject(request, 404, "namespace " + ns + " is not watched by this operator");
    }
    auto report = jibri::parse_webhook_body(request.body);
    if (!report) return reject(request, report.error().status, "pod " + pod_key + ": " + report.error().reason);

    kube::ObjectPtr object;
    try {
        object = find_pod(ns, pod_name);
    } catch (const std::exception& error) {
        spdlog::error("webhook: pod {}: reading the pod failed: {}", pod_key, error.what());
        return text(500, "reading pod " + pod_key + " failed");
    }
    if (!object) return reject(request, 404, "pod " + pod_key + " not found");
    auto pod = pool::parse_pod(*object);
    if (!pod) return reject(request, 404, "pod " + pod_key + " cannot be read: " + pod.error());

    auto owner = find_owner(ns, pod.value());
    if (!owner) return reject(request, 404, "pod " + pod_key + " belongs to no JibriPool");

    if (owner->spec.webhook.verify_source_ip && pod.value().pod_ip.empty()) {
        // The watch can deliver the pod's IP after the jibri in it has started to report,
        // and jibri does not retry. A pod's IP never changes once set, so only a pod
        // without one is read again, once, from the API.
        try {
            auto fresh = client_.get(kube::resources::pods, ns, pod_name);
            object = std::make_shared<const nlohmann::json>(std::move(fresh));
        } catch (const kube::ApiError& error) {
            if (error.is_not_found()) return reject(request, 404, "pod " + pod_key + " not found");
            spdlog::error("webhook: pod {}: reading the pod failed: {}", pod_key, error.what());
            return text(500, "reading pod " + pod_key + " failed");
        } catch (const std::exception& error) {
            spdlog::error("webhook: pod {}: reading the pod failed: {}", pod_key, error.what());
            return text(500, "reading pod " + pod_key + " failed");
        }
        pod = pool::parse_pod(*object);
        if (!pod) return reject(request, 404, "pod " + pod_key + " cannot be read: " + pod.error());
        owner = find_owner(ns, pod.value());
        if (!owner) return reject(request, 404, "pod " + pod_key + " belongs to no JibriPool");
    }

    if (owner->spec.webhook.verify_source_ip &&
        !jibri::source_ip_matches(pod.value().pod_ip, request.peer_address)) {
        return reject(request, 403,
                      "pod " + pod_key + ": request from " + request.peer_address + " but the pod's IP is " +
                          (pod.value().pod_ip.empty() ? std::string("not set") : pod.value().pod_ip));
    }

    WriteOutcome outcome;
    try {
        outcome = write_report(client_, *object, report.value(), received_at);
    } catch (const std::exception& error) {
        spdlog::error("webhook: pod {} (uid {}): recording {} failed: {}", pod_key, pod.value().uid,
                      jibri::to_string(report.value().busy), error.what());
        return text(500, "recording the status on pod " + pod_key + " failed");
    }
    if (outcome == WriteOutcome::pod_gone) return reject(request, 404, "pod " + pod_key + " not found");

    auto level = outcome == WriteOutcome::written ? spdlog::level::info : spdlog::level::debug;
    spdlog::log(level, "webhook: pod {} (uid {}) of pool {}: {} {}: {}", pod_key, pod.value().uid, owner->name,
                jibri::to_string(report.value().busy), jibri::to_string(report.value().health), to_string(outcome));
    return text(200, "");
}

}  // namespace jpc::controller
