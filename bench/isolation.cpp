// Benchmark 1, isolation latency. Each cycle measures two paths to "the pod left the
// Deployment's selector and the ReplicaSet created its replacement", both seen through
// the benchmark's own watch:
//   operator:  a BUSY webhook from the pod's IP. The operator records the report on the
//              pod, its watch delivers the change, and a reconcile relabels the pod.
//   reference: one JSON merge patch of the same label by the benchmark.
// The two run in alternating order, each followed by cleanup and a wait until the pool is
// back to `spare` idle pods, so both see the same cluster state.

#include "bench/benchmarks.h"
#include "bench/pod_watch.h"

#include "kube/resource.h"
#include "sim/fleet.h"
#include "support/process.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace jpc::bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr auto kStepTimeout = 30s;

double ms_between(Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double, std::milli>(to - from).count();
}

// Latencies of one path in one cycle, in milliseconds from the first request.
struct Sample {
    double left_selector = 0;
    double replacement = 0;
    double responded = 0;        // the response to the webhook or the patch arrived
    double report_visible = 0;   // operator path only: the watch delivered the BUSY annotation
};

struct Samples {
    std::vector<double> left_selector;
    std::vector<double> replacement;
    std::vector<double> responded;
    std::vector<double> report_visible;

    void add(const Sample& sample) {
        left_selector.push_back(sample.left_selector);
        replacement.push_back(sample.replacement);
        responded.push_back(sample.responded);
        report_visible.push_back(sample.report_visible);
    }
};

class IsolationBenchmark {
public:
    explicit IsolationBenchmark(Environment& environment)
        : environment_(environment), options_(environment.options()),
          pool_(environment, "bench-isolation", settings(options_)) {
        selector_.match_labels = {{"app", "jibri"}, {"jibri.dev/state", "idle"}};
    }

    std::vector<Row> run() {
        auto& process = pool_.start_operator();
        if (!process.wait_ready(60s)) throw std::runtime_error("the operator did not become ready; log: " + process.log_path());

        watch_ = std::make_unique<PodWatch>(environment_.new_client(), pool_.ns(), "app=jibri", selector_);
        if (!watch_->wait_for_sync(30s)) throw std::runtime_error("the benchmark's pod watch did not sync within 30 s");

        sim::FleetOptions fleet;
        fleet.ns = pool_.ns();
        fleet.pod_selector = "app=jibri";
        fleet.deployment_selector = selector_;
        fleet.webhook_base = process.base_url() + "/webhook/" + pool_.ns();
        fleet.health.port = pool_.settings().health_port;
        fleet.isolation_grace = 60s;
        fleet.first_address = "127.3.0.1";
        fleet_ = std::make_unique<sim::JibriFleet>(environment_.new_client(), fleet);
        fleet_->start();
        if (!wait_steady()) throw std::runtime_error("the pool did not reach its spare idle pods within 60 s");

        int failures = 0;
        for (int cycle = 0; cycle < options_.cycles && failures < 5; ++cycle) {
            if (cycle % 20 == 0) progress(fmt::format("isolation: cycle {} of {}", cycle + 1, options_.cycles));
            // Alternating the order keeps a slow phase of the machine from landing on one path only.
            bool ok = cycle % 2 == 0 ? measure_reference() && measure_operator()
                                     : measure_operator() && measure_reference();
            if (!ok) ++failures;
        }

        fleet_->check_isolation();
        auto lost = fleet_->stats().lost_recordings;
        fleet_->stop();
        pool_.stop_operator();
        return rows(failures, lost);
    }

private:
    static PoolSettings settings(const Options& options) {
        PoolSettings settings;
        settings.spare = options.spare;
        settings.health_port = test::free_port();
        return settings;
    }

    std::optional<std::string> pick_idle_pod() {
        auto inside = watch_->pods_inside();
        for (const auto& pod : fleet_->idle_pods()) {
            if (std::find(inside.begin(), inside.end(), pod) != inside.end()) return pod;
        }
        return std::nullopt;
    }

    // The pool is back to `spare` idle pods in the watch, in the simulator and in the pool's
    // status, which the operator writes only after its cache has the new pods running.
    bool wait_steady() {
        auto spare = static_cast<std::size_t>(options_.spare);
        bool pods = watch_->wait(
            [&] { return watch_->pods_inside().size() == spare && fleet_->idle_pods().size() == spare; }, 60s);
        if (!pods) return false;
        return test::wait_until(
            [&] {
                auto status = pool_.pool_status();
                return status.value("idle", -1) == options_.spare && status.value("busy", -1) == 0 &&
                       status.value("expiring", -1) == 0;
            },
            60s, 20ms);
    }

