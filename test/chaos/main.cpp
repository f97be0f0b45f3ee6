// jibri-chaos: runs recording cycles against two operator replicas on a control plane of
// its own while a fault injector kills replicas, restarts kube-apiserver, pauses the
// leader past its lease and drops webhooks. After two sweep intervals of calm it prints
// the figures that must hold: lost recordings, BUSY pods inside the Deployment, EXPIRED
// pods left, idle pods versus spare, and writes by a replica that was not the newest
// leader. It exits 1 when one of them is off.

#include "fixture/pool_fixture.h"
#include "kube/resource.h"
#include "support/private_cluster.h"
#include "support/process.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using jpc::test::OperatorProcess;
using jpc::test::PoolFixture;
using jpc::test::wait_until;

constexpr int kSweepSeconds = 5;
constexpr int kLeaseSeconds = 4;  // PoolFixture starts replicas with --lease-duration=4
constexpr std::chrono::seconds kIdleWait{360};

struct Arguments {
    int cycles = 300;
    std::uint64_t seed = std::random_device{}();
    int workers = 2;
    int spare = 3;
    double drop_probability = 0.1;  // per webhook
    std::chrono::seconds timeout{3600};
};

void usage() {
    std::cerr << "usage: jibri-chaos [--cycles N] [--seed N] [--workers N] [--spare N] [--drop P] [--timeout SECONDS]\n"
                 "  --cycles N     recordings to run (default 300)\n"
                 "  --seed N       seed of every random choice; printed at start for reproduction\n"
                 "  --workers N    recordings running at once (default 2)\n"
                 "  --spare N      the pool's spare (default 3)\n"
                 "  --drop P       probability that a webhook is dropped (default 0.1)\n"
                 "  --timeout S    give up after S seconds (default 3600)\n";
}

Arguments parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument("option " + flag + " needs a value");
            return argv[++i];
        };
        if (flag == "--cycles") {
            arguments.cycles = std::stoi(value());
        } else if (flag == "--seed") {
            arguments.seed = std::stoull(value());
        } else if (flag == "--workers") {
            arguments.workers = std::stoi(value());
        } else if (flag == "--spare") {
            arguments.spare = std::stoi(value());
        } else if (flag == "--drop") {
            arguments.drop_probability = std::stod(value());
        } else if (flag == "--timeout") {
            arguments.timeout = std::chrono::seconds(std::stoi(value()));
        } else if (flag == "--help" || flag == "-h") {
            usage();
            std::exit(0);
        } else {
            throw std::invalid_argument("unknown option " + flag);
        }
    }
    if (arguments.cycles < 1 || arguments.workers < 1 || arguments.spare < arguments.workers) {
        throw std::invalid_argument("--cycles and --workers must be at least 1, and --spare at least --workers");
    }
    if (arguments.drop_probability < 0 || arguments.drop_probability > 1) {
        throw std::invalid_argument("--drop must be between 0 and 1");
    }
    return arguments;
}

// One operator replica: its identity and port stay across restarts.
struct Replica {
    std::string identity;
    std::uint16_t port = 0;
    OperatorProcess* process = nullptr;
    std::vector<std::string> logs;  // one file per process started
};

class Chaos {
public:
    Chaos(const Arguments& arguments, jpc::test::PrivateCluster& cluster, PoolFixture& fixture)
        : arguments_(arguments), cluster_(cluster), fixture_(fixture) {}

    void start_replicas() {
        for (const char* identity : {"replica-a", "replica-b"}) {
            Replica replica;
            replica.identity = identity;
            replicas_.push_back(replica);
        }
        for (auto& replica : replicas_) start(replica);
        for (auto& replica : replicas_) {
            if (!replica.process->wait_ready(60s)) throw std::runtime_error(replica.identity + " did not become ready");
        }
    }

    // Runs the recordings and the fault injector until every cycle has finished.
    void run() {
        began_ = Clock::now();
        deadline_ = began_ + arguments_.timeout;
        std::thread injector([this] { guarded("fault injector", [this] { inject_faults(); }); });
        std::thread checker([this] {
            while (!done_) {
                fixture_.fleet().check_isolation();
                std::this_thread::sleep_for(200ms);
            }
        });
        std::vector<std::thread> workers;
        for (int i = 0; i < arguments_.workers; ++i) {
            workers.emplace_back([this, i] { guarded("worker " + std::to_string(i), [this, i] { record(i); }); });
        }
        for (auto& worker : workers) worker.join();
        recordings_done_ = true;
        injector.join();
        // Two sweep intervals of calm, so dropped EXPIRED webhooks are found.
        std::this_thread::sleep_for(std::chrono::seconds(2 * kSweepSeconds));
        wait_until([&] { return settled(); }, kIdleWait, 500ms);
        done_ = true;
        checker.join();
    }

