#include "controller/manager.h"

#include "kube/errors.h"
#include "kube/resource.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

namespace jpc::controller {

namespace {

using namespace std::chrono_literals;

std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0) return "jibri-pod-controller";
    return buffer;
}

std::vector<std::string> watch_scopes(const options::Options& options, const std::string& own_namespace) {
    if (options.all_namespaces) return {""};
    if (options.watch_namespaces.empty()) return {own_namespace};
    return options.watch_namespaces;
}

}  // namespace

Manager::Manager(options::Options options, kube::Config config)
    : options_(std::move(options)),
      own_namespace_(options_.own_namespace.empty() ? config.default_namespace : options_.own_namespace),
      identity_(options_.identity.empty() ? host_name() : options_.identity),
      client_(config),
      metrics_(registry_) {
    metrics_.build_info.set({JPC_VERSION}, 1);
    metrics_.leader.set({}, 0);

    cache_ = std::make_unique<ClusterCache>(client_, watch_scopes(options_, own_namespace_), options_.pool_defaults);
    cache_->set_handler([this](const std::string& key) { on_pool_changed(key); });

    if (options_.leader_elect) {
        kube::LeaderElectionConfig election;
        election.identity = identity_;
        election.lease_duration = options_.lease_duration;
        election.renew_deadline = options_.renew_deadline;
        election.retry_period = options_.retry_period;
        election.on_started_leading = [this] { on_started_leading(); };
        election.on_stopped_leading = [this] {
            metrics_.leader.set({}, 0);
            // Expected while shutting down; a warning otherwise, as the lease was lost.
            auto level = stopped_ ? spdlog::level::info : spdlog::level::warn;
            spdlog::log(level, "leader election: {} stopped leading; reconciling and sweeping stop", identity_);
        };
        election.on_new_leader = [this](const std::string& leader) {
            spdlog::info("leader election: the leader is now {}", leader.empty() ? std::string("nobody") : leader);
        };
        auto lease_namespace = options_.lease_namespace.empty() ? own_namespace_ : options_.lease_namespace;
        auto store = std::make_shared<kube::ApiLeaseStore>(client_, lease_namespace, options_.lease_name);
        elector_ = std::make_unique<kube::LeaderElector>(store, election);
    }

    auto may_act = [this] { return is_leader(); };
    recorder_ = std::make_unique<EventRecorder>(client_, identity_);
    reconciler_ = std::make_unique<Reconciler>(client_, *cache_, *recorder_, metrics_, may_act);
    sweeper_ = std::make_unique<Sweeper>(client_, *cache_, *recorder_, metrics_, may_act, options_.health_concurrency);
    webhook_ = std::make_unique<WebhookHandler>(client_, *cache_, own_namespace_, metrics_);

    http::HttpServerOptions server;
    server.address = options_.bind_address;
    server.port = options_.port;
    server.threads = options_.server_threads;
    server_ = std::make_unique<http::HttpServer>(
        server, [this](const http::HttpRequest& request) { return route(request); },
        [this](const std::string& peer, int status, const std::string& reason) {
            webhook_->log_rejection(peer, status, reason);
        });

    registry_.on_collect([this] { collect_metrics(); });
}

Manager::~Manager() { stop(); }

bool Manager::is_leader() const {
    if (!elector_) return !stopped_;
    return elector_->is_leader();
}

std::uint16_t Manager::port() const { return server_->port(); }

void Manager::start() {
    spdlog::info("jibri-pod-controller {} starting as {} in namespace {}", JPC_VERSION, identity_, own_namespace_);
    server_->start();
    spdlog::info("serving the webhook, /metrics, /healthz and /readyz on {}:{}", options_.bind_address, port());

    cache_->start();
    resync_thread_ = std::thread([this] { resync_on_leadership(); });
    for (int i = 0; i < 2; ++i) workers_.emplace_back([this] { work(); });
    sweeper_->start();

    if (elector_) {
        elector_->start();
    } else {
        spdlog::warn("leader election is off: this replica acts alone; run exactly one replica");
        metrics_.leader.set({}, 1);
        on_started_leading();
    }
}

void Manager::stop() {
    if (stopped_.exchange(true)) return;
    spdlog::info("stopping: finishing webhook requests in progress");
    server_->stop(std::chrono::duration_cast<std::chrono::milliseconds>(options_.shutdown_grace));
    queue_.shut_down();
    {
        std::lock_guard lock(resync_mutex_);
    }
    resync_wake_.notify_all();
    if (resync_thread_.joinable()) resync_thread_.join();
    for (auto& worker : workers_) {
        if (worker.joinable()) worker.join();
    }
    sweeper_->stop();
    if (elector_) elector_->stop();  // releases the lease, so another replica takes over at once
    recorder_->stop();
    cache_->stop();
    spdlog::info("stopped");
}

