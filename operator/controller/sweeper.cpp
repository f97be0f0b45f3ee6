#include "controller/sweeper.h"

#include "controller/report_writer.h"
#include "jibri/annotations.h"
#include "jibri/health.h"
#include "kube/errors.h"
#include "kube/resource.h"
#include "pool/status.h"

#include <spdlog/spdlog.h>

#include <deque>
#include <exception>
#include <utility>

namespace jpc::controller {

namespace {

using namespace std::chrono_literals;

jibri::Timestamp to_timestamp(std::chrono::system_clock::time_point time) {
    return std::chrono::time_point_cast<std::chrono::microseconds>(time);
}

std::string failure_reason(http::ProbeResult::Outcome outcome) {
    switch (outcome) {
        case http::ProbeResult::Outcome::timed_out: return "timeout";
        case http::ProbeResult::Outcome::connect_failed: return "connect";
        default: return "invalid";
    }
}

}  // namespace

Sweeper::Sweeper(kube::Client client, const ClusterCache& cache, EventRecorder& recorder,
                 metrics::OperatorMetrics& metrics, std::function<bool()> may_act, std::size_t max_concurrency)
    : client_(std::move(client)), cache_(cache), recorder_(recorder), metrics_(metrics), may_act_(std::move(may_act)),
      max_concurrency_(max_concurrency) {}

Sweeper::~Sweeper() { stop(); }

void Sweeper::start() {
    thread_ = std::thread([this] { run(); });
}

void Sweeper::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Sweeper::run() {
    while (true) {
        {
            std::unique_lock lock(mutex_);
            // Pools become due at whole-second granularity at best (sweepIntervalSeconds >= 5).
            wake_.wait_for(lock, 1s, [this] { return stopping_; });
            if (stopping_) return;
        }
        if (!may_act_() || !cache_.synced()) continue;
        try {
            sweep_due_pools();
        } catch (const std::exception& error) {
            spdlog::error("sweeper: {}", error.what());
        }
    }
}

void Sweeper::sweep_due_pools() {
    auto now = std::chrono::system_clock::now();
    for (const auto& cached : cache_.pools()) {
        if (!cached.pool) continue;
        const auto& pool = *cached.pool;
        auto key = pool.namespace_name + "/" + pool.name;
        auto interval = std::chrono::seconds(pool.spec.sweep_interval_seconds);

        auto next = next_sweep_.find(key);
        if (next == next_sweep_.end()) {
            // First sight of this pool: continue the schedule its status records.
            auto due = now;
            if (pool.status.last_sweep_time) {
                due = std::chrono::system_clock::time_point(*pool.status.last_sweep_time) + interval;
            }
            next = next_sweep_.emplace(key, due).first;
        }
        if (now < next->second) continue;
        next->second = now + interval;

        auto deployment = cache_.deployment(pool.namespace_name, pool.spec.deployment_name);
        if (!deployment || deployment->selector_error) continue;
        if (!may_act_()) return;
        auto report = sweep(pool, *deployment);
        if (report.probed > 0 || report.failed > 0) {
            spdlog::info("sweeper: pool {}: probed {} pods in {} ms: {} answered, {} failed, {} BUSY and {} EXPIRED "
                         "recovered",
                         key, report.probed, report.duration.count(), report.answered, report.failed,
                         report.recorded_busy, report.recorded_expired);
        }
    }
}

void Sweeper::handle_probe(const std::string& pool_key, const pool::JibriPool& pool,
                           const pool::Deployment& deployment, const nlohmann::json& object, const pool::Pod& pod,
                           const http::ProbeResult& result, std::chrono::system_clock::time_point sent_at,
                           bool acting, SweepReport& report) {
    std::string failure;
    std::optional<jibri::StatusReport> status;
    if (result.outcome != http::ProbeResult::Outcome::answered) {
        failure = failure_reason(result.outcome) + ": " + result.error;
        metrics_.health_check_failures.increment({failure_reason(result.outcome)});
    } else if (result.status != 200) {
        failure = "HTTP status " + std::to_string(result.status);
        metrics_.health_check_failures.increment({"status"});
    } else {
        auto parsed = jibri::parse_health_body(result.body);
        if (parsed) {
            status = parsed.value();
        } else {
            failure = "unreadable body: " + parsed.error().reason;
            metrics_.health_check_failures.increment({"invalid"});
        }
    }

    pool::ObjectRef ref{"v1", "Pod", pod.namespace_name, pod.name, pod.uid};
    if (!status) {
        ++report.failed;
        spdlog::warn("sweeper: pod {}/{} (uid {}) of pool {}: health check of {}:{} failed: {}", pod.namespace_name,
                     pod.name, pod.uid, pool_key, pod.pod_ip, pool.spec.health.port, failure);
        if (acting) {
            recorder_.record({ref, pool::EventType::warning, "HealthCheckFailed", "jibri health check failed: " + failure});
        }
        return;
    }
    ++report.answered;

    bool expired = status->busy == jibri::BusyStatus::expired;
    bool busy_inside = status->busy == jibri::BusyStatus::busy && deployment.selector.matches(pod.labels);
    if (!expired && !busy_inside) return;

    auto recorded = jibri::read_recorded_report(pod.annotations);
    if (recorded && recorded->busy == status->busy) return;
    if (!acting) return;
    spdlog::debug("sending: sweeper: record {} on pod {}/{} (uid {})", jibri::to_string(status->busy),
                  pod.namespace_name, pod.name, pod.uid);
    try {
        auto outcome = write_report(client_, object, *status, to_timestamp(sent_at));
        if (outcome != WriteOutcome::written) return;
    } catch (const std::exception& error) {
        spdlog::error("sweeper: pod {}/{} (uid {}): recording {} failed: {}", pod.namespace_name, pod.name, pod.uid,
                      jibri::to_string(status->busy), error.what());
        return;
    }
    spdlog::info("sweeper: pod {}/{} (uid {}) of pool {}: jibri reports {} but no webhook recorded it; recorded now",
                 pod.namespace_name, pod.name, pod.uid, pool_key, jibri::to_string(status->busy));
    metrics_.sweep_recoveries.increment({std::string(jibri::to_string(status->busy))});
    if (expired) {
        ++report.recorded_expired;
    } else {
        ++report.recorded_busy;
    }
}

SweepReport Sweeper::sweep(const pool::JibriPool& pool, const pool::Deployment& deployment) {
    SweepReport report;
    auto started = std::chrono::steady_clock::now();
    auto sent_at = std::chrono::system_clock::now();
    auto pool_key = pool.namespace_name + "/" + pool.name;

    auto objects = cache_.pool_pods(pool, deployment);
    if (!objects) return report;

    std::vector<kube::ObjectPtr> targets;
    std::vector<pool::Pod> pods;
    std::vector<http::ProbeRequest> requests;
    for (const auto& object : *objects) {
        auto parsed = pool::parse_pod(*object);
        if (!parsed) continue;
        auto& pod = parsed.value();
        if (pod.being_deleted() || pod.terminal() || pod.pod_ip.empty()) continue;
        requests.push_back({pod.pod_ip, static_cast<std::uint16_t>(pool.spec.health.port), pool.spec.health.path});
        targets.push_back(object);
        pods.push_back(std::move(pod));
    }

    http::ProbeOptions options;
    options.timeout = std::chrono::seconds(pool.spec.health.timeout_seconds);
    options.max_concurrency = max_concurrency_;
    options.user_agent = std::string("jibri-pod-controller/") + JPC_VERSION;

    // The probes run on a thread of their own while this thread records what they find,
    // so a jibri that reports EXPIRED is recorded at once, not after the hung jibris of
    // the same sweep have timed out.
    std::mutex mutex;
    std::condition_variable arrived;
    std::deque<std::pair<std::size_t, http::ProbeResult>> ready;
    bool probing = true;
    std::exception_ptr probe_error;
    std::thread prober([&] {
        try {
            http::probe_all(requests, options, [&](std::size_t index, const http::ProbeResult& result) {
                {
                    std::lock_guard lock(mutex);
                    ready.emplace_back(index, result);
                }
                arrived.notify_one();
            });
        } catch (...) {
            probe_error = std::current_exception();
        }
        {
            std::lock_guard lock(mutex);
            probing = false;
        }
        arrived.notify_one();
    });

    bool acting = true;
    try {
        while (true) {
            std::pair<std::size_t, http::ProbeResult> next;
            {
                std::unique_lock lock(mutex);
                arrived.wait(lock, [&] { return !ready.empty() || !probing; });
                if (ready.empty()) break;
                next = std::move(ready.front());
                ready.pop_front();
            }
            ++report.probed;
            // After leadership is lost, the remaining results are only counted.
            if (acting && !may_act_()) acting = false;
            handle_probe(pool_key, pool, deployment, *targets[next.first], pods[next.first], next.second, sent_at,
                         acting, report);
        }
    } catch (...) {
        prober.join();
        throw;
    }
    prober.join();
    if (probe_error) std::rethrow_exception(probe_error);

    report.duration = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    metrics_.sweep_duration.observe({pool.namespace_name, pool.name}, std::chrono::duration<double>(report.duration).count());

    if (may_act_()) {
        try {
            client_.merge_patch(kube::resources::jibripools, pool.namespace_name, pool.name,
                                pool::build_sweep_time_patch(to_timestamp(sent_at)), "status");
        } catch (const std::exception& error) {
            spdlog::warn("sweeper: pool {}: writing lastSweepTime failed: {}", pool_key, error.what());
        }
    }
    return report;
}

}  // namespace jpc::controller
