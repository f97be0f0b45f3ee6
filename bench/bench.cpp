#include "bench/bench.h"

#include "jibri/annotations.h"
#include "kube/config.h"
#include "kube/resource.h"
#include "support/process.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace jpc::bench {

namespace {

using namespace std::chrono_literals;

const auto run_started = std::chrono::steady_clock::now();

std::string missed_by(double percent) {
    if (percent < 10) return fmt::format("missed by {:.1f}%", percent);
    return fmt::format("missed by {:.0f}%", percent);
}

nlohmann::json deployment_object() {
    nlohmann::json labels = {{"app", "jibri"}, {"jibri.dev/state", "idle"}};
    return {
        {"apiVersion", "apps/v1"},
        {"kind", "Deployment"},
        {"metadata", {{"name", "jibri"}}},
        {"spec",
         {{"replicas", 0},
          {"selector", {{"matchLabels", labels}}},
          {"template",
           {{"metadata", {{"labels", labels}}},
            {"spec", {{"containers", {{{"name", "jibri"}, {"image", "jitsi/jibri:stable"}}}}}}}}}},
    };
}

nlohmann::json pool_object(const PoolSettings& settings) {
    return {
        {"apiVersion", "jibri.dev/v1alpha1"},
        {"kind", "JibriPool"},
        {"metadata", {{"name", "pool"}}},
        {"spec",
         {{"deploymentName", "jibri"},
          {"spare", settings.spare},
          {"busyLabels", {{"jibri.dev/state", "busy"}}},
          {"sweepIntervalSeconds", settings.sweep_interval_seconds},
          {"health", {{"port", settings.health_port}, {"timeoutSeconds", settings.health_timeout_seconds}}},
          {"webhook", {{"verifySourceIP", settings.verify_source_ip}}}}},
    };
}

// The annotations that the operator writes when a jibri reports BUSY and the isolation
// that follows, dated a minute ago so that any new report is newer.
nlohmann::json recorded_busy_annotations() {
    auto reported_at = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now() - 60s);
    auto patch = jibri::build_report_patch({jibri::BusyStatus::busy, jibri::HealthStatus::healthy, std::nullopt},
                                           reported_at);
    auto annotations = patch["metadata"]["annotations"];
    annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"] = "false";
    return annotations;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path + ": the file is missing, or its process has exited");
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

}  // namespace

bool Options::selected(const std::string& name) const {
    return only.empty() || std::find(only.begin(), only.end(), name) != only.end();
}

double percentile(std::vector<double> samples, double p) {
    if (samples.empty()) throw std::invalid_argument("percentile: no samples to compute it from");
    std::sort(samples.begin(), samples.end());
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(samples.size())));
    rank = std::clamp<std::size_t>(rank, 1, samples.size());
    return samples[rank - 1];
}

std::string format_ms(double milliseconds) {
    if (milliseconds < 10) return fmt::format("{:.2f} ms", milliseconds);
    if (milliseconds < 100) return fmt::format("{:.1f} ms", milliseconds);
    return fmt::format("{:.0f} ms", milliseconds);
}

std::string format_ratio(double ratio) {
    if (ratio < 0.1) return fmt::format("{:.4f}x", ratio);
    return fmt::format("{:.2f}x", ratio);
}

std::string verdict_at_most(double value, double limit, bool smoke) {
    if (smoke) return "not checked (smoke)";
    if (value <= limit) return "met";
    return missed_by((value / limit - 1.0) * 100.0);
}

std::string verdict_below(double value, double limit, bool smoke) {
    if (smoke) return "not checked (smoke)";
    if (value < limit) return "met";
    return missed_by((value / limit - 1.0) * 100.0);
}

std::string verdict_at_least(double value, double limit, bool smoke) {
    if (smoke) return "not checked (smoke)";
    if (value >= limit) return "met";
    return missed_by((1.0 - value / limit) * 100.0);
}

void progress(const std::string& message) {
    static std::mutex mutex;
    auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_started).count();
    std::lock_guard lock(mutex);
    std::cerr << fmt::format("[{:7.1f} s] {}\n", elapsed, message) << std::flush;
}

