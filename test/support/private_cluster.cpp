#include "support/private_cluster.h"

#include "support/process.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace jpc::test {

namespace {

const std::string local_cluster_script = std::string(JPC_SOURCE_DIR) + "/hack/local-cluster";

std::string make_temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "jpc-private-cluster-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::runtime_error("PrivateCluster: mkdtemp failed in " +
                                 std::filesystem::temp_directory_path().string());
    }
    return pattern;
}

std::string env_value(const std::string& env_file, const std::string& key) {
    std::ifstream in(env_file);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(key + "=", 0) == 0) return line.substr(key.size() + 1);
    }
    throw std::runtime_error("PrivateCluster: " + env_file + " has no " + key);
}

}  // namespace

PrivateCluster::PrivateCluster() : dir_(make_temp_dir()) {
    try {
        run("up");
        kubeconfig_ = env_value(dir_ + "/env", "KUBECONFIG");
        server_ = env_value(dir_ + "/env", "APISERVER_URL");
    } catch (...) {
        run_process({local_cluster_script, "down", dir_});
        std::error_code ignored;
        std::filesystem::remove_all(dir_, ignored);
        throw;
    }
}

PrivateCluster::~PrivateCluster() {
    run_process({local_cluster_script, "down", dir_});
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
}

void PrivateCluster::stop(const std::string& component) { run("stop", component); }

void PrivateCluster::start(const std::string& component) { run("start", component); }

void PrivateCluster::run(const std::string& command, const std::string& component) {
    std::vector<std::string> argv{local_cluster_script, command, dir_};
    if (!component.empty()) argv.push_back(component);
    auto result = run_process(argv);
    if (result.exit_code != 0) {
        throw std::runtime_error("hack/local-cluster " + command + " " + dir_ + " " + component + " exited with " +
                                 std::to_string(result.exit_code) + ": " + result.err);
    }
}

}  // namespace jpc::test
