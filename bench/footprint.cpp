// Benchmark 3, footprint with many pool pods in the operator's cache: isolated BUSY pods
// with pod IPs, which the operator caches and counts but does not act on. The pool's
// lastSweepTime is set to now with a one-hour sweep interval, so no sweep falls into the
// measurement (benchmark 2 measures sweeps).
//
// Figures and references:
//   start to /readyz and to the first successful reconcile, over several starts, against
//     a paged list of the same pods by the benchmark on a new connection (the least any
//     controller must do before its cache is synced);
//   steady VmRSS, peak VmHWM and CPU over an idle window, against kube-apiserver's own
//     numbers for the same window;
//   CPU per pod update during bursts of annotation patches, against kube-apiserver's CPU
//     over the same burst divided by the same number of updates.

#include "bench/benchmarks.h"

#include "kube/resource.h"
#include "support/process.h"

#include <fmt/format.h>

#include <stdexcept>
#include <thread>

namespace jpc::bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr double kMiB = 1024.0;  // KiB per MiB

double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

// One timed start of the operator, in milliseconds from the spawn.
struct Start {
    double first_log = 0;
    double pods_listed = 0;
    double ready = 0;
    double first_reconcile = 0;
};

class FootprintBenchmark {
public:
    explicit FootprintBenchmark(Environment& environment)
        : environment_(environment), options_(environment.options()),
          pool_(environment, "bench-footprint", settings()) {}

    std::vector<Row> run() {
        auto count = static_cast<std::size_t>(options_.footprint_pods);
        pool_.mark_swept_now();
        measure_baseline();

        progress(fmt::format("footprint: creating {} isolated pods", count));
        std::vector<std::pair<std::string, std::string>> pods;
        for (std::size_t i = 0; i < count; ++i) pods.emplace_back(fmt::format("jibri-{:05}", i), spread_address(i));
        pool_.create_isolated_pods(pods);
        names_.reserve(count);
        for (const auto& pod : pods) names_.push_back(pod.first);

        progress(fmt::format("footprint: {} reference lists and {} operator starts", options_.starts, options_.starts));
        std::vector<double> lists;
        std::vector<Start> starts;
        for (int i = 0; i < options_.starts; ++i) {
            lists.push_back(time_list());
            starts.push_back(time_start(i + 1 < options_.starts));
        }
        auto& process = pool_.operator_process();
        auto [code, metrics] = process.get("/metrics");
        cached_ = metric_value(metrics, "jibri_pod_controller_cached_pods").value_or(-1);

        wait_quiet(process.pid(), 30s);
        progress(fmt::format("footprint: idle for {} s", options_.idle_seconds));
        measure_idle(process.pid());

        progress(fmt::format("footprint: {} bursts of {} annotation patches", options_.bursts, options_.burst_updates));
        for (int burst = 0; burst < options_.bursts; ++burst) measure_burst(process.pid(), burst);

        peak_kib_ = status_kib(process.pid(), "VmHWM");
        apiserver_peak_kib_ = status_kib(environment_.apiserver_pid(), "VmHWM");
        pool_.stop_operator();
        return rows(lists, starts);
    }

private:
    static PoolSettings settings() {
        PoolSettings settings;
        settings.spare = 0;
        settings.sweep_interval_seconds = 3600;
        return settings;
    }

    // VmRSS of an operator whose pool has no pods, once it has reconciled and gone quiet,
    // so that the rows can show what the cached pods add.
    void measure_baseline() {
        progress("footprint: operator with no pods, for the baseline VmRSS");
        auto& process = pool_.start_operator();
        const std::string reconciled = "jibri_pod_controller_reconcile_duration_seconds_count{result=\"success\"}";
        bool ready = test::wait_until(
            [&] { return metric_value(process.get("/metrics").second, reconciled).value_or(0) >= 1; }, 60s, 20ms);
        if (!ready) throw std::runtime_error("the operator did not reconcile within 60 s; log: " + process.log_path());
        wait_quiet(process.pid(), 30s);
        baseline_kib_ = status_kib(process.pid(), "VmRSS");
        pool_.stop_operator();
    }