    int report() {
        auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - began_);
        auto stats = fixture_.fleet().stats();
        auto pods = fixture_.client().list(jpc::kube::resources::pods, fixture_.ns());
        int busy_inside = 0;
        int expired_left = 0;
        for (const auto& pod : pods["items"]) {
            auto annotations = pod["metadata"].value("annotations", nlohmann::json::object());
            auto busy = annotations.value("jibri.dev/busy-status", "");
            auto labels = pod["metadata"].value("labels", nlohmann::json::object());
            bool inside = labels.value("jibri.dev/state", "") == "idle";
            if (busy == "BUSY" && inside) ++busy_inside;
            if (busy == "EXPIRED") ++expired_left;
        }
        auto idle = static_cast<int>(fixture_.fleet().idle_pods().size());
        auto overlaps = leader_overlaps();

        std::cout << "\nchaos run: seed " << arguments_.seed << ", " << arguments_.cycles << " cycles, "
                  << arguments_.workers << " at once, spare " << arguments_.spare << ", " << elapsed.count() << " s\n"
                  << "  faults injected:           " << describe_faults() << "\n"
                  << "  recordings started/ended:  " << stats.recordings_started << " / " << stats.recordings_finished
                  << "\n"
                  << "  webhooks sent/dropped/failed: " << stats.webhooks_sent << " / " << stats.webhooks_dropped
                  << " / " << stats.webhooks_failed << "\n"
                  << "  stalls (no idle pod for " << kIdleWait.count() << " s): " << stalls_
                  << ", longest wait for an idle pod " << longest_idle_wait_.count() << " ms\n"
                  << "  lost recordings:           " << stats.lost_recordings << "\n"
                  << "  BUSY pods inside:          " << busy_inside << "\n"
                  << "  EXPIRED pods left:         " << expired_left << "\n"
                  << "  idle pods / spare:         " << idle << " / " << arguments_.spare << "\n"
                  << "  actions by a stale leader: " << overlaps.size() << " of " << checked_actions_
                  << " checked against " << leadership_starts_ << " leadership starts\n";
        for (const auto& overlap : overlaps) std::cout << "    " << overlap << "\n";
        std::cout << "  errors:                    " << errors_.size() << "\n";
        for (const auto& error : errors_) std::cout << "    " << error << "\n";
        bool ok = errors_.empty() && checked_actions_ > 0 && stats.lost_recordings == 0 && busy_inside == 0 && expired_left == 0 && idle == arguments_.spare &&
                  overlaps.empty() && stalls_ == 0 &&
                  stats.recordings_finished == static_cast<std::uint64_t>(arguments_.cycles);
        std::cout << (ok ? "PASS" : "FAIL") << "\n";
        return ok ? 0 : 1;
    }

    void stop_replicas() {
        for (auto& replica : replicas_) {
            if (replica.process && replica.process->running()) replica.process->stop(SIGTERM, 15s);
        }
    }