double cpu_seconds(pid_t pid) {
    auto text = read_file("/proc/" + std::to_string(pid) + "/stat");
    // The command name in field 2 may contain spaces and parentheses, so the fields are
    // counted from the last ')'. utime and stime are fields 14 and 15.
    auto close = text.rfind(')');
    if (close == std::string::npos) {
        throw std::runtime_error("cannot parse /proc/" + std::to_string(pid) + "/stat: no ')' after the command name");
    }
    std::istringstream fields(text.substr(close + 1));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int number = 3; number <= 15 && fields >> field; ++number) {
        if (number == 14) utime = std::stoull(field);
        if (number == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

long status_kib(pid_t pid, const std::string& field) {
    std::istringstream lines(read_file("/proc/" + std::to_string(pid) + "/status"));
    std::string line;
    while (std::getline(lines, line)) {
        if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
    }
    throw std::runtime_error("/proc/" + std::to_string(pid) + "/status has no " + field + " line");
}

void register_child(const Options& options, pid_t pid, const std::string& executable) {
    std::ofstream out(options.work_dir + "/children", std::ios::app);
    out << pid << " " << executable << "\n";
}

Child::Child(const Options& options, const std::vector<std::string>& argv, const std::string& log_path) {
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
    register_child(options, pid_, argv[0]);
}

Child::~Child() {
    if (running()) stop(SIGTERM, 10s);
}

bool Child::running() {
    if (pid_ <= 0 || exit_code_ >= 0) return false;
    int status = 0;
    pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == 0) return true;
    if (result == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
}

int Child::stop(int signal, std::chrono::milliseconds timeout) {
    if (!running()) return exit_code_;
    ::kill(pid_, signal);
    if (!test::wait_until([&] { return !running(); }, timeout, 20ms)) {
        ::kill(pid_, SIGKILL);
        test::wait_until([&] { return !running(); }, 10s, 20ms);
    }
    return exit_code_;
}

void parallel_for(std::size_t count, std::size_t threads, const std::function<void(std::size_t)>& work) {
    std::atomic<std::size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < std::max<std::size_t>(1, threads); ++t) {
        pool.emplace_back([&] {
            while (true) {
                auto i = next.fetch_add(1);
                if (i >= count) return;
                try {
                    work(i);
                } catch (...) {
                    std::lock_guard lock(error_mutex);
                    if (!error) error = std::current_exception();
                    next = count;  // the other threads stop after their current item
                    return;
                }
            }
        });
    }
    for (auto& thread : pool) thread.join();
    if (error) std::rethrow_exception(error);
}

std::string spread_address(std::size_t index) {
    if (index >= 254u * 256u) throw std::out_of_range(fmt::format("spread_address: index {} is over 65023", index));
    auto a = 1 + index % 254;
    auto b = (index / 254) % 256;
    auto c = 1 + (index * 37) % 254;
    return fmt::format("127.{}.{}.{}", a, b, c);
}

std::vector<LogLine> read_operator_log(const std::string& path) {
    std::vector<LogLine> lines;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::tm utc{};
        int micros = 0;
        if (std::sscanf(line.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &utc.tm_year, &utc.tm_mon, &utc.tm_mday, &utc.tm_hour,
                        &utc.tm_min, &utc.tm_sec, &micros) != 7) {
            continue;
        }
        utc.tm_year -= 1900;
        utc.tm_mon -= 1;
        lines.push_back({static_cast<double>(::timegm(&utc)) + micros / 1e6, line});
    }
    return lines;
}

std::optional<double> metric_value(const std::string& metrics, const std::string& series) {
    std::istringstream lines(metrics);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
            return std::stod(line.substr(series.size() + 1));
        }
    }
    return std::nullopt;
}

Environment::Environment(Options options)
    : options_(std::move(options)),
      cluster_(test::LocalCluster::current()),
      client_(kube::load_kubeconfig(cluster_.kubeconfig)) {}

kube::Client Environment::new_client() const { return kube::Client(kube::load_kubeconfig(cluster_.kubeconfig)); }

