#pragma once

// Shared pieces of the benchmarks: options, result rows, statistics, readings from /proc,
// child processes, and the namespaces, pools and pods that each benchmark sets up on the
// control plane that bench/run started.

#include "kube/client.h"
#include "support/cluster.h"
#include "support/operator_process.h"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace jpc::bench {

struct Options {
    bool smoke = false;  // tiny sizes, and no verdicts on the performance targets
    std::vector<std::string> only;  // benchmarks to run by name, or all when empty

    // 1. isolation latency
    int cycles = 200;
    int spare = 2;

    // 2. sweep under hung jibris
    int sweep_pods = 1000;
    int sweep_rounds = 5;               // sweeps measured, one per sweep interval
    int sweep_interval_seconds = 15;    // spec.sweepIntervalSeconds of the sweep pool
    int health_timeout_seconds = 2;     // spec.health.timeoutSeconds, 2 by the CRD's default

    // 3. footprint
    int footprint_pods = 5000;
    int starts = 10;                    // operator starts timed
    int idle_seconds = 60;
    int burst_updates = 1000;
    int bursts = 3;

    // 4. webhook throughput
    int duration_seconds = 10;          // of each wrk run
    int wrk_rounds = 3;                 // runs of each case, interleaved

    std::string work_dir;     // folder for logs and temporary files, made by bench/run
    std::string cluster_dir;  // folder of the control plane, made by 'hack/local-cluster up'

    bool selected(const std::string& name) const;
};

// One line of the result table.
struct Row {
    std::string benchmark;
    std::string figure;
    std::string value;
    std::string reference;
    std::string ratio;
    std::string target;
    std::string verdict;
    bool failed = false;  // a correctness check failed or the benchmark could not run
};

// Nearest-rank percentile (p in 0..100) of the samples. Throws std::invalid_argument when
// there are none.
double percentile(std::vector<double> samples, double p);

std::string format_ms(double milliseconds);
std::string format_ratio(double ratio);

// The verdict of a figure that must stay at or below `limit`: "met", or "missed by N%"
// with how far it is over. In smoke runs it is "not checked (smoke)".
std::string verdict_at_most(double value, double limit, bool smoke);
// The same for a figure that must stay strictly below `limit`.
std::string verdict_below(double value, double limit, bool smoke);
// The same for a figure that must reach at least `limit`.
std::string verdict_at_least(double value, double limit, bool smoke);

// Prints a progress line to standard error, prefixed with the time since the run started.
void progress(const std::string& message);

// Returns the user plus system CPU time of a process from /proc/PID/stat, in seconds, with
// the resolution of a clock tick (10 ms on Linux). Throws std::runtime_error when the
// process is gone.
double cpu_seconds(pid_t pid);
// Returns a "Vm..." field of /proc/PID/status (VmRSS, VmHWM) in KiB. Throws
// std::runtime_error when the process is gone or has no such field.
long status_kib(pid_t pid, const std::string& field);

// Appends the child's PID and executable to WORK/children, which bench/run reads to stop
// whatever an interrupted run left behind.
void register_child(const Options& options, pid_t pid, const std::string& executable);

// A child process started by the benchmark with its output in a log file, stopped by its
// PID. The destructor stops it with SIGTERM if it still runs.
class Child {
public:
    // Starts argv[0] (a path, or a name looked up in PATH). Throws std::runtime_error when
    // it cannot start.
    Child(const Options& options, const std::vector<std::string>& argv, const std::string& log_path);
    ~Child();
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    bool running();
    // Sends the signal and waits up to `timeout` for the exit, then sends SIGKILL. Returns
    // the exit code, or 128 + signal number.
    int stop(int signal, std::chrono::milliseconds timeout);
    pid_t pid() const { return pid_; }

private:
    pid_t pid_ = -1;
    int exit_code_ = -1;
};

// Runs work(i) for i in [0, count) on `threads` threads and rethrows the first exception.
void parallel_for(std::size_t count, std::size_t threads, const std::function<void(std::size_t)>& work);