private:
    // Runs a thread's body; an exception ends the run as a failure instead of the process.
    template <class Body>
    void guarded(const std::string& name, Body body) {
        try {
            body();
        } catch (const std::exception& error) {
            spdlog::error("chaos: {} failed: {}", name, error.what());
            std::lock_guard lock(mutex_);
            errors_.push_back(name + ": " + error.what());
            recordings_done_ = true;
        }
    }

    void start(Replica& replica) {
        auto& process = fixture_.start_operator(
            replica.identity, {}, replica.port == 0 ? std::nullopt : std::optional<std::uint16_t>(replica.port));
        replica.process = &process;
        replica.port = process.port();
        replica.logs.push_back(process.log_path());
    }

    bool settled() {
        auto pods = fixture_.client().list(jpc::kube::resources::pods, fixture_.ns());
        for (const auto& pod : pods["items"]) {
            auto annotations = pod["metadata"].value("annotations", nlohmann::json::object());
            if (annotations.value("jibri.dev/busy-status", "") != "") {
                // A pod that reported anything but IDLE has yet to be deleted.
                if (annotations.value("jibri.dev/busy-status", "") != "IDLE") return false;
            }
        }
        return static_cast<int>(fixture_.fleet().idle_pods().size()) == arguments_.spare;
    }

    // Takes an idle pod no other worker holds; empty when none came within kIdleWait.
    // kube-controller-manager creates the replacements, and after several kube-apiserver
    // restarts its watches back off for up to a minute or more before it notices that pods
    // are gone, so the wait is long.
    std::string claim_idle_pod(std::mt19937_64& random) {
        auto started = Clock::now();
        std::string chosen;
        wait_until(
            [&] {
                auto idle = fixture_.fleet().idle_pods();
                std::shuffle(idle.begin(), idle.end(), random);
                std::lock_guard lock(mutex_);
                for (const auto& pod : idle) {
                    if (claimed_.insert(pod).second) {
                        chosen = pod;
                        return true;
                    }
                }
                return false;
            },
            kIdleWait, 100ms);
        auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
        std::lock_guard lock(mutex_);
        longest_idle_wait_ = std::max(longest_idle_wait_, waited);
        return chosen;
    }

    void record(int worker) {
        std::mt19937_64 random(arguments_.seed + 1000 + static_cast<std::uint64_t>(worker));
        std::bernoulli_distribution drop(arguments_.drop_probability);
        std::uniform_int_distribution<int> length_ms(300, 2500);
        while (Clock::now() < deadline_) {
            if (started_.fetch_add(1) >= arguments_.cycles) return;
            auto pod = claim_idle_pod(random);
            if (pod.empty()) {
                ++stalls_;
                spdlog::error("chaos: worker {}: no idle pod for {} s", worker, kIdleWait.count());
                return;
            }
            fixture_.fleet().start_recording(pod, !drop(random));
            std::this_thread::sleep_for(std::chrono::milliseconds(length_ms(random)));
            fixture_.fleet().finish_recording(pod, !drop(random));
        }
    }

    int leader_gauge(const Replica& replica) const {
        if (!replica.process || !replica.process->running()) return 0;
        auto metrics = replica.process->get("/metrics").second;
        return metrics.find("\njibri_pod_controller_leader 1\n") != std::string::npos ? 1 : 0;
    }

    void inject_faults() {
        std::mt19937_64 random(arguments_.seed);
        std::uniform_int_distribution<int> gap_ms(3000, 8000);
        // Every kind comes once per round, in an order the seed picks, so even a short run
        // gets each of them.
        std::vector<std::string> kinds{"kill", "apiserver", "pause"};
        std::size_t next = kinds.size();
        while (!recordings_done_ && Clock::now() < deadline_) {
            std::this_thread::sleep_for(std::chrono::milliseconds(gap_ms(random)));
            if (recordings_done_) break;
            if (next == kinds.size()) {
                std::shuffle(kinds.begin(), kinds.end(), random);
                next = 0;
            }
            auto kind = kinds[next++];
            if (kind == "kill") {
                auto& replica = replicas_[std::uniform_int_distribution<std::size_t>(0, replicas_.size() - 1)(random)];
                spdlog::warn("chaos: SIGKILL {}", replica.identity);
                replica.process->stop(SIGKILL);
                std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(200, 2000)(random)));
                start(replica);
            } else if (kind == "apiserver") {
                spdlog::warn("chaos: stopping kube-apiserver");
                cluster_.stop("kube-apiserver");
                std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(500, 4000)(random)));
                cluster_.start("kube-apiserver");
                spdlog::warn("chaos: kube-apiserver is back");
            } else {
                Replica* leader = nullptr;
                for (auto& replica : replicas_) {
                    if (leader_gauge(replica) == 1) leader = &replica;
                }
                if (leader == nullptr) {
                    spdlog::warn("chaos: no leader to pause");
                    continue;
                }
                auto pause = std::chrono::milliseconds(
                    std::uniform_int_distribution<int>(kLeaseSeconds * 1000 + 1000, kLeaseSeconds * 1000 + 4000)(random));
                spdlog::warn("chaos: SIGSTOP leader {} for {} ms", leader->identity, pause.count());
                leader->process->signal(SIGSTOP);
                std::this_thread::sleep_for(pause);
                leader->process->signal(SIGCONT);
            }
            std::lock_guard lock(mutex_);
            ++faults_[kind];
        }
    }

    std::string describe_faults() {
        std::lock_guard lock(mutex_);
        std::string text;
        for (const auto& [kind, count] : faults_) text += (text.empty() ? "" : ", ") + kind + " " + std::to_string(count);
        return text.empty() ? "none" : text;
    }

    // Every isolate, delete, scale or sweep write must come from the newest leader: a write
    // that the replica began (its "sending:" line) after another replica started leading
    // with a higher lease term, or while it was not leading, is listed.
    std::vector<std::string> leader_overlaps() {
        struct Action {
            std::string time;
            std::string where;
            std::optional<long> term;
        };
        std::vector<std::pair<std::string, long>> starts;  // (time, term)
        std::vector<Action> actions;
        for (const auto& replica : replicas_) {
            for (const auto& path : replica.logs) {
                std::ifstream in(path);
                std::string line;
                std::optional<long> term;
                while (std::getline(in, line)) {
                    auto time = line.substr(0, line.find(' '));
                    auto leads = line.find(" leads (lease term ");
                    if (leads != std::string::npos) {
                        term = std::stol(line.substr(leads + 19));
                        starts.emplace_back(time, *term);
                    } else if (line.find("stopped leading") != std::string::npos) {
                        term.reset();
                    } else if (line.find(" sending: ") != std::string::npos &&
                               line.find(" sending: record ") == std::string::npos) {
                        // The operator logs "sending: <action>" after its leadership check
                        // and before the write; the line after the write can trail a pause.
                        actions.push_back({time, path + ": " + line.substr(0, 160), term});
                    }
                }
            }
        }
        checked_actions_ = actions.size();
        leadership_starts_ = starts.size();
        std::vector<std::string> found;
        for (const auto& action : actions) {
            if (!action.term) {
                found.push_back("not leading: " + action.where);
                continue;
            }
            for (const auto& [time, term] : starts) {
                if (term > *action.term && time < action.time) {
                    found.push_back("term " + std::to_string(*action.term) + " after term " + std::to_string(term) +
                                    " began at " + time + ": " + action.where);
                    break;
                }
            }
        }
        return found;
    }

    const Arguments& arguments_;
    jpc::test::PrivateCluster& cluster_;
    PoolFixture& fixture_;
    std::vector<Replica> replicas_;
    Clock::time_point began_;
    Clock::time_point deadline_;
    std::atomic<int> started_{0};
    std::atomic<int> stalls_{0};
    std::atomic<bool> recordings_done_{false};
    std::atomic<bool> done_{false};
    std::mutex mutex_;
    std::set<std::string> claimed_;
    std::map<std::string, int> faults_;
    std::vector<std::string> errors_;
    std::size_t checked_actions_ = 0;
    std::size_t leadership_starts_ = 0;
    std::chrono::milliseconds longest_idle_wait_{0};
};

}  // namespace

