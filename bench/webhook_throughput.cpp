// Benchmark 4, webhook throughput. wrk on loopback (2 threads, 50 keep-alive connections,
// bench/webhook.lua for the POST body) against two of the operator's fast paths:
//   unknown pod:     a pod name that does not exist, which returns 404;
//   repeated status: a pod whose recorded status equals the posted one, which returns
//                    200 without an API write. wrk cannot choose its source address, so this
//                    pool has spec.webhook.verifySourceIP false.
// Reference: nginx (a temporary configuration on 127.0.0.1, as a child process stopped by
// its PID) answering 200 to the same request, with the same wrk settings. The cases run
// in rotating order, several rounds each, and the medians are reported.

#include "bench/benchmarks.h"

#include "kube/resource.h"
#include "sim/jibri_status.h"
#include "sim/webhook_sender.h"
#include "support/process.h"

#include <fmt/format.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <stdexcept>

namespace jpc::bench {

namespace {

using namespace std::chrono_literals;

constexpr const char* kKnownPod = "jibri-known";
constexpr const char* kUnknownPod = "jibri-unknown";

enum class Case { nginx, unknown_pod, repeated_status };

// Figures of one wrk run, from its BENCH line.
struct WrkResult {
    double requests_per_second = 0;
    double p50_us = 0;
    double p99_us = 0;
    std::uint64_t requests = 0;
    std::uint64_t socket_errors = 0;
    std::map<int, std::uint64_t> statuses;
    // CPU time per request of the operator and of kube-apiserver over the run; zero for nginx.
    double operator_cpu_us = 0;
    double apiserver_cpu_us = 0;
};

WrkResult parse_wrk(const std::string& output) {
    static const std::regex line(
        R"(BENCH requests=(\d+) duration_us=(\d+) p50_us=(\d+) p99_us=(\d+) connect_errors=(\d+) read_errors=(\d+) write_errors=(\d+) timeouts=(\d+) statuses=(\S*))");
    std::smatch match;
    if (!std::regex_search(output, match, line)) throw std::runtime_error("wrk printed no BENCH line: " + output);
    WrkResult result;
    result.requests = std::stoull(match[1]);
    result.requests_per_second = static_cast<double>(result.requests) / (std::stod(match[2]) / 1e6);
    result.p50_us = std::stod(match[3]);
    result.p99_us = std::stod(match[4]);
    for (int group = 5; group <= 8; ++group) result.socket_errors += std::stoull(match[group]);
    std::string statuses = match[9];
    static const std::regex pair(R"((\d+):(\d+))");
    for (auto it = std::sregex_iterator(statuses.begin(), statuses.end(), pair); it != std::sregex_iterator(); ++it) {
        result.statuses[std::stoi((*it)[1])] = std::stoull((*it)[2]);
    }
    return result;
}

bool accepts_connections(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    bool connected = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    return connected;
}

// nginx with a configuration of its own in WORK/nginx. It listens on 127.0.0.1:port only,
// keeps its pid file, error log and temporary folders in that folder, returns 200 with a
// one-line body for every request, and runs in the foreground as a child of the benchmark.
class Nginx {
public:
    Nginx(const Options& options, std::uint16_t port) : port_(port) {
        auto dir = options.work_dir + "/nginx";
        std::filesystem::create_directories(dir);
        std::ofstream(dir + "/nginx.conf") << fmt::format(R"(daemon off;
master_process on;
worker_processes auto;
pid {0}/nginx.pid;
error_log {0}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    default_type text/plain;
    client_body_temp_path {0}/client-body;
    proxy_temp_path {0}/proxy;
    fastcgi_temp_path {0}/fastcgi;
    uwsgi_temp_path {0}/uwsgi;
    scgi_temp_path {0}/scgi;
    # The operator's server has no per-connection request limit; nginx's default of 1000
    # would make wrk reconnect.
    keepalive_requests 1000000000;
    server {{
        listen 127.0.0.1:{1};
        location / {{
            return 200 "\n";
        }}
    }}
}}
)",
                                                          dir, port);
        child_ = std::make_unique<Child>(
            options, std::vector<std::string>{"nginx", "-e", dir + "/error.log", "-p", dir, "-c", dir + "/nginx.conf"},
            dir + "/output.log");
        if (!test::wait_until([&] { return !child_->running() || accepts_connections(port_); }, 10s, 20ms) ||
            !child_->running()) {
            throw std::runtime_error("nginx did not start on 127.0.0.1:" + std::to_string(port_) + "; see " + dir);
        }
    }

    ~Nginx() {
        // SIGTERM is nginx's fast shutdown: the master stops its workers, then exits.
        child_->stop(SIGTERM, 10s);
    }

    std::string url() const { return fmt::format("http://127.0.0.1:{}/webhook/ns/{}/v1/status", port_, kKnownPod); }

