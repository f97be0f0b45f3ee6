#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace jpc::options {

// Defaults for the pools' optional fields. A JibriPool field that is set wins.
struct PoolDefaults {
    std::int32_t sweep_interval_seconds = 300;
    std::int32_t health_port = 2222;
    std::map<std::string, std::string> busy_labels;
};

// The operator's configuration, from command-line flags, then environment variables,
// then built-in defaults.
struct Options {
    std::string kubeconfig;  // empty: $KUBECONFIG, ~/.kube/config, then in-cluster
    std::string context;
    // The operator's own namespace: the short webhook path /webhook/<pod>/... refers to
    // it, and the lease lives there by default. Empty: taken from the cluster
    // configuration (the in-cluster namespace file or the kubeconfig context).
    std::string own_namespace;
    // Namespaces whose pools, Deployments and pods the operator watches. Empty: only
    // own_namespace. all_namespaces: every namespace.
    std::vector<std::string> watch_namespaces;
    bool all_namespaces = false;

    std::string bind_address = "0.0.0.0";
    std::uint16_t port = 8080;
    unsigned server_threads = 4;

    bool leader_elect = true;
    std::string lease_name = "jibri-pod-controller";
    std::string lease_namespace;  // empty: own_namespace
    std::string identity;         // empty: the host name
    std::chrono::seconds lease_duration{15};
    std::chrono::seconds renew_deadline{10};
    std::chrono::seconds retry_period{2};

    std::size_t health_concurrency = 256;
    std::string log_level = "info";
    std::string log_format = "text";
    std::chrono::seconds shutdown_grace{10};

    PoolDefaults pool_defaults;
};

// A flag or environment value that is not valid; what() names the value, the option and
// what is expected.
class OptionsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by parse_options for --help and --version; what() is the text to print.
class HelpRequested : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Reads an environment variable; returns nullopt when unset. Tests pass their own.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// Returns the process environment as an EnvironmentLookup.
EnvironmentLookup process_environment();

// Parses the command line (argv[0] excluded) and the environment. Throws OptionsError
// for an invalid or unknown option, HelpRequested for --help and --version.
Options parse_options(const std::vector<std::string>& arguments, const EnvironmentLookup& environment);

// Returns the --help text: every option with its environment variable, unit and default.
std::string help_text();

// Parses "k=v,k2=v2" (the JIBRI_BUSY_LABELS format). Throws OptionsError naming the
// entry that has no '=' or an empty key.
std::map<std::string, std::string> parse_label_list(const std::string& text, const std::string& option);

}  // namespace jpc::options