pid_t Environment::apiserver_pid() const {
    return static_cast<pid_t>(std::stol(read_file(options_.cluster_dir + "/kube-apiserver.pid")));
}

std::string Environment::create_namespace(const std::string& prefix) {
    namespaces_.push_back(std::make_unique<test::TestNamespace>(prefix));
    return namespaces_.back()->name();
}

BenchPool::BenchPool(Environment& environment, const std::string& prefix, PoolSettings settings)
    : environment_(environment), ns_(environment.create_namespace(prefix)), settings_(settings) {
    auto& client = environment_.client();
    client.create(kube::resources::deployments, ns_, deployment_object());
    client.create(kube::resources::jibripools, ns_, pool_object(settings_));

    // Made here, not in start_operator(), so that timed starts do not include it.
    operator_kubeconfig_ = environment_.options().work_dir + "/operator-" + ns_ + ".kubeconfig";
    auto result = test::run_process({"env", "KUBECONFIG=" + environment_.kubeconfig(),
                                     std::string(JPC_SOURCE_DIR) + "/hack/operator-kubeconfig", ns_,
                                     operator_kubeconfig_});
    if (result.exit_code != 0) throw std::runtime_error("hack/operator-kubeconfig " + ns_ + " failed: " + result.err);
}

BenchPool::~BenchPool() {
    if (operator_) stop_operator();
}

nlohmann::json BenchPool::pool_status() {
    auto pool = environment_.client().get(kube::resources::jibripools, ns_, "pool");
    return pool.value("status", nlohmann::json::object());
}

void BenchPool::mark_swept_now() {
    auto now = std::chrono::time_point_cast<std::chrono::microseconds>(std::chrono::system_clock::now());
    nlohmann::json patch = {{"status", {{"lastSweepTime", jibri::format_rfc3339(now)}}}};
    environment_.client().merge_patch(kube::resources::jibripools, ns_, "pool", patch, "status");
}

test::OperatorProcess& BenchPool::start_operator() {
    if (operator_) stop_operator();
    const auto& options = environment_.options();
    auto log = fmt::format("{}/operator-{}-{}.log", options.work_dir, ns_, ++operators_started_);
    std::vector<std::string> arguments{"--kubeconfig=" + operator_kubeconfig_, "--namespace=" + ns_,
                                       "--identity=bench-operator"};
    operator_ = std::make_unique<test::OperatorProcess>(arguments, test::free_port(), log);
    register_child(options, operator_->pid(), test::OperatorProcess::binary_path());
    return *operator_;
}

test::OperatorProcess& BenchPool::operator_process() {
    if (!operator_) throw std::logic_error("no operator runs for namespace " + ns_);
    return *operator_;
}

void BenchPool::stop_operator() {
    if (!operator_) return;
    int code = operator_->stop(SIGTERM, 20s);
    if (code != 0) {
        progress(fmt::format("operator of {} exited with {}; log: {}", ns_, code, operator_->log_path()));
    }
    operator_.reset();
}

std::vector<nlohmann::json> BenchPool::create_isolated_pods(
    const std::vector<std::pair<std::string, std::string>>& pods) {
    auto annotations = recorded_busy_annotations();
    std::vector<nlohmann::json> created(pods.size());
    auto& client = environment_.client();
    parallel_for(pods.size(), 4, [&](std::size_t i) {
        const auto& [name, ip] = pods[i];
        nlohmann::json pod = {
            {"apiVersion", "v1"},
            {"kind", "Pod"},
            {"metadata",
             {{"name", name},
              {"labels", {{"app", "jibri"}, {"jibri.dev/state", "busy"}}},
              {"annotations", annotations}}},
            {"spec", {{"containers", {{{"name", "jibri"}, {"image", "jitsi/jibri:stable"}}}}}},
        };
        auto object = client.create(kube::resources::pods, ns_, pod);
        nlohmann::json status = {
            {"metadata", {{"uid", kube::uid_of(object)}}},
            {"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", nlohmann::json::array({{{"ip", ip}}})}}}};
        created[i] = client.merge_patch(kube::resources::pods, ns_, name, status, "status");
    });
    return created;
}

}  // namespace jpc::bench
