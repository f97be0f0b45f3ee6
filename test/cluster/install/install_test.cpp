// The plain manifests of docs/install against the real API server: every object passes
// the server's validation, in a server-side dry run, so nothing is created.

#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

using jpc::test::LocalCluster;
using jpc::test::run_process;

TEST_CASE("install manifests pass server validation", "[install]") {
    const std::string dir = std::string(JPC_SOURCE_DIR);
    const auto& cluster = LocalCluster::current();
    auto kubectl = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"kubectl", "--kubeconfig", cluster.kubeconfig};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_process(argv);
    };
    // The manifests name namespace jitsi; a dry run still needs it to exist.
    kubectl({"create", "namespace", "jitsi"});
    kubectl({"apply", "-f", dir + "/crd/jibripool.yaml"});

    // This control plane is Kubernetes 1.20, so the PodDisruptionBudget is the v1beta1 one.
    auto applied = kubectl({"apply", "--dry-run=server", "-f", dir + "/docs/install/jibri-pod-controller.yaml", "-f",
                            dir + "/docs/install/pdb-v1beta1.yaml", "-f", dir + "/docs/examples/jibri-deployment.yaml",
                            "-n", "jitsi", "-f", dir + "/docs/examples/jibripool.yaml"});
    INFO(applied.out << applied.err);
    CHECK(applied.exit_code == 0);
    CHECK(applied.out.find("deployment.apps/jibri-pod-controller created (server dry run)") != std::string::npos);
    CHECK(applied.out.find("poddisruptionbudget.policy/jibri-pod-controller created (server dry run)") !=
          std::string::npos);
    CHECK(applied.out.find("jibripool.jibri.dev/jibri created (server dry run)") != std::string::npos);
}