// Returns the i-th address of a sequence spread over 127.0.0.0/8: 127.A.B.C with A from 1
// to 254 varying fastest, so that consecutive pods land in different /16 blocks. Distinct
// for i below 254 * 256, and throws std::out_of_range above. 127.0.0.0/16 is left out
// because local services use it.
std::string spread_address(std::size_t index);

// The control plane of this run and an admin client for it.
class Environment {
public:
    explicit Environment(Options options);

    const Options& options() const { return options_; }
    kube::Client& client() { return client_; }
    // A new client with its own connections, for work on other threads or a cold start.
    kube::Client new_client() const;
    pid_t apiserver_pid() const;
    const std::string& kubeconfig() const { return cluster_.kubeconfig; }

    // Creates a namespace named prefix-XXXXXX and waits for its default ServiceAccount. It
    // is deleted at the end of the run, not before, so that its pods are not deleted in the
    // background while a later benchmark measures.
    std::string create_namespace(const std::string& prefix);

private:
    Options options_;
    test::LocalCluster cluster_;
    kube::Client client_;
    std::vector<std::unique_ptr<test::TestNamespace>> namespaces_;
};

// JibriPool fields that a benchmark sets. Every other field keeps the CRD's default.
struct PoolSettings {
    int spare = 2;
    int sweep_interval_seconds = 300;
    std::uint16_t health_port = 2222;
    int health_timeout_seconds = 2;
    bool verify_source_ip = true;
};

// A namespace with the jibri Deployment (selector app=jibri, jibri.dev/state=idle), a
// JibriPool whose busy label is jibri.dev/state=busy, and the operator for it.
class BenchPool {
public:
    BenchPool(Environment& environment, const std::string& prefix, PoolSettings settings);
    ~BenchPool();
    BenchPool(const BenchPool&) = delete;
    BenchPool& operator=(const BenchPool&) = delete;

    const std::string& ns() const { return ns_; }
    const PoolSettings& settings() const { return settings_; }
    nlohmann::json pool_status();
    // Sets the pool's status.lastSweepTime to now, so that the operator's first sweep waits
    // a whole spec.sweepIntervalSeconds instead of running at start.
    void mark_swept_now();

    // Starts the operator with its default flags, watching this namespace only, as the
    // ServiceAccount that hack/operator-kubeconfig binds to the chart's RBAC rules. Stops
    // the previous one first. The log goes to WORK/operator-NS-N.log.
    test::OperatorProcess& start_operator();
    test::OperatorProcess& operator_process();
    // Stops the operator with SIGTERM, or with SIGKILL when it still runs 20 s later.
    void stop_operator();

    // Creates one pod per (name, podIP) entry that looks isolated: labels app=jibri and
    // jibri.dev/state=busy (outside the Deployment's selector) and a recorded BUSY report,
    // then phase Running with that podIP, set through pods/status. Returns the pods as the
    // API returned them after the status write, in the order of `pods`.
    std::vector<nlohmann::json> create_isolated_pods(const std::vector<std::pair<std::string, std::string>>& pods);

private:
    Environment& environment_;
    std::string ns_;
    PoolSettings settings_;
    std::string operator_kubeconfig_;
    int operators_started_ = 0;
    std::unique_ptr<test::OperatorProcess> operator_;
};

// One line of the operator's text log, with its timestamp in seconds since the epoch.
struct LogLine {
    double time = 0;
    std::string text;  // the whole line
};

// Reads the lines of an operator log that start with a timestamp
// ("2024-05-01T12:00:00.123456Z info  ..."), and skips the others.
std::vector<LogLine> read_operator_log(const std::string& path);

// Returns the value of the first sample line in Prometheus text output whose name and
// labels are exactly `series` (for example
// `jibri_pod_controller_reconcile_duration_seconds_count{result="success"}`), or nullopt.
std::optional<double> metric_value(const std::string& metrics, const std::string& series);

}  // namespace jpc::bench
