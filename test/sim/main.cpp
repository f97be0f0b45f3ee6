// jibri-sim: plays the jibris of a JibriPool against a real API server and a running
// operator, for the demo. It gives each pod of the pool a podIP in 127.0.0.0/8, serves
// Jibri's health API there, and runs recordings: BUSY, then EXPIRED, each reported by a
// webhook from the pod's IP unless the scenario drops it on purpose.

#include "kube/config.h"
#include "kube/resource.h"
#include "pool/labels.h"
#include "sim/fleet.h"
#include "support/process.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using jpc::test::run_process;
using jpc::test::wait_until;

struct Arguments {
    std::string kubeconfig;
    std::string ns = "jitsi";
    std::string pool = "jibri";
    std::string webhook_base;
    std::uint16_t health_port = 2222;
    int recordings = 4;
    int missed = 3;  // the recording (1-based) whose BUSY and EXPIRED webhooks are dropped; 0: none
    std::chrono::seconds step_timeout{60};
};

void usage() {
    std::cerr << "usage: jibri-sim --kubeconfig PATH --webhook-base URL [--namespace NS] [--pool NAME]\n"
                 "                 [--health-port N] [--recordings N] [--missed N] [--step-timeout SECONDS]\n"
                 "  --webhook-base  the operator's webhook URL up to the pod name, such as\n"
                 "                  http://127.0.0.1:8080/webhook/jitsi\n"
                 "  --missed N      drop both webhooks of recording N, so only the operator's sweeper\n"
                 "                  can notice it (0: drop none; default 3)\n";
}

Arguments parse_arguments(int argc, char** argv) {
    Arguments arguments;
    for (int i = 1; i < argc; ++i) {
        std::string flag = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) throw std::invalid_argument("option " + flag + " needs a value");
            return argv[++i];
        };
        if (flag == "--kubeconfig") {
            arguments.kubeconfig = value();
        } else if (flag == "--namespace") {
            arguments.ns = value();
        } else if (flag == "--pool") {
            arguments.pool = value();
        } else if (flag == "--webhook-base") {
            arguments.webhook_base = value();
        } else if (flag == "--health-port") {
            arguments.health_port = static_cast<std::uint16_t>(std::stoi(value()));
        } else if (flag == "--recordings") {
            arguments.recordings = std::stoi(value());
        } else if (flag == "--missed") {
            arguments.missed = std::stoi(value());
        } else if (flag == "--step-timeout") {
            arguments.step_timeout = std::chrono::seconds(std::stoi(value()));
        } else {
            throw std::invalid_argument("unknown option " + flag);
        }
    }
    if (arguments.kubeconfig.empty() || arguments.webhook_base.empty()) {
        throw std::invalid_argument("--kubeconfig and --webhook-base are required");
    }
    return arguments;
}

class Demo {
public:
    explicit Demo(Arguments arguments) : arguments_(std::move(arguments)), client_(jpc::kube::load_kubeconfig(arguments_.kubeconfig)) {}

