// The operator's /readyz follows the API server: ready while the server responds, not
// ready while it is down, ready again after it returns. The control plane is a private one, because
// kube-apiserver stops in it.

#include "support/operator_process.h"
#include "support/private_cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

using jpc::test::OperatorProcess;
using jpc::test::PrivateCluster;
using jpc::test::run_process;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

void admin_kubectl(const PrivateCluster& cluster, std::vector<std::string> args) {
    std::vector<std::string> argv{"kubectl", "--kubeconfig", cluster.kubeconfig()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_process(argv);
    INFO("kubectl " << result.err);
    REQUIRE(result.exit_code == 0);
}

}  // namespace

TEST_CASE("readyz reports an unreachable API server", "[operator][readiness]") {
    PrivateCluster cluster;
    admin_kubectl(cluster, {"apply", "-f", std::string(JPC_SOURCE_DIR) + "/crd/jibripool.yaml"});
    admin_kubectl(cluster, {"wait", "--for=condition=Established", "--timeout=60s", "crd/jibripools.jibri.dev"});
    admin_kubectl(cluster, {"create", "namespace", "ready"});
    auto kubeconfig = cluster.dir() + "/operator.kubeconfig";
    auto account = run_process({"env", "KUBECONFIG=" + cluster.kubeconfig(),
                                std::string(JPC_SOURCE_DIR) + "/hack/operator-kubeconfig", "ready", kubeconfig});
    INFO(account.err);
    REQUIRE(account.exit_code == 0);

    OperatorProcess replica({"--kubeconfig=" + kubeconfig, "--namespace=ready", "--identity=replica-a",
                             "--leader-elect=false"},
                            jpc::test::free_port(), cluster.dir() + "/operator.log");
    REQUIRE(replica.wait_ready(60s));

    cluster.stop("kube-apiserver");
    // Responses older than 10 s no longer count, and the check's own request fails.
    bool unready = wait_until([&] { return replica.get("/readyz").first == 503; }, 30s, 500ms);
    INFO(replica.log());
    REQUIRE(unready);
    CHECK(replica.get("/readyz").second.find("Kubernetes API not reachable") != std::string::npos);
    CHECK(replica.get("/healthz").first == 200);

    cluster.start("kube-apiserver");
    CHECK(replica.wait_ready(30s));
    CHECK(replica.stop() == 0);
}
