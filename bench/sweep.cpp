// Benchmark 2, a sweep under hung jibris. Isolated pods, each with its own podIP spread
// over 127.0.0.0/8 and a health API served by the simulator: every tenth pod accepts the
// connection and never responds (its jibri is BUSY), every tenth reports EXPIRED, and the
// rest report BUSY. The operator sweeps them every spec.sweepIntervalSeconds. Each sweep
// is read from the operator's log line "sweeper: pool ...: probed N pods in M ms ...".
// Between sweeps the benchmark replaces the EXPIRED pods that the operator deleted, with
// new pods on the same addresses, so every sweep probes the same mix.
//
// Reference: the same health requests sent by the benchmark one after another, each with
// the same timeout.

#include "bench/benchmarks.h"

#include "kube/resource.h"
#include "sim/health_server.h"
#include "sim/http_client.h"
#include "support/process.h"

#include <fmt/format.h>

#include <map>
#include <regex>
#include <set>
#include <stdexcept>

namespace jpc::bench {

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

enum class Role { hung, expired, busy };

Role role_of(std::size_t index) {
    if (index % 10 == 0) return Role::hung;
    if (index % 10 == 1) return Role::expired;
    return Role::busy;
}

// One sweep as the operator logged it.
struct Sweep {
    double end_time = 0;  // log timestamp, seconds since the epoch
    double duration_ms = 0;
    std::size_t probed = 0;
    std::size_t answered = 0;
    std::size_t failed = 0;
    std::size_t recovered_expired = 0;
    // From the sweep's start to the log line of its last EXPIRED report written. The
    // sweep records each result as its probe finishes, so this ends well before the hung
    // probes time out. nullopt when the sweep recorded none.
    std::optional<double> expired_done_ms;
};

std::vector<Sweep> read_sweeps(const std::string& log_path) {
    static const std::regex summary(
        R"(sweeper: pool \S+: probed (\d+) pods in (\d+) ms: (\d+) answered, (\d+) failed, (\d+) BUSY and (\d+) EXPIRED recovered)");
    auto lines = read_operator_log(log_path);
    std::vector<Sweep> sweeps;
    for (const auto& line : lines) {
        std::smatch match;
        if (!std::regex_search(line.text, match, summary)) continue;
        Sweep sweep;
        sweep.end_time = line.time;
        sweep.probed = std::stoul(match[1]);
        sweep.duration_ms = std::stod(match[2]);
        sweep.answered = std::stoul(match[3]);
        sweep.failed = std::stoul(match[4]);
        sweep.recovered_expired = std::stoul(match[6]);
        double start = sweep.end_time - sweep.duration_ms / 1000.0;
        for (const auto& other : lines) {
            // The log has millisecond-rounded durations; allow 2 ms before the start.
            if (other.time >= start - 0.002 && other.time <= sweep.end_time &&
                other.text.find("sweeper: pod ") != std::string::npos &&
                other.text.find("EXPIRED but no webhook recorded it") != std::string::npos) {
                sweep.expired_done_ms = (other.time - start) * 1000.0;
            }
        }
        sweeps.push_back(sweep);
    }
    return sweeps;
}

class SweepBenchmark {
public:
    explicit SweepBenchmark(Environment& environment)
        : environment_(environment), options_(environment.options()),
          pool_(environment, "bench-sweep", settings(options_)), health_(health_options(pool_.settings())) {}

