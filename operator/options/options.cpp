#include "options/options.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <sstream>


namespace jpc::options {

namespace {

// One option: its flag, its environment variable, and how a text value sets it.
struct OptionSpec {
    std::string flag;         // without the leading "--"
    std::string environment;  // empty when there is none
    std::string value_name;   // empty for a boolean flag
    std::string help;         // includes the unit and the default
    std::function<void(Options&, const std::string& value, const std::string& source)> apply;
};

std::string source_name(const std::string& flag, const std::string& environment, bool from_environment) {
    return from_environment ? environment : "--" + flag;
}

long long parse_integer(const std::string& value, const std::string& source, long long min, long long max,
                        const std::string& expected) {
    long long number = 0;
    auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
    if (value.empty() || error != std::errc{} || end != value.data() + value.size() || number < min || number > max) {
        throw OptionsError("invalid value \"" + value + "\" for " + source + ": expected " + expected + " from " + std::to_string(min) + " to " + std::to_string(max));
    }
    return number;
}

bool parse_bool(const std::string& value, const std::string& source) {
    if (value == "true" || value == "1") return true;
    if (value == "false" || value == "0") return false;
    throw OptionsError("invalid value \"" + value + "\" for " + source + ": expected true or false");
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> parts;
    std::string part;
    std::istringstream stream(text);
    while (std::getline(stream, part, separator)) {
        part.erase(0, part.find_first_not_of(" \t"));
        part.erase(part.find_last_not_of(" \t") + 1);
        if (!part.empty()) parts.push_back(part);
    }
    return parts;
}

const std::vector<OptionSpec>& option_specs() {
    static const std::vector<OptionSpec> specs = {
        {"kubeconfig", "", "PATH",
         "kubeconfig file. Default: $KUBECONFIG, then ~/.kube/config, then the in-cluster service account.",
         [](Options& o, const std::string& v, const std::string&) { o.kubeconfig = v; }},
        {"context", "", "NAME", "kubeconfig context. Default: the current context.",
         [](Options& o, const std::string& v, const std::string&) { o.context = v; }},
        {"namespace", "NAMESPACE", "NAME",
         "The operator's own namespace: /webhook/<pod>/v1/status refers to pods in it and the lease lives in it. "
         "Default: the in-cluster namespace, or the kubeconfig context's namespace.",
         [](Options& o, const std::string& v, const std::string&) { o.own_namespace = v; }},
        {"watch-namespaces", "WATCH_NAMESPACES", "LIST",
         "Comma-separated namespaces whose JibriPools, Deployments and pods are managed, or * for all namespaces. "
         "Default: the operator's own namespace.",
         [](Options& o, const std::string& v, const std::string&) {
             o.watch_namespaces.clear();
             o.all_namespaces = false;
             for (const auto& name : split(v, ',')) {
                 if (name == "*") {
                     o.all_namespaces = true;
                 } else {
                     o.watch_namespaces.push_back(name);
                 }
             }
         }},
        {"bind-address", "BIND_ADDRESS", "IP",
         "Address the webhook, /metrics, /healthz and /readyz listen on. Default: 0.0.0.0.",
         [](Options& o, const std::string& v, const std::string&) { o.bind_address = v; }},
        {"port", "PORT", "N", "TCP port of the webhook, /metrics, /healthz and /readyz. Default: 8080.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.port = static_cast<std::uint16_t>(parse_integer(v, s, 1, 65535, "a port number"));
         }},
        {"server-threads", "SERVER_THREADS", "N",
         "Threads serving HTTP requests; a webhook request blocks one while it writes to the API. Default: 4.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.server_threads = static_cast<unsigned>(parse_integer(v, s, 1, 256, "a whole number of threads"));
         }},
        {"leader-elect", "LEADER_ELECT", "",
         "Elect one acting replica through a coordination.k8s.io Lease. Default: true. Set false only when "
         "exactly one replica runs.",
         [](Options& o, const std::string& v, const std::string& s) { o.leader_elect = parse_bool(v, s); }},
        {"lease-name", "LEASE_NAME", "NAME", "Name of the leader election Lease. Default: jibri-pod-controller.",
         [](Options& o, const std::string& v, const std::string&) { o.lease_name = v; }},
        {"lease-namespace", "LEASE_NAMESPACE", "NAME", "Namespace of the Lease. Default: the operator's namespace.",
         [](Options& o, const std::string& v, const std::string&) { o.lease_namespace = v; }},
        {"identity", "POD_NAME", "NAME", "This replica's identity in the Lease. Default: the host name.",
         [](Options& o, const std::string& v, const std::string&) { o.identity = v; }},
        {"lease-duration", "LEASE_DURATION", "SECONDS",
         "How long other replicas wait before taking a lease that stopped being renewed. Default: 15.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.lease_duration = std::chrono::seconds(parse_integer(v, s, 2, 3600, "a whole number of seconds"));
         }},
        {"renew-deadline", "RENEW_DEADLINE", "SECONDS",
         "How long the leader keeps failing to renew before it stops acting; less than --lease-duration. "
         "Default: 10.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.renew_deadline = std::chrono::seconds(parse_integer(v, s, 1, 3600, "a whole number of seconds"));
         }},
        {"retry-period", "RETRY_PERIOD", "SECONDS", "Interval between lease acquire or renew tries. Default: 2.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.retry_period = std::chrono::seconds(parse_integer(v, s, 1, 3600, "a whole number of seconds"));
         }},
        {"health-concurrency", "HEALTH_CONCURRENCY", "N",
         "Health requests a sweep keeps in flight at once. Default: 256.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.health_concurrency = static_cast<std::size_t>(parse_integer(v, s, 1, 4096, "a whole number of requests"));
         }},
        {"sweep-interval", "SWEEP_INTERVAL", "SECONDS",
         "Default spec.sweepIntervalSeconds for pools that do not set it. Default: 300.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.pool_defaults.sweep_interval_seconds = static_cast<std::int32_t>(parse_integer(v, s, 5, 86400, "a whole number of seconds"));
         }},
        {"jibri-health-port", "JIBRI_HEALTH_PORT", "N",
         "Default spec.health.port for pools that do not set it. Default: 2222.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.pool_defaults.health_port = static_cast<std::int32_t>(parse_integer(v, s, 1, 65535, "a port number"));
         }},
        {"busy-labels", "JIBRI_BUSY_LABELS", "K=V,...",
         "Default spec.busyLabels for pools that do not set them. Default: none.",
         [](Options& o, const std::string& v, const std::string& s) { o.pool_defaults.busy_labels = parse_label_list(v, s); }},
        {"log-level", "LOG_LEVEL", "LEVEL", "trace, debug, info, warn or error. Default: info.",
         [](Options& o, const std::string& v, const std::string& s) {
             static const std::vector<std::string> levels = {"trace", "debug", "info", "warn", "error"};
             if (std::find(levels.begin(), levels.end(), v) == levels.end()) {
                 throw OptionsError("invalid value \"" + v + "\" for " + s + ": expected trace, debug, info, warn or error");
             }
             o.log_level = v;
         }},
        {"log-format", "LOG_FORMAT", "FORMAT", "text or json (one JSON object per line). Default: text.",
         [](Options& o, const std::string& v, const std::string& s) {
             if (v != "text" && v != "json") {
                 throw OptionsError("invalid value \"" + v + "\" for " + s + ": expected text or json");
             }
             o.log_format = v;
         }},
        {"shutdown-grace", "SHUTDOWN_GRACE", "SECONDS",
         "On SIGTERM, how long requests in progress may take to finish. Default: 10.",
         [](Options& o, const std::string& v, const std::string& s) {
             o.shutdown_grace = std::chrono::seconds(parse_integer(v, s, 0, 600, "a whole number of seconds"));
         }},
    };
    return specs;
}