    int run() {
        auto pool = client_.get(jpc::kube::resources::jibripools, arguments_.ns, arguments_.pool);
        spare_ = pool["spec"].value("spare", 0);
        auto deployment_name = pool["spec"].value("deploymentName", "");
        auto deployment = client_.get(jpc::kube::resources::deployments, arguments_.ns, deployment_name);
        auto selector = jpc::pool::parse_label_selector(deployment["spec"]["selector"]);
        if (!selector) throw std::runtime_error("deployment " + deployment_name + ": " + selector.error());
        busy_labels_ = pool["spec"]["busyLabels"];

        jpc::sim::FleetOptions options;
        options.ns = arguments_.ns;
        options.deployment_selector = selector.value();
        // Busy pods leave the Deployment's selector: watch the labels they keep.
        options.pod_selector = shared_selector(selector.value());
        options.webhook_base = arguments_.webhook_base;
        options.health.port = arguments_.health_port;
        options.isolation_grace = arguments_.step_timeout;
        fleet_ = std::make_unique<jpc::sim::JibriFleet>(client_, options);
        fleet_->start();

        say("waiting for " + std::to_string(spare_) + " idle jibris");
        step(wait_until([&] { return fleet_->idle_pods().size() == static_cast<std::size_t>(spare_); },
                        arguments_.step_timeout),
             "the pool has " + std::to_string(spare_) + " idle jibris");
        show();

        for (int recording = 1; recording <= arguments_.recordings; ++recording) {
            bool drop = recording == arguments_.missed;
            auto pod = fleet_->idle_pods().front();
            say("recording " + std::to_string(recording) + " starts on " + pod +
                (drop ? " (its webhooks are dropped: only the sweeper can notice)" : ""));
            fleet_->start_recording(pod, !drop);
            step(wait_until([&] { return !inside_deployment(pod); }, arguments_.step_timeout),
                 pod + " was moved out of the Deployment");
            ++isolations_;
            step(wait_until([&] { return fleet_->idle_pods().size() == static_cast<std::size_t>(spare_); },
                            arguments_.step_timeout),
                 "a replacement restored " + std::to_string(spare_) + " idle jibris");
            show();

            say("recording " + std::to_string(recording) + " ends; " + pod + " reports EXPIRED");
            fleet_->finish_recording(pod, !drop);
            step(wait_until([&] { return !exists(pod); }, arguments_.step_timeout), pod + " was deleted");
            ++deletions_;
            show();
        }

        fleet_->check_isolation();
        auto stats = fleet_->stats();
        auto final_idle = fleet_->idle_pods().size();
        std::printf("\nSummary\n");
        std::printf("  recordings:                 %d\n", arguments_.recordings);
        std::printf("  isolations seen:            %d\n", isolations_);
        std::printf("  deletions seen:             %d\n", deletions_);
        std::printf("  webhooks sent / dropped:    %llu / %llu\n", static_cast<unsigned long long>(stats.webhooks_sent),
                    static_cast<unsigned long long>(stats.webhooks_dropped));
        std::printf("  idle jibris at the end:     %zu (spare %d)\n", final_idle, spare_);
        std::printf("  lost recordings:            %llu\n", static_cast<unsigned long long>(stats.lost_recordings));
        std::fflush(stdout);
        fleet_->stop();
        bool ok = failures_ == 0 && stats.lost_recordings == 0 && final_idle == static_cast<std::size_t>(spare_);
        return ok ? 0 : 1;
    }

private:
    std::string shared_selector(const jpc::pool::LabelSelector& selector) const {
        jpc::pool::Labels shared;
        for (const auto& [key, value] : selector.match_labels) {
            if (!busy_labels_.contains(key)) shared[key] = value;
        }
        return jpc::pool::to_query_string(shared);
    }

    void say(const std::string& text) {
        std::printf("\n==> %s\n", text.c_str());
        std::fflush(stdout);
    }

    void step(bool done, const std::string& what) {
        if (done) {
            std::printf("    ok: %s\n", what.c_str());
        } else {
            ++failures_;
            std::printf("    FAILED within %lld s: %s\n", static_cast<long long>(arguments_.step_timeout.count()),
                        what.c_str());
        }
        std::fflush(stdout);
    }

    void show() {
        for (auto args : std::vector<std::vector<std::string>>{
                 {"get", "jibripools"},
                 {"get", "pods", "-L", "jibri.dev/state", "-o", "custom-columns=POD:.metadata.name,STATE:.metadata.labels.jibri\\.dev/state,JIBRI:.metadata.annotations.jibri\\.dev/busy-status,IP:.status.podIP"}}) {
            std::vector<std::string> argv{"kubectl", "--kubeconfig", arguments_.kubeconfig, "-n", arguments_.ns};
            argv.insert(argv.end(), args.begin(), args.end());
            auto result = run_process(argv);
            std::string text = result.exit_code == 0 ? result.out : result.err;
            std::printf("%s", text.c_str());
        }
        std::fflush(stdout);
    }

    bool inside_deployment(const std::string& pod) {
        try {
            auto object = client_.get(jpc::kube::resources::pods, arguments_.ns, pod);
            for (const auto& [key, value] : busy_labels_.items()) {
                if (object["metadata"]["labels"].value(key, "") != value.get<std::string>()) return true;
            }
            return false;
        } catch (const std::exception&) {
            return false;
        }
    }

    bool exists(const std::string& pod) {
        try {
            client_.get(jpc::kube::resources::pods, arguments_.ns, pod);
            return true;
        } catch (const std::exception&) {
            return false;
        }
    }

    Arguments arguments_;
    jpc::kube::Client client_;
    std::unique_ptr<jpc::sim::JibriFleet> fleet_;
    nlohmann::json busy_labels_;
    int spare_ = 0;
    int isolations_ = 0;
    int deletions_ = 0;
    int failures_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    spdlog::set_level(spdlog::level::warn);
    try {
        Demo demo(parse_arguments(argc, argv));
        return demo.run();
    } catch (const std::invalid_argument& error) {
        std::cerr << "jibri-sim: " << error.what() << "\n";
        usage();
        return 2;
    } catch (const std::exception& error) {
        std::cerr << "jibri-sim: " << error.what() << "\n";
        return 1;
    }
}