int main(int argc, char** argv) {
    Arguments arguments;
    try {
        arguments = parse_arguments(argc, argv);
    } catch (const std::exception& error) {
        std::cerr << "jibri-chaos: " << error.what() << "\n";
        usage();
        return 2;
    }
    std::cout << "jibri-chaos: seed " << arguments.seed << " (rerun with --seed " << arguments.seed << ")"
              << std::endl;
    try {
        jpc::test::PrivateCluster cluster;
        ::setenv("JPC_CLUSTER_DIR", cluster.dir().c_str(), 1);
        std::cout << "jibri-chaos: control plane and logs in " << cluster.dir() << std::endl;

        jpc::test::PoolSettings settings;
        settings.spare = arguments.spare;
        settings.sweep_interval_seconds = kSweepSeconds;
        settings.health_timeout_seconds = 1;
        // Isolation may wait for a sweep, a new leader and kube-apiserver's return.
        settings.isolation_grace = std::chrono::seconds(kSweepSeconds + 2 * kLeaseSeconds + 4 + 10);
        int result = 1;
        {
            PoolFixture fixture("chaos", settings);
            Chaos chaos(arguments, cluster, fixture);
            chaos.start_replicas();
            if (!fixture.wait_idle(static_cast<std::size_t>(arguments.spare), 120s)) {
                throw std::runtime_error("the pool did not reach its spare pods");
            }
            chaos.run();
            result = chaos.report();
            chaos.stop_replicas();
        }
        if (result != 0) {
            // Keep the folder's logs for a failed run: copy them next to the working folder.
            auto kept = cluster.dir() + "-logs";
            jpc::test::run_process({"cp", "-r", cluster.dir() + "/logs", kept});
            std::cout << "jibri-chaos: logs kept in " << kept << std::endl;
        }
        return result;
    } catch (const std::exception& error) {
        std::cerr << "jibri-chaos: " << error.what() << "\n";
        return 1;
    }
}