private:
    std::uint16_t port_;
    std::unique_ptr<Child> child_;
};

class WebhookBenchmark {
public:
    explicit WebhookBenchmark(Environment& environment)
        : environment_(environment), options_(environment.options()),
          pool_(environment, "bench-webhook", settings()) {}

    std::vector<Row> run() {
        auto created = pool_.create_isolated_pods({{kKnownPod, "127.4.0.1"}});
        auto version_before = kube::resource_version_of(created.front());
        pool_.mark_swept_now();

        auto& process = pool_.start_operator();
        if (!process.wait_ready(60s)) throw std::runtime_error("the operator did not become ready; log: " + process.log_path());
        const std::string reconciled = "jibri_pod_controller_reconcile_duration_seconds_count{result=\"success\"}";
        test::wait_until([&] { return metric_value(process.get("/metrics").second, reconciled).value_or(0) >= 1; }, 30s);
        check_answers(process.base_url());

        auto body = sim::webhook_body(kKnownPod, {sim::BusyStatus::Busy, sim::HealthStatus::Healthy}, "session-1");
        ::setenv("BENCH_WEBHOOK_BODY", body.c_str(), 1);
        Nginx nginx(options_, test::free_port());
        std::map<Case, std::string> urls = {
            {Case::nginx, nginx.url()},
            {Case::unknown_pod, fmt::format("{}/webhook/{}/{}/v1/status", process.base_url(), pool_.ns(), kUnknownPod)},
            {Case::repeated_status, fmt::format("{}/webhook/{}/{}/v1/status", process.base_url(), pool_.ns(), kKnownPod)},
        };
        std::vector<Case> order = {Case::nginx, Case::unknown_pod, Case::repeated_status};
        for (int round = 0; round < options_.wrk_rounds; ++round) {
            for (std::size_t i = 0; i < order.size(); ++i) {
                auto which = order[(i + static_cast<std::size_t>(round)) % order.size()];
                progress(fmt::format("webhook: round {} of {}, {} for {} s", round + 1, options_.wrk_rounds,
                                     name_of(which), options_.duration_seconds));
                auto apiserver = environment_.apiserver_pid();
                double operator_start = cpu_seconds(process.pid());
                double apiserver_start = cpu_seconds(apiserver);
                auto result = run_wrk(urls[which]);
                if (which != Case::nginx && result.requests > 0) {
                    auto requests = static_cast<double>(result.requests);
                    result.operator_cpu_us = (cpu_seconds(process.pid()) - operator_start) * 1e6 / requests;
                    result.apiserver_cpu_us = (cpu_seconds(apiserver) - apiserver_start) * 1e6 / requests;
                }
                results_[which].push_back(result);
            }
        }

        auto version_after = kube::resource_version_of(
            environment_.client().get(kube::resources::pods, pool_.ns(), kKnownPod));
        unchanged_ = version_after == version_before;
        pool_.stop_operator();
        return rows();
    }

private:
    static PoolSettings settings() {
        PoolSettings settings;
        settings.spare = 0;
        settings.sweep_interval_seconds = 3600;
        settings.verify_source_ip = false;
        return settings;
    }

    static std::string name_of(Case which) {
        switch (which) {
            case Case::nginx: return "nginx";
            case Case::unknown_pod: return "unknown pod";
            case Case::repeated_status: return "repeated status";
        }
        return "";
    }