const OptionSpec* find_spec(const std::string& flag) {
    for (const auto& spec : option_specs()) {
        if (spec.flag == flag) return &spec;
    }
    return nullptr;
}

}  // namespace

EnvironmentLookup process_environment() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
}

std::map<std::string, std::string> parse_label_list(const std::string& text, const std::string& option) {
    std::map<std::string, std::string> labels;
    for (const auto& entry : split(text, ',')) {
        auto equals = entry.find('=');
        if (equals == std::string::npos || equals == 0) {
            throw OptionsError("invalid entry \"" + entry + "\" in " + option + ": expected key=value pairs separated by commas");
        }
        labels[entry.substr(0, equals)] = entry.substr(equals + 1);
    }
    return labels;
}

Options parse_options(const std::vector<std::string>& arguments, const EnvironmentLookup& environment) {
    Options options;

    // Environment variables first, so that flags override them.
    for (const auto& spec : option_specs()) {
        if (spec.environment.empty()) continue;
        auto value = environment(spec.environment);
        if (value && !value->empty()) {
            spec.apply(options, *value, source_name(spec.flag, spec.environment, true));
        }
    }

    for (std::size_t i = 0; i < arguments.size(); ++i) {
        const auto& argument = arguments[i];
        if (argument == "--help" || argument == "-h") throw HelpRequested(help_text());
        if (argument == "--version") throw HelpRequested(std::string("jibri-pod-controller ") + JPC_VERSION + "\n");
        if (argument.rfind("--", 0) != 0) {
            throw OptionsError("unexpected argument \"" + argument + "\"; options start with --, see --help");
        }
        auto equals = argument.find('=');
        auto flag = argument.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
        const auto* spec = find_spec(flag);
        if (spec == nullptr) throw OptionsError("unknown option \"--" + flag + "\"; see --help");

        std::string value;
        if (equals != std::string::npos) {
            value = argument.substr(equals + 1);
        } else if (spec->value_name.empty()) {
            value = "true";
        } else if (i + 1 < arguments.size()) {
            value = arguments[++i];
        } else {
            throw OptionsError("option --" + flag + " needs a value (" + spec->value_name + ")");
        }
        spec->apply(options, value, "--" + flag);
    }

    if (options.renew_deadline >= options.lease_duration) {
        throw OptionsError("--renew-deadline (" + std::to_string(options.renew_deadline.count()) +
                           " s) must be less than --lease-duration (" + std::to_string(options.lease_duration.count()) +
                           " s), so a leader stops acting before another replica may take over");
    }
    if (options.retry_period >= options.renew_deadline) {
        throw OptionsError("--retry-period (" + std::to_string(options.retry_period.count()) +
                           " s) must be less than --renew-deadline (" + std::to_string(options.renew_deadline.count()) +
                           " s), so the leader tries to renew more than once before it gives up");
    }
    return options;
}

std::string help_text() {
    std::string text =
        "Usage: jibri-pod-controller [OPTIONS]\n\n"
        "Keeps a number of idle Jibri pods ready for each JibriPool (jibri.dev/v1alpha1): records jibri status\n"
        "webhooks as pod annotations, moves busy pods out of their Deployment, deletes expired ones, and sweeps\n"
        "jibri health APIs for missed webhooks.\n\n"
        "Every option can also be set by the environment variable shown; a flag wins over the variable.\n\n";
    for (const auto& spec : option_specs()) {
        text += "  --" + spec.flag;
        if (!spec.value_name.empty()) text += " " + spec.value_name;
        if (!spec.environment.empty()) text += "   (env " + spec.environment + ")";
        text += "\n      " + spec.help + "\n";
    }
    text += "  --help\n      Print this text and exit.\n";
    text += "  --version\n      Print the version and exit.\n";
    return text;
}

}  // namespace jpc::options