    // Waits for the pod to leave the selector and for its replacement; fills the sample.
    bool wait_isolated(const std::string& pod, Clock::time_point started, Sample& sample) {
        if (!watch_->wait([&] { return watch_->left_selector(pod).has_value(); }, kStepTimeout)) {
            progress("isolation: pod " + pod + " did not leave the Deployment's selector within 30 s");
            return false;
        }
        if (!watch_->wait([&] { return watch_->first_added_after(started).has_value(); }, kStepTimeout)) {
            progress("isolation: no replacement of pod " + pod + " within 30 s");
            return false;
        }
        sample.left_selector = ms_between(started, *watch_->left_selector(pod));
        sample.replacement = ms_between(started, watch_->first_added_after(started)->second);
        return true;
    }

    bool measure_operator() {
        auto pod = pick_idle_pod();
        if (!pod) return false;
        Sample sample;
        auto started = Clock::now();
        int code = fleet_->start_recording(*pod);
        sample.responded = ms_between(started, Clock::now());
        if (code != 200) {
            progress(fmt::format("isolation: the BUSY webhook of pod {} returned {}", *pod, code));
            return false;
        }
        if (!wait_isolated(*pod, started, sample)) return false;
        if (auto visible = watch_->reported(*pod, "BUSY")) sample.report_visible = ms_between(started, *visible);

        code = fleet_->finish_recording(*pod);
        if (code != 200) progress(fmt::format("isolation: the EXPIRED webhook of pod {} returned {}", *pod, code));
        if (!watch_->wait([&] { return watch_->deleted(*pod).has_value(); }, kStepTimeout)) {
            progress("isolation: pod " + *pod + " was not deleted within 30 s of EXPIRED");
            return false;
        }
        operator_.add(sample);
        return wait_steady();
    }

    bool measure_reference() {
        auto pod = pick_idle_pod();
        if (!pod) return false;
        Sample sample;
        nlohmann::json patch = {{"metadata", {{"labels", {{"jibri.dev/state", "busy"}}}}}};
        auto started = Clock::now();
        environment_.client().merge_patch(kube::resources::pods, pool_.ns(), *pod, patch);
        sample.responded = ms_between(started, Clock::now());
        if (!wait_isolated(*pod, started, sample)) return false;

        // The jibri in it never recorded, so the benchmark removes the pod itself.
        environment_.client().remove(kube::resources::pods, pool_.ns(), *pod);
        if (!watch_->wait([&] { return watch_->deleted(*pod).has_value(); }, kStepTimeout)) return false;
        reference_.add(sample);
        return wait_steady();
    }

    std::vector<Row> rows(int failures, std::uint64_t lost) const {
        std::vector<Row> rows;
        if (operator_.left_selector.empty() || reference_.left_selector.empty()) {
            rows.push_back({"isolation", "cycles", "none completed", "", "", "", "FAILED", true});
            return rows;
        }
        bool smoke = options_.smoke;
        auto add_pair = [&](const std::string& what, const std::vector<double>& measured,
                            const std::vector<double>& reference, const std::string& reference_name) {
            for (auto [p, limit] : {std::pair{50.0, 2.5}, std::pair{99.0, 3.0}}) {
                double value = percentile(measured, p);
                double base = percentile(reference, p);
                double ratio = value / base;
                rows.push_back({"isolation", fmt::format("{}, p{:.0f}", what, p), format_ms(value),
                                format_ms(base) + " " + reference_name, format_ratio(ratio),
                                fmt::format("<= {:.1f}x", limit), verdict_at_most(ratio, limit, smoke)});
            }
        };
        add_pair("webhook to pod outside selector", operator_.left_selector, reference_.left_selector,
                 "(direct label patch)");
        add_pair("webhook to replacement pod", operator_.replacement, reference_.replacement,
                 "(replacement after direct patch)");

        rows.push_back({"isolation", "operator path p50: webhook 200 / BUSY annotation seen / selector left",
                        fmt::format("{} / {} / {}", format_ms(percentile(operator_.responded, 50)),
                                    format_ms(percentile(operator_.report_visible, 50)),
                                    format_ms(percentile(operator_.left_selector, 50))),
                        "patch 200 in " + format_ms(percentile(reference_.responded, 50)), "", "", "-"});
        auto completed = std::min(operator_.left_selector.size(), reference_.left_selector.size());
        bool all = failures == 0 && static_cast<int>(completed) == options_.cycles;
        rows.push_back({"isolation", "cycles completed", fmt::format("{} of {}", completed, options_.cycles), "", "",
                        "all", all ? "ok" : "FAILED", !all});
        rows.push_back({"isolation", "lost recordings (simulator)", std::to_string(lost), "", "", "0",
                        lost == 0 ? "ok" : "FAILED", lost != 0});
        return rows;
    }

    Environment& environment_;
    const Options& options_;
    BenchPool pool_;
    pool::LabelSelector selector_;
    std::unique_ptr<PodWatch> watch_;
    std::unique_ptr<sim::JibriFleet> fleet_;
    Samples operator_;
    Samples reference_;
};

}  // namespace

std::vector<Row> run_isolation(Environment& environment) {
    IsolationBenchmark benchmark(environment);
    return benchmark.run();
}

}  // namespace jpc::bench
