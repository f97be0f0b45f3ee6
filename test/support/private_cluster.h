#pragma once

#include <string>

namespace jpc::test {

// A control plane of its own for one test that stops or restarts components, so the
// shared one of the test run is not disturbed. The constructor runs
// 'hack/local-cluster up' in a new temporary folder (about 10 to 20 s); the destructor
// runs 'down' and removes the folder. Throws std::runtime_error with the script's output
// when 'up' fails.
class PrivateCluster {
public:
    PrivateCluster();
    ~PrivateCluster();
    PrivateCluster(const PrivateCluster&) = delete;
    PrivateCluster& operator=(const PrivateCluster&) = delete;

    // Stops or starts one component (etcd, kube-apiserver, kube-controller-manager) on the
    // same ports; start returns once the component is ready. Throws when the script fails.
    void stop(const std::string& component);
    void start(const std::string& component);

    const std::string& dir() const { return dir_; }
    const std::string& kubeconfig() const { return kubeconfig_; }
    const std::string& server() const { return server_; }

private:
    void run(const std::string& command, const std::string& component = {});

    std::string dir_;
    std::string kubeconfig_;
    std::string server_;
};

}  // namespace jpc::test