void Manager::on_pool_changed(const std::string& key) {
    if (is_leader()) queue_.add(key);
}

void Manager::on_started_leading() {
    metrics_.leader.set({}, 1);
    auto term = elector_ ? elector_->info().lease_transitions : 0;
    spdlog::info("leader election: {} leads (lease term {}); reconciling every pool", identity_, term);
    {
        std::lock_guard lock(resync_mutex_);
        resync_requested_ = true;
    }
    resync_wake_.notify_all();
}

// Queues every pool when this replica starts leading, once the cache is synced: a new
// leader has seen no events yet, and decisions made from a partial cache are wrong.
void Manager::resync_on_leadership() {
    while (true) {
        {
            std::unique_lock lock(resync_mutex_);
            resync_wake_.wait(lock, [this] { return resync_requested_ || stopped_; });
            if (stopped_) return;
            resync_requested_ = false;
        }
        while (!stopped_ && !cache_->wait_for_sync(1s)) {
        }
        for (const auto& cached : cache_->pools()) {
            queue_.add(kube::namespace_of(*cached.object) + "/" + kube::name_of(*cached.object));
        }
    }
}

void Manager::work() {
    while (auto key = queue_.get()) {
        auto started = std::chrono::steady_clock::now();
        std::string result = "success";
        try {
            if (!cache_->synced()) {
                result = "requeue";
                queue_.add_after(*key, 500ms);
            } else {
                auto outcome = reconciler_->reconcile(*key);
                queue_.forget(*key);
                if (outcome.requeue_after) {
                    result = "requeue";
                    queue_.add_after(*key, *outcome.requeue_after);
                }
            }
        } catch (const kube::ApiError& error) {
            result = "error";
            metrics_.reconcile_errors.increment();
            metrics_.api_errors.increment({std::to_string(error.code())});
            auto delay = queue_.add_rate_limited(*key);
            spdlog::error("pool {}: reconcile failed, retrying in {} ms: {}", *key, delay.count(), error.what());
        } catch (const std::exception& error) {
            result = "error";
            metrics_.reconcile_errors.increment();
            auto delay = queue_.add_rate_limited(*key);
            spdlog::error("pool {}: reconcile failed, retrying in {} ms: {}", *key, delay.count(), error.what());
        }
        metrics_.reconcile_duration.observe(
            {result}, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
        queue_.done(*key);
    }
}

std::string Manager::api_problem() const {
    // Any response counts, whatever its status: the server is reachable.
    constexpr auto fresh = std::chrono::seconds(10);
    auto last = client_.transport()->last_response();
    if (last && std::chrono::steady_clock::now() - *last < fresh) return {};
    kube::Request request;
    request.path = "/version";
    request.timeout = std::chrono::seconds(2);
    try {
        client_.transport()->send(request);
        return {};
    } catch (const std::exception& error) {
        return error.what();
    }
}

http::HttpResponse Manager::route(const http::HttpRequest& request) {
    if (request.method == "GET" || request.method == "HEAD") {
        if (request.path == "/healthz") return {200, "text/plain; charset=utf-8", "ok\n", {}};
        if (request.path == "/readyz") {
            if (!cache_->synced()) return {503, "text/plain; charset=utf-8", "informer caches not synced yet\n", {}};
            auto problem = api_problem();
            if (!problem.empty()) {
                return {503, "text/plain; charset=utf-8", "Kubernetes API not reachable: " + problem + "\n", {}};
            }
            return {200, "text/plain; charset=utf-8", "ok\n", {}};
        }
        if (request.path == "/metrics") {
            return {200, "text/plain; version=0.0.4; charset=utf-8", registry_.render(), {}};
        }
    }
    return webhook_->handle(request);
}

void Manager::collect_metrics() {
    std::uint64_t restarts = 0;
    std::uint64_t relists = 0;
    for (const auto& stats : cache_->informer_stats()) {
        restarts += stats.watch_restarts;
        relists += stats.relists;
    }
    metrics_.watch_restarts.mirror({}, static_cast<double>(restarts));
    metrics_.relists.mirror({}, static_cast<double>(relists));
    metrics_.cached_pods.set({}, static_cast<double>(cache_->cached_pods()));
    metrics_.leader.set({}, is_leader() ? 1 : 0);
}

}  // namespace jpc::controller