    std::vector<Row> run() {
        auto count = static_cast<std::size_t>(options_.sweep_pods);
        progress(fmt::format("sweep: serving {} health endpoints and creating {} isolated pods", count, count));
        for (std::size_t i = 0; i < count; ++i) add_health_endpoint(i);

        std::vector<std::pair<std::string, std::string>> pods;
        for (std::size_t i = 0; i < count; ++i) pods.emplace_back(fmt::format("jibri-{:05}", i), spread_address(i));
        auto created = pool_.create_isolated_pods(pods);
        for (std::size_t i = 0; i < count; ++i) {
            if (role_of(i) == Role::expired) {
                expired_.insert(pods[i].first);
            } else {
                busy_versions_[pods[i].first] = kube::resource_version_of(created[i]);
            }
        }
        expired_total_ = expired_.size();

        auto& process = pool_.start_operator();
        if (!process.wait_ready(60s)) throw std::runtime_error("the operator did not become ready; log: " + process.log_path());

        int expired_deleted = 0;
        auto wait_per_sweep = std::chrono::seconds(2 * options_.sweep_interval_seconds + 60);
        for (int round = 1; round <= options_.sweep_rounds; ++round) {
            progress(fmt::format("sweep: waiting for sweep {} of {}", round, options_.sweep_rounds));
            bool logged = test::wait_until(
                [&] { return read_sweeps(process.log_path()).size() >= static_cast<std::size_t>(round); },
                wait_per_sweep, 100ms);
            if (!logged) throw std::runtime_error(fmt::format("sweep {} was not logged in time; log: {}", round, process.log_path()));

            expired_deleted += static_cast<int>(wait_expired_deleted());
            if (round < options_.sweep_rounds) replace_expired_pods(round + 1);
        }
        auto sweeps = read_sweeps(process.log_path());
        sweeps.resize(static_cast<std::size_t>(options_.sweep_rounds));
        auto [code, metrics] = process.get("/metrics");
        auto labels = "{namespace=\"" + pool_.ns() + "\",pool=\"pool\"}";
        auto metric_sum = metric_value(metrics, "jibri_pod_controller_sweep_duration_seconds_sum" + labels);
        auto metric_count = metric_value(metrics, "jibri_pod_controller_sweep_duration_seconds_count" + labels);
        pool_.stop_operator();

        auto untouched = count_untouched();
        auto reference = sequential_sweep();
        return rows(sweeps, expired_deleted, untouched, reference, metric_sum, metric_count);
    }

private:
    static PoolSettings settings(const Options& options) {
        PoolSettings settings;
        settings.spare = 0;
        settings.sweep_interval_seconds = options.sweep_interval_seconds;
        settings.health_timeout_seconds = options.health_timeout_seconds;
        settings.health_port = test::free_port();
        return settings;
    }

    static sim::HealthServerOptions health_options(const PoolSettings& settings) {
        sim::HealthServerOptions options;
        options.port = settings.health_port;
        return options;
    }

    void add_health_endpoint(std::size_t index) {
        using sim::BusyStatus;
        using sim::HealthBehaviour;
        switch (role_of(index)) {
            case Role::hung:
                health_.add(spread_address(index), {BusyStatus::Busy, sim::HealthStatus::Healthy}, HealthBehaviour::Hang);
                break;
            case Role::expired:
                health_.add(spread_address(index), {BusyStatus::Expired, sim::HealthStatus::Healthy});
                break;
            case Role::busy:
                health_.add(spread_address(index), {BusyStatus::Busy, sim::HealthStatus::Healthy});
                break;
        }
    }

    std::map<std::string, nlohmann::json> list_pods() {
        kube::ListOptions list;
        list.label_selector = "app=jibri";
        auto items = environment_.client().list_all(kube::resources::pods, pool_.ns(), list)["items"];
        std::map<std::string, nlohmann::json> pods;
        for (auto& item : items) {
            auto name = kube::name_of(item);
            pods[name] = std::move(item);
        }
        return pods;
    }

    // Waits up to 60 s until the EXPIRED pods of this round are gone; returns how many are.
    std::size_t wait_expired_deleted() {
        std::size_t gone = 0;
        test::wait_until(
            [&] {
                auto pods = list_pods();
                gone = 0;
                for (const auto& name : expired_) gone += pods.count(name) == 0 ? 1 : 0;
                return gone == expired_.size();
            },
            60s, 200ms);
        return gone;
    }

    void replace_expired_pods(int round) {
        std::vector<std::pair<std::string, std::string>> pods;
        for (std::size_t i = 0; i < static_cast<std::size_t>(options_.sweep_pods); ++i) {
            if (role_of(i) == Role::expired) pods.emplace_back(fmt::format("jibri-r{}-{:05}", round, i), spread_address(i));
        }
        pool_.create_isolated_pods(pods);
        expired_.clear();
        for (const auto& pod : pods) expired_.insert(pod.first);
        expired_total_ += pods.size();
    }

    // BUSY pods (hung ones included) that still exist with the resourceVersion they had
    // after the benchmark created them.
    std::size_t count_untouched() {
        auto pods = list_pods();
        std::size_t untouched = 0;
        for (const auto& [name, version] : busy_versions_) {
            auto found = pods.find(name);
            if (found != pods.end() && kube::resource_version_of(found->second) == version) ++untouched;
        }
        return untouched;
    }

    struct Reference {
        double total_ms = 0;
        std::size_t answered = 0;
        std::size_t timed_out = 0;
    };

