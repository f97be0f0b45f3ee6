#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace jpc::test {

// The control plane that hack/local-cluster started for this test run, read from the
// env file in $JPC_CLUSTER_DIR. CTest's local_cluster fixture sets that variable.
struct LocalCluster {
    std::string dir;
    std::string kubeconfig;
    std::string server;
    std::string ca_file;
    std::string admin_token_file;

    // Returns the cluster of this run. Throws, naming what to do, when $JPC_CLUSTER_DIR is
    // unset or its env file is missing, so a cluster test fails instead of skipping.
    static const LocalCluster& current();
};

// Runs kubectl against the current cluster as admin and returns its standard output.
// Throws std::runtime_error with kubectl's error output when it exits non-zero.
std::string kubectl(const std::vector<std::string>& args, const std::string& input = {});

// Runs kubectl and parses its standard output as JSON (pass "-o", "json" in args).
nlohmann::json kubectl_json(const std::vector<std::string>& args);

// A namespace that exists for the lifetime of the object: created with a unique name
// from the prefix, ready once its default ServiceAccount exists, deleted on destruction
// without waiting.
class TestNamespace {
public:
    explicit TestNamespace(const std::string& prefix);
    ~TestNamespace();
    TestNamespace(const TestNamespace&) = delete;
    TestNamespace& operator=(const TestNamespace&) = delete;

    const std::string& name() const { return name_; }

private:
    std::string name_;
};

}  // namespace jpc::test