    // A paged list of the pool's pods (500 a page, as the operator's informer lists) on a
    // client with new connections, in milliseconds.
    double time_list() {
        auto client = environment_.new_client();
        kube::ListOptions list;
        list.label_selector = "app=jibri";
        list.limit = 500;
        auto started = Clock::now();
        auto items = client.list_all(kube::resources::pods, pool_.ns(), list)["items"];
        double elapsed = seconds_since(started) * 1000.0;
        if (items.size() != names_.size()) {
            throw std::runtime_error(fmt::format("the reference list returned {} pods, not {}", items.size(), names_.size()));
        }
        return elapsed;
    }

    Start time_start(bool stop_after) {
        auto spawned_at = std::chrono::system_clock::now();
        auto started = Clock::now();
        auto& process = pool_.start_operator();
        Start start;

        bool ready = test::wait_until([&] { return !process.running() || process.get("/readyz").first == 200; }, 60s, 5ms);
        if (!ready || !process.running()) throw std::runtime_error("the operator did not become ready; log: " + process.log_path());
        start.ready = seconds_since(started) * 1000.0;

        const std::string reconciled = "jibri_pod_controller_reconcile_duration_seconds_count{result=\"success\"}";
        bool reconciled_once = test::wait_until(
            [&] { return metric_value(process.get("/metrics").second, reconciled).value_or(0) >= 1; }, 60s, 5ms);
        if (!reconciled_once) throw std::runtime_error("the operator did not reconcile within 60 s; log: " + process.log_path());
        start.first_reconcile = seconds_since(started) * 1000.0;

        // The log's timestamps split the start: the first line follows the kubeconfig load,
        // the pod informer's "listed N objects" line ends its first list.
        auto spawn_time = std::chrono::duration<double>(spawned_at.time_since_epoch()).count();
        for (const auto& line : read_operator_log(process.log_path())) {
            if (start.first_log == 0) start.first_log = (line.time - spawn_time) * 1000.0;
            if (line.text.find("informer pods") != std::string::npos && line.text.find(" listed ") != std::string::npos) {
                start.pods_listed = (line.time - spawn_time) * 1000.0;
            }
        }
        progress(fmt::format("footprint: start {}: ready after {}, first reconcile after {}", process.log_path(),
                             format_ms(start.ready), format_ms(start.first_reconcile)));
        if (stop_after) pool_.stop_operator();
        return start;
    }

    // Waits until the process used no CPU tick for one second, up to `timeout`. Returns
    // the seconds waited.
    static double wait_quiet(pid_t pid, std::chrono::milliseconds timeout) {
        auto started = Clock::now();
        double last = cpu_seconds(pid);
        auto quiet_since = Clock::now();
        while (Clock::now() - started < timeout) {
            std::this_thread::sleep_for(100ms);
            double now = cpu_seconds(pid);
            if (now != last) {
                last = now;
                quiet_since = Clock::now();
            } else if (Clock::now() - quiet_since >= 1s) {
                break;
            }
        }
        return seconds_since(started);
    }

    void measure_idle(pid_t pid) {
        auto apiserver = environment_.apiserver_pid();
        double cpu_start = cpu_seconds(pid);
        double apiserver_start = cpu_seconds(apiserver);
        auto started = Clock::now();
        for (int second = 0; second < options_.idle_seconds; ++second) {
            std::this_thread::sleep_until(started + std::chrono::seconds(second + 1));
            rss_kib_.push_back(static_cast<double>(status_kib(pid, "VmRSS")));
            apiserver_rss_kib_.push_back(static_cast<double>(status_kib(apiserver, "VmRSS")));
        }
        double elapsed = seconds_since(started);
        idle_cpu_ms_per_s_ = (cpu_seconds(pid) - cpu_start) * 1000.0 / elapsed;
        apiserver_idle_cpu_ms_per_s_ = (cpu_seconds(apiserver) - apiserver_start) * 1000.0 / elapsed;
    }