    // One request of each case before the load, so a wrong setup fails with a clear message.
    void check_answers(const std::string& base_url) {
        sim::WebhookSender sender;
        auto body = sim::webhook_body(kKnownPod, {sim::BusyStatus::Busy, sim::HealthStatus::Healthy}, "session-1");
        auto known = sender.post_status("127.0.0.1", fmt::format("{}/webhook/{}/{}/v1/status", base_url, pool_.ns(), kKnownPod), body);
        auto unknown = sender.post_status("127.0.0.1", fmt::format("{}/webhook/{}/{}/v1/status", base_url, pool_.ns(), kUnknownPod), body);
        if (known.status_code != 200 || unknown.status_code != 404) {
            throw std::runtime_error(fmt::format("the operator returned {} for the known pod and {} for the unknown pod, "
                                                 "not 200 and 404",
                                                 known.status_code, unknown.status_code));
        }
    }

    WrkResult run_wrk(const std::string& url) {
        auto script = std::string(JPC_SOURCE_DIR) + "/bench/webhook.lua";
        auto result = test::run_process({"wrk", "-t2", "-c50", fmt::format("-d{}s", options_.duration_seconds),
                                         "--timeout", "5s", "-s", script, url});
        if (result.exit_code != 0) throw std::runtime_error("wrk exited with " + std::to_string(result.exit_code) + ": " + result.err);
        return parse_wrk(result.out);
    }

    std::vector<Row> rows() const {
        std::vector<Row> rows;
        auto median = [&](Case which, auto field) {
            std::vector<double> values;
            for (const auto& result : results_.at(which)) values.push_back(field(result));
            return percentile(values, 50);
        };
        auto rps = [](const WrkResult& result) { return result.requests_per_second; };
        auto p99 = [](const WrkResult& result) { return result.p99_us / 1000.0; };
        double nginx_rps = median(Case::nginx, rps);
        double nginx_p99 = median(Case::nginx, p99);
        auto runs = fmt::format("median of {} runs of {} s", options_.wrk_rounds, options_.duration_seconds);

        for (auto [which, label, expected] : {std::tuple{Case::unknown_pod, "unknown pod -> 404", 404},
                                              std::tuple{Case::repeated_status,
                                                         "repeated status -> 200 (verifySourceIP false)", 200}}) {
            double value = median(which, rps);
            rows.push_back({"webhook", fmt::format("{}, requests/s, {}", label, runs), fmt::format("{:.0f}/s", value),
                            fmt::format("{:.0f}/s (nginx)", nginx_rps), format_ratio(value / nginx_rps), ">= 0.3x",
                            verdict_at_least(value / nginx_rps, 0.3, options_.smoke)});
            double latency = median(which, p99);
            rows.push_back({"webhook", fmt::format("{}, p99 latency", label), format_ms(latency),
                            format_ms(nginx_p99) + " (nginx)", format_ratio(latency / nginx_p99), "-", "-"});
            auto operator_cpu = median(which, [](const WrkResult& result) { return result.operator_cpu_us; });
            auto apiserver_cpu = median(which, [](const WrkResult& result) { return result.apiserver_cpu_us; });
            rows.push_back({"webhook", fmt::format("{}, CPU per request: operator / kube-apiserver", label),
                            fmt::format("{:.0f} us / {:.0f} us", operator_cpu, apiserver_cpu), "", "", "", "-"});

            std::uint64_t total = 0;
            std::uint64_t matching = 0;
            std::uint64_t errors = 0;
            for (const auto& result : results_.at(which)) {
                total += result.requests;
                errors += result.socket_errors;
                auto found = result.statuses.find(expected);
                if (found != result.statuses.end()) matching += found->second;
            }
            bool all = matching == total && errors == 0;
            rows.push_back({"webhook", fmt::format("{}: responses with status {}, socket errors", label, expected),
                            fmt::format("{} of {}, {} errors", matching, total, errors), "", "", "all, 0",
                            all ? "ok" : "FAILED", !all});
        }
        rows.push_back({"webhook", "repeated status: the pod's resourceVersion after every run",
                        unchanged_ ? "unchanged" : "CHANGED", "", "", "unchanged", unchanged_ ? "ok" : "FAILED",
                        !unchanged_});
        return rows;
    }

    Environment& environment_;
    const Options& options_;
    BenchPool pool_;
    std::map<Case, std::vector<WrkResult>> results_;
    bool unchanged_ = false;
};

}  // namespace

std::vector<Row> run_webhook_throughput(Environment& environment) {
    WebhookBenchmark benchmark(environment);
    return benchmark.run();
}

}  // namespace jpc::bench
