// Checks that the local control plane behaves like a real cluster in the ways the operator
// relies on: Deployments create pods, a pod relabelled out of its selector is released and
// replaced, pod status is writable, and ServiceAccount tokens are authenticated and limited
// by RBAC.

#include "fixture/pool_fixture.h"
#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <string>

using jpc::test::kubectl;
using jpc::test::kubectl_json;
using jpc::test::LocalCluster;
using jpc::test::TestNamespace;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

nlohmann::json list_pods(const std::string& ns, const std::string& selector) {
    return kubectl_json({"-n", ns, "get", "pods", "-l", selector, "-o", "json"})["items"];
}

bool has_owner(const nlohmann::json& pod) {
    const auto& metadata = pod["metadata"];
    return metadata.contains("ownerReferences") && !metadata["ownerReferences"].empty();
}

}  // namespace

TEST_CASE("deployment creates its replicas", "[environment]") {
    TestNamespace ns("env-deploy");
    kubectl({"-n", ns.name(), "apply", "-f", "-"}, jpc::test::jibri_deployment_yaml(2));

    bool two_pods = wait_until([&] { return list_pods(ns.name(), "app=jibri").size() == 2; }, 60s);
    REQUIRE(two_pods);

    for (const auto& pod : list_pods(ns.name(), "app=jibri")) {
        CHECK(pod["status"]["phase"] == "Pending");
        CHECK(has_owner(pod));
    }
}

TEST_CASE("relabelled pod is released and replaced", "[environment]") {
    TestNamespace ns("env-release");
    kubectl({"-n", ns.name(), "apply", "-f", "-"}, jpc::test::jibri_deployment_yaml(2));
    REQUIRE(wait_until([&] { return list_pods(ns.name(), "app=jibri").size() == 2; }, 60s));

    std::string busy = list_pods(ns.name(), "app=jibri")[0]["metadata"]["name"];
    kubectl({"-n", ns.name(), "label", "pod", busy, "jibri.dev/state=busy", "--overwrite"});

    bool replaced = wait_until(
        [&] { return list_pods(ns.name(), "app=jibri,jibri.dev/state=idle").size() == 2; }, 60s);
    CHECK(replaced);

    bool released = wait_until(
        [&] { return !has_owner(kubectl_json({"-n", ns.name(), "get", "pod", busy, "-o", "json"})); },
        60s);
    CHECK(released);

    auto pod = kubectl_json({"-n", ns.name(), "get", "pod", busy, "-o", "json"});
    CHECK(pod["metadata"]["labels"]["jibri.dev/state"] == "busy");
    CHECK(!pod["metadata"].contains("deletionTimestamp"));
}

TEST_CASE("pod status subresource sets podIP", "[environment]") {
    TestNamespace ns("env-status");
    kubectl({"-n", ns.name(), "run", "jibri-0", "--image=jitsi/jibri:stable", "--restart=Never"});

    kubectl({"-n", ns.name(), "patch", "pod", "jibri-0", "--subresource=status", "--type=merge", "-p",
             R"({"status":{"phase":"Running","podIP":"127.0.4.9","podIPs":[{"ip":"127.0.4.9"}]}})"});

    auto pod = kubectl_json({"-n", ns.name(), "get", "pod", "jibri-0", "-o", "json"});
    CHECK(pod["status"]["phase"] == "Running");
    CHECK(pod["status"]["podIP"] == "127.0.4.9");

    // A pod that no kubelet ever ran is gone as soon as it is deleted.
    kubectl({"-n", ns.name(), "delete", "pod", "jibri-0", "--wait=true", "--timeout=30s"});
    auto remaining = kubectl_json({"-n", ns.name(), "get", "pods", "-o", "json"})["items"];
    CHECK(remaining.empty());
}

TEST_CASE("service account token is limited by RBAC", "[environment]") {
    TestNamespace ns("env-rbac");
    kubectl({"-n", ns.name(), "create", "serviceaccount", "reader"});
    kubectl({"-n", ns.name(), "create", "role", "pod-reader", "--verb=get,list", "--resource=pods"});
    kubectl({"-n", ns.name(), "create", "rolebinding", "pod-reader", "--role=pod-reader",
             "--serviceaccount=" + ns.name() + ":reader"});

    // kube-controller-manager's token controller writes the token into a Secret.
    std::string token;
    bool has_token = wait_until(
        [&] {
            auto secrets = kubectl_json({"-n", ns.name(), "get", "secrets", "-o", "json"})["items"];
            for (const auto& secret : secrets) {
                if (secret["type"] == "kubernetes.io/service-account-token" &&
                    secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "reader" &&
                    secret.contains("data") && secret["data"].contains("token")) {
                    auto decoded = jpc::test::run_process({"base64", "-d"}, secret["data"]["token"].get<std::string>());
                    token = decoded.out;
                    return !token.empty();
                }
            }
            return false;
        },
        60s);
    REQUIRE(has_token);

    const auto& cluster = LocalCluster::current();
    auto as_reader = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"kubectl", "--kubeconfig=/dev/null", "--server", cluster.server,
                                      "--certificate-authority", cluster.ca_file, "--token", token,
                                      "-n", ns.name()};
        argv.insert(argv.end(), args.begin(), args.end());
        return jpc::test::run_process(argv);
    };

    auto allowed = as_reader({"get", "pods"});
    INFO(allowed.err);
    CHECK(allowed.exit_code == 0);

    auto denied = as_reader({"create", "configmap", "not-allowed"});
    INFO(denied.err);
    CHECK(denied.exit_code != 0);
    // kubectl prints the API's message: 'configmaps is forbidden: User "..." cannot create ...'.
    CHECK(denied.err.find("is forbidden") != std::string::npos);
    CHECK(denied.err.find("system:serviceaccount:" + ns.name() + ":reader") != std::string::npos);

    auto bad_token = jpc::test::run_process({"kubectl", "--kubeconfig=/dev/null", "--server", cluster.server,
                                            "--certificate-authority", cluster.ca_file, "--token",
                                            "not-a-token", "-n", ns.name(), "get", "pods"});
    CHECK(bad_token.exit_code != 0);
    CHECK(bad_token.err.find("Unauthorized") != std::string::npos);
}