    // Successful reconciles so far and their total duration in seconds, from /metrics.
    std::pair<double, double> reconcile_totals() {
        auto metrics = pool_.operator_process().get("/metrics").second;
        const std::string name = "jibri_pod_controller_reconcile_duration_seconds";
        const std::string labels = "{result=\"success\"}";
        return {metric_value(metrics, name + "_count" + labels).value_or(0),
                metric_value(metrics, name + "_sum" + labels).value_or(0)};
    }

    void measure_burst(pid_t pid, int burst) {
        auto apiserver = environment_.apiserver_pid();
        auto updates = static_cast<std::size_t>(options_.burst_updates);
        auto [reconciles_start, reconcile_seconds_start] = reconcile_totals();
        double cpu_start = cpu_seconds(pid);
        double apiserver_start = cpu_seconds(apiserver);
        auto& client = environment_.client();
        parallel_for(updates, 4, [&](std::size_t i) {
            const auto& name = names_[(static_cast<std::size_t>(burst) * updates + i) % names_.size()];
            nlohmann::json patch = {{"metadata", {{"annotations", {{"bench.jibri.dev/burst", std::to_string(burst)}}}}}};
            client.merge_patch(kube::resources::pods, pool_.ns(), name, patch);
        });
        // The operator has handled the burst when it stops using CPU.
        wait_quiet(pid, 60s);
        burst_cpu_us_.push_back((cpu_seconds(pid) - cpu_start) * 1e6 / static_cast<double>(updates));
        apiserver_burst_cpu_us_.push_back((cpu_seconds(apiserver) - apiserver_start) * 1e6 / static_cast<double>(updates));
        auto [reconciles_end, reconcile_seconds_end] = reconcile_totals();
        double reconciles = reconciles_end - reconciles_start;
        burst_reconciles_.push_back(reconciles);
        if (reconciles > 0) burst_reconcile_ms_.push_back((reconcile_seconds_end - reconcile_seconds_start) * 1000.0 / reconciles);
    }

