#include "support/cluster.h"

#include "support/process.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <stdexcept>

namespace jpc::test {

namespace {

std::map<std::string, std::string> read_env_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) {
        throw std::runtime_error("cannot read " + path +
                                 "; the local_cluster fixture did not start a control plane. "
                                 "Run the cluster tests through ctest or hack/test");
    }
    std::map<std::string, std::string> values;
    std::string line;
    while (std::getline(in, line)) {
        auto equals = line.find('=');
        if (equals != std::string::npos) {
            values[line.substr(0, equals)] = line.substr(equals + 1);
        }
    }
    return values;
}

LocalCluster load_current() {
    const char* dir = std::getenv("JPC_CLUSTER_DIR");
    if (dir == nullptr || *dir == '\0') {
        throw std::runtime_error(
            "JPC_CLUSTER_DIR is not set; run the cluster tests through ctest (hack/test), "
            "which starts the control plane, or set it to a folder made by 'hack/local-cluster up'");
    }
    auto values = read_env_file(std::string(dir) + "/env");
    LocalCluster cluster;
    cluster.dir = dir;
    cluster.kubeconfig = values.at("KUBECONFIG");
    cluster.server = values.at("APISERVER_URL");
    cluster.ca_file = values.at("CA_FILE");
    cluster.admin_token_file = values.at("ADMIN_TOKEN_FILE");
    return cluster;
}

}  // namespace

const LocalCluster& LocalCluster::current() {
    static const LocalCluster cluster = load_current();
    return cluster;
}

std::string kubectl(const std::vector<std::string>& args, const std::string& input) {
    std::vector<std::string> argv{"kubectl", "--kubeconfig", LocalCluster::current().kubeconfig};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_process(argv, input);
    if (result.exit_code != 0) {
        std::string command;
        for (const auto& arg : args) command += " " + arg;
        throw std::runtime_error("kubectl" + command + " exited with " +
                                 std::to_string(result.exit_code) + ": " + result.err);
    }
    return result.out;
}

nlohmann::json kubectl_json(const std::vector<std::string>& args) {
    return nlohmann::json::parse(kubectl(args));
}

TestNamespace::TestNamespace(const std::string& prefix) : name_(prefix + "-" + random_suffix()) {
    kubectl({"create", "namespace", name_});
    // The ServiceAccount admission plugin rejects pods until kube-controller-manager has
    // created the default ServiceAccount and its token Secret.
    bool ready = wait_until(
        [&] {
            auto result = run_process({"kubectl", "--kubeconfig", LocalCluster::current().kubeconfig,
                                       "-n", name_, "get", "serviceaccount", "default", "-o",
                                       "jsonpath={.secrets[0].name}"});
            return result.exit_code == 0 && !result.out.empty();
        },
        std::chrono::seconds(30));
    if (!ready) {
        throw std::runtime_error("namespace " + name_ +
                                 " has no default ServiceAccount with a token after 30 s; is kube-controller-manager running?");
    }
}

TestNamespace::~TestNamespace() {
    run_process({"kubectl", "--kubeconfig", LocalCluster::current().kubeconfig, "delete", "namespace",
                 name_, "--wait=false"});
}

}  // namespace jpc::test
