#pragma once

// Helpers shared by the cluster tests of the Kubernetes client.

#include "kube/client.h"
#include "kube/config.h"
#include "support/cluster.h"

#include <nlohmann/json.hpp>

#include <string>

namespace jpc::kube::testing {

// A client of the shared control plane, configured from its kubeconfig (tokenFile and
// certificate-authority), as the operator would be.
inline Client admin_client(ClientOptions options = {}) {
    return Client(load_kubeconfig(jpc::test::LocalCluster::current().kubeconfig), options);
}

// A pod that stays Pending: the local control plane has no scheduler or kubelet.
inline nlohmann::json pod_manifest(const std::string& name, const nlohmann::json& labels = nlohmann::json::object()) {
    return {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}, {"labels", labels}}},
        {"spec", {{"containers", {{{"name", "jibri"}, {"image", "jitsi/jibri:stable"}}}}}},
    };
}

}  // namespace jpc::kube::testing