    std::vector<Row> rows(const std::vector<double>& lists, const std::vector<Start>& starts) const {
        std::vector<Row> rows;
        bool smoke = options_.smoke;
        auto pods = names_.size();
        const std::string bench = "footprint";

        bool cached_all = cached_ == static_cast<double>(pods);
        rows.push_back({bench, "pods in the operator's cache (cached_pods metric)",
                        fmt::format("{:.0f} of {}", cached_, pods), "", "", "all", cached_all ? "ok" : "FAILED",
                        !cached_all});

        double rss = percentile(rss_kib_, 50) / kMiB;
        double apiserver_rss = percentile(apiserver_rss_kib_, 50) / kMiB;
        rows.push_back({bench, fmt::format("steady VmRSS, median of {} samples over the idle window", rss_kib_.size()),
                        fmt::format("{:.1f} MiB", rss), fmt::format("{:.1f} MiB (kube-apiserver)", apiserver_rss),
                        format_ratio(rss / apiserver_rss), "<= 32 MiB", verdict_at_most(rss, 32, smoke)});
        double baseline = static_cast<double>(baseline_kib_) / kMiB;
        rows.push_back({bench, "VmRSS split: with no pods / added per cached pod",
                        fmt::format("{:.1f} MiB / {:.1f} KiB", baseline,
                                    (rss - baseline) * kMiB / static_cast<double>(pods)),
                        "", "", "", "-"});
        double peak = static_cast<double>(peak_kib_) / kMiB;
        double apiserver_peak = static_cast<double>(apiserver_peak_kib_) / kMiB;
        rows.push_back({bench, "peak VmHWM, at the end", fmt::format("{:.1f} MiB", peak),
                        fmt::format("{:.1f} MiB (kube-apiserver)", apiserver_peak),
                        format_ratio(peak / apiserver_peak), "<= 32 MiB", verdict_at_most(peak, 32, smoke)});

        rows.push_back({bench, fmt::format("idle CPU over {} s (10 ms clock ticks)", options_.idle_seconds),
                        fmt::format("{:.2f} ms/s", idle_cpu_ms_per_s_),
                        fmt::format("{:.2f} ms/s (kube-apiserver)", apiserver_idle_cpu_ms_per_s_),
                        apiserver_idle_cpu_ms_per_s_ > 0 ? format_ratio(idle_cpu_ms_per_s_ / apiserver_idle_cpu_ms_per_s_) : "-",
                        "< 1 ms/s", verdict_below(idle_cpu_ms_per_s_, 1.0, smoke)});

        std::vector<double> ready;
        std::vector<double> reconciled;
        std::vector<double> first_log;
        std::vector<double> listed;
        for (const auto& start : starts) {
            ready.push_back(start.ready);
            reconciled.push_back(start.first_reconcile);
            first_log.push_back(start.first_log);
            listed.push_back(start.pods_listed);
        }
        double list = percentile(lists, 50);
        auto reference = format_ms(list) + " (paged list of the pods)";
        rows.push_back({bench, fmt::format("start to /readyz 200, p50 of {}", starts.size()),
                        format_ms(percentile(ready, 50)), reference, format_ratio(percentile(ready, 50) / list), "-",
                        "-"});
        for (double p : {50.0, 99.0}) {
            double value = percentile(reconciled, p);
            double base = percentile(lists, p);
            rows.push_back({bench, fmt::format("start to first reconcile, p{:.0f} of {}", p, starts.size()),
                            format_ms(value), format_ms(base) + " (paged list, p" + fmt::format("{:.0f}", p) + ")",
                            format_ratio(value / base), "<= 2000 ms", verdict_at_most(value, 2000, smoke)});
        }
        rows.push_back({bench, "start split p50: first log line / pods listed / ready / reconciled",
                        fmt::format("{} / {} / {} / {}", format_ms(percentile(first_log, 50)),
                                    format_ms(percentile(listed, 50)), format_ms(percentile(ready, 50)),
                                    format_ms(percentile(reconciled, 50))),
                        "", "", "", "-"});

        double per_event = percentile(burst_cpu_us_, 50);
        double apiserver_per_event = percentile(apiserver_burst_cpu_us_, 50);
        rows.push_back({bench,
                        fmt::format("CPU per pod update, median of {} bursts of {}", burst_cpu_us_.size(),
                                    options_.burst_updates),
                        fmt::format("{:.0f} us", per_event),
                        fmt::format("{:.0f} us (kube-apiserver)", apiserver_per_event),
                        format_ratio(per_event / apiserver_per_event), "-", "-"});
        if (!burst_reconcile_ms_.empty()) {
            rows.push_back({bench, "per burst, median: reconciles / mean time of one reconcile",
                            fmt::format("{:.0f} / {}", percentile(burst_reconciles_, 50),
                                        format_ms(percentile(burst_reconcile_ms_, 50))),
                            "", "", "", "-"});
        }
        return rows;
    }

    Environment& environment_;
    const Options& options_;
    BenchPool pool_;
    std::vector<std::string> names_;
    double cached_ = -1;
    std::vector<double> rss_kib_;
    std::vector<double> apiserver_rss_kib_;
    double idle_cpu_ms_per_s_ = 0;
    double apiserver_idle_cpu_ms_per_s_ = 0;
    std::vector<double> burst_cpu_us_;
    std::vector<double> apiserver_burst_cpu_us_;
    std::vector<double> burst_reconciles_;
    std::vector<double> burst_reconcile_ms_;
    long baseline_kib_ = 0;
    long peak_kib_ = 0;
    long apiserver_peak_kib_ = 0;
};

}  // namespace

std::vector<Row> run_footprint(Environment& environment) {
    FootprintBenchmark benchmark(environment);
    return benchmark.run();
}

}  // namespace jpc::bench