    Reference sequential_sweep() {
        auto count = static_cast<std::size_t>(options_.sweep_pods);
        auto timeout = std::chrono::seconds(options_.health_timeout_seconds);
        progress(fmt::format("sweep: reference, {} health requests one after another (about {} s)", count,
                             count / 10 * static_cast<std::size_t>(options_.health_timeout_seconds)));
        Reference reference;
        auto started = Clock::now();
        for (std::size_t i = 0; i < count; ++i) {
            auto url = fmt::format("http://{}:{}/jibri/api/v1.0/health", spread_address(i), pool_.settings().health_port);
            auto result = sim::http_get("127.0.0.1", url, timeout);
            if (result.ok() && result.status_code == 200) ++reference.answered;
            if (result.error == sim::ExchangeError::TimedOut) ++reference.timed_out;
        }
        reference.total_ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
        return reference;
    }

    std::vector<Row> rows(const std::vector<Sweep>& sweeps, int expired_deleted, std::size_t untouched,
                          const Reference& reference, std::optional<double> metric_sum,
                          std::optional<double> metric_count) const {
        std::vector<Row> rows;
        auto count = static_cast<std::size_t>(options_.sweep_pods);
        auto hung = (count + 9) / 10;
        std::vector<double> durations;
        std::vector<double> expired_done;
        std::size_t complete = 0;
        for (const auto& sweep : sweeps) {
            // A sweep that started while the benchmark was still replacing EXPIRED pods
            // probed a different mix; it is counted, not measured.
            if (sweep.probed != count || sweep.recovered_expired != count / 10 + (count % 10 > 1 ? 1 : 0)) continue;
            ++complete;
            durations.push_back(sweep.duration_ms);
            if (sweep.expired_done_ms) expired_done.push_back(*sweep.expired_done_ms);
        }
        bool all_complete = complete == sweeps.size();
        rows.push_back({"sweep", "sweeps that probed every pod and recovered every EXPIRED",
                        fmt::format("{} of {}", complete, sweeps.size()), "", "", "all", all_complete ? "ok" : "FAILED",
                        !all_complete});
        if (durations.empty()) return rows;

        double limit_ms = (options_.health_timeout_seconds + 1) * 1000.0;
        auto what = fmt::format("sweep of {} pods ({} hung), timeout {} s", count, hung, options_.health_timeout_seconds);
        for (double p : {50.0, 99.0}) {
            double value = percentile(durations, p);
            rows.push_back({"sweep", fmt::format("{}, p{:.0f} of {}", what, p, durations.size()), format_ms(value),
                            format_ms(reference.total_ms) + " (sequential GETs)", format_ratio(value / reference.total_ms),
                            fmt::format("<= {} (timeout + 1 s)", format_ms(limit_ms)),
                            verdict_at_most(value, limit_ms, options_.smoke)});
        }
        if (!expired_done.empty()) {
            rows.push_back({"sweep", "p50 split: last EXPIRED recorded / sweep end (hung probes timed out)",
                            fmt::format("{} / {}", format_ms(percentile(expired_done, 50)),
                                        format_ms(percentile(durations, 50))),
                            fmt::format("{} answered, {} timed out", reference.answered, reference.timed_out), "", "",
                            "-"});
        }
        if (metric_sum && metric_count && *metric_count > 0) {
            rows.push_back({"sweep", "mean sweep duration from /metrics",
                            format_ms(*metric_sum / *metric_count * 1000.0),
                            fmt::format("{:.0f} sweeps", *metric_count), "", "", "-"});
        }
        bool all_deleted = expired_deleted == static_cast<int>(expired_total_);
        rows.push_back({"sweep", "EXPIRED pods deleted", fmt::format("{} of {}", expired_deleted, expired_total_), "",
                        "", "all", all_deleted ? "ok" : "FAILED", !all_deleted});
        bool all_untouched = untouched == busy_versions_.size();
        rows.push_back({"sweep", "BUSY pods (hung ones included) with unchanged resourceVersion",
                        fmt::format("{} of {}", untouched, busy_versions_.size()), "", "", "all",
                        all_untouched ? "ok" : "FAILED", !all_untouched});
        return rows;
    }

    Environment& environment_;
    const Options& options_;
    BenchPool pool_;
    sim::HealthServer health_;
    std::set<std::string> expired_;  // EXPIRED pods of the current round
    std::size_t expired_total_ = 0;
    std::map<std::string, std::string> busy_versions_;  // by pod name
};

}  // namespace

std::vector<Row> run_sweep(Environment& environment) {
    SweepBenchmark benchmark(environment);
    return benchmark.run();
}

}  // namespace jpc::bench
