#include "kube/config.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace jpc::kube {

namespace {

namespace fs = std::filesystem;

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

std::string trim(std::string text) {
    auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
    while (!text.empty() && is_space(text.back())) text.pop_back();
    std::size_t start = 0;
    while (start < text.size() && is_space(text[start])) ++start;
    return text.substr(start);
}

// Decodes standard base64 (RFC 4648, padding optional, whitespace ignored).
std::optional<std::string> decode_base64(const std::string& text) {
    std::string out;
    unsigned int accumulator = 0;
    int bits = 0;
    for (char c : text) {
        int value;
        if (c >= 'A' && c <= 'Z') value = c - 'A';
        else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
        else if (c >= '0' && c <= '9') value = c - '0' + 52;
        else if (c == '+') value = 62;
        else if (c == '/') value = 63;
        else if (c == '=') break;
        else if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
        else return std::nullopt;
        accumulator = (accumulator << 6) | static_cast<unsigned int>(value);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((accumulator >> bits) & 0xFF));
        }
    }
    return out;
}

// One file of a kubeconfig path list, parsed.
struct KubeconfigFile {
    std::string path;
    YAML::Node root;
};

// A named entry (cluster, user or context) and the file that defined it.
struct Entry {
    YAML::Node body;
    const KubeconfigFile* file = nullptr;
};

class Kubeconfig {
public:
    Kubeconfig(std::vector<KubeconfigFile> files, std::string label)
        : files_(std::move(files)), label_(std::move(label)) {}

    [[noreturn]] void fail(const std::string& what) const {
        throw std::runtime_error(fmt::format("kubeconfig {}: {}", label_, what));
    }

    std::string current_context() const {
        for (const auto& file : files_) {
            auto node = file.root["current-context"];
            if (node && node.IsScalar() && !node.as<std::string>().empty()) return node.as<std::string>();
        }
        return {};
    }

    // The entry named `name` in the list `section` ("clusters", "users", "contexts"),
    // whose body sits under the key `field` ("cluster", "user", "context").
    std::optional<Entry> find(const std::string& section, const std::string& field,
                              const std::string& name) const {
        for (const auto& file : files_) {
            auto list = file.root[section];
            if (!list || !list.IsSequence()) continue;
            for (const auto& item : list) {
                if (!item.IsMap() || !item["name"] || entry_name(item, section) != name) continue;
                auto body = item[field];
                if (!body || body.IsNull()) return Entry{YAML::Node(YAML::NodeType::Map), &file};
                if (!body.IsMap()) fail(fmt::format("{} \"{}\": {} is not a map", section, name, field));
                return Entry{body, &file};
            }
        }
        return std::nullopt;
    }

    std::string names(const std::string& section) const {
        std::string joined;
        for (const auto& file : files_) {
            auto list = file.root[section];
            if (!list || !list.IsSequence()) continue;
            for (const auto& item : list) {
                if (!item.IsMap() || !item["name"]) continue;
                if (!joined.empty()) joined += ", ";
                joined += entry_name(item, section);
            }
        }
        return joined.empty() ? "(none)" : joined;
    }

    const std::string& label() const { return label_; }

private:
    // The name of an entry of `section`. A map or list there would make yaml-cpp throw
    // BadConversion, whose message does not name the file, so it fails here instead.
    std::string entry_name(const YAML::Node& item, const std::string& section) const {
        auto name = item["name"];
        if (name.IsMap() || name.IsSequence()) fail(fmt::format("{}: an entry's name is a map or a list; it must be a string", section));
        return name.as<std::string>();
    }

    std::vector<KubeconfigFile> files_;
    std::string label_;
};

std::string scalar(const YAML::Node& body, const std::string& key) {
    auto node = body[key];
    if (!node || node.IsNull()) return {};
    if (!node.IsScalar()) return {};
    return node.as<std::string>();
}

// Resolves a path from a kubeconfig against the folder of the file that contains it.
std::string resolve(const std::string& path, const KubeconfigFile& file) {
    if (path.empty() || fs::path(path).is_absolute()) return path;
    return (fs::path(file.path).parent_path() / path).lexically_normal().string();
}

// Reads the file or base64 data form of a certificate or key into `file_out`/`data_out`.
// Returns whether either form is set.
bool read_pem_field(const Kubeconfig& config, const Entry& entry, const std::string& where,
                    const std::string& key, std::string& file_out, std::string& data_out) {
    std::string data = scalar(entry.body, key + "-data");
    if (!data.empty()) {
        auto decoded = decode_base64(data);
        if (!decoded) {
            config.fail(fmt::format("{}: {}-data is not valid base64; encode the PEM file with 'base64 -w0'",
                                    where, key));
        }
        data_out = *decoded;
        return true;
    }
    std::string path = scalar(entry.body, key);
    if (path.empty()) return false;
    file_out = resolve(path, *entry.file);
    if (!fs::exists(file_out)) {
        config.fail(fmt::format("{}: {} {} does not exist; fix the path (relative paths start at {})",
                                where, key, file_out, fs::path(entry.file->path).parent_path().string()));
    }
    return true;
}

void fill_cluster(const Kubeconfig& config, const Entry& entry, const std::string& name, Config& out) {
    std::string where = fmt::format("cluster \"{}\"", name);
    out.server = scalar(entry.body, "server");
    if (out.server.empty()) config.fail(where + ": server is missing; set it to the API server's https URL");
    while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();

    read_pem_field(config, entry, where, "certificate-authority", out.ca_file, out.ca_data);
    std::string insecure = scalar(entry.body, "insecure-skip-tls-verify");
    out.insecure_skip_tls_verify = insecure == "true";
    if (out.insecure_skip_tls_verify && (!out.ca_file.empty() || !out.ca_data.empty())) {
        config.fail(where + " sets both insecure-skip-tls-verify and a certificate-authority; remove one");
    }
    if (out.insecure_skip_tls_verify) {
        spdlog::warn("kubeconfig {}: {} sets insecure-skip-tls-verify; the API server's certificate is not verified",
                     config.label(), where);
    }
}

void fill_user(const Kubeconfig& config, const Entry& entry, const std::string& name, Config& out) {
    std::string where = fmt::format("user \"{}\"", name);
    if (entry.body["exec"]) {
        config.fail(where + " uses an exec credential plugin, which this client does not run; "
                            "use token, tokenFile or client-certificate/client-key instead");
    }
    if (entry.body["auth-provider"]) {
        config.fail(where + " uses an auth-provider, which this client does not support; "
                            "use token, tokenFile or client-certificate/client-key instead");
    }
    if (!scalar(entry.body, "username").empty() || !scalar(entry.body, "password").empty()) {
        config.fail(where + " uses username/password (basic authentication), which this client does not "
                            "support; use token, tokenFile or client-certificate/client-key instead");
    }

    bool has_cert = read_pem_field(config, entry, where, "client-certificate", out.client_certificate_file,
                                   out.client_certificate_data);
    bool has_key = read_pem_field(config, entry, where, "client-key", out.client_key_file, out.client_key_data);
    if (has_cert != has_key) {
        config.fail(fmt::format("{} sets {} without {}; set both or neither", where,
                                has_cert ? "client-certificate" : "client-key",
                                has_cert ? "client-key" : "client-certificate"));
    }

    // As in client-go, tokenFile wins over token when both are set, because only the file
    // follows rotation.
    std::string token_file = scalar(entry.body, "tokenFile");
    std::string token = scalar(entry.body, "token");
    if (!token_file.empty()) {
        std::string path = resolve(token_file, *entry.file);
        try {
            out.token_source = std::make_shared<FileTokenSource>(path);
        } catch (const std::exception& error) {
            config.fail(fmt::format("{}: tokenFile: {}", where, error.what()));
        }
    } else if (!token.empty()) {
        out.token_source = std::make_shared<StaticTokenSource>(token);
    }
}

Config build_config(const Kubeconfig& config, const std::string& requested_context) {
    std::string context_name = requested_context.empty() ? config.current_context() : requested_context;
    if (context_name.empty()) {
        config.fail(fmt::format("current-context is not set and no context was requested; "
                                "pass a context or run 'kubectl config use-context NAME' (contexts are: {})",
                                config.names("contexts")));
    }
    auto context = config.find("contexts", "context", context_name);
    if (!context) {
        config.fail(fmt::format("context \"{}\" not found; contexts are: {}", context_name,
                                config.names("contexts")));
    }

    Config out;
    out.source = fmt::format("kubeconfig {} context {}", config.label(), context_name);

    std::string cluster_name = scalar(context->body, "cluster");
    if (cluster_name.empty()) {
        config.fail(fmt::format("context \"{}\" names no cluster; set contexts[].context.cluster", context_name));
    }
    auto cluster = config.find("clusters", "cluster", cluster_name);
    if (!cluster) {
        config.fail(fmt::format("context \"{}\" names cluster \"{}\", which is not defined; clusters are: {}",
                                context_name, cluster_name, config.names("clusters")));
    }
    fill_cluster(config, *cluster, cluster_name, out);

    std::string user_name = scalar(context->body, "user");
    if (!user_name.empty()) {
        auto user = config.find("users", "user", user_name);
        if (!user) {
            config.fail(fmt::format("context \"{}\" names user \"{}\", which is not defined; users are: {}",
                                    context_name, user_name, config.names("users")));
        }
        fill_user(config, *user, user_name, out);
    }

    std::string ns = scalar(context->body, "namespace");
    out.default_namespace = ns.empty() ? "default" : ns;
    return out;
}

KubeconfigFile parse_file(const std::string& yaml, const std::string& path) {
    KubeconfigFile file{path, {}};
    try {
        file.root = YAML::Load(yaml);
    } catch (const YAML::Exception& error) {
        throw std::runtime_error(fmt::format("kubeconfig {}: invalid YAML: {}", path, error.what()));
    }
    if (file.root.IsNull()) file.root = YAML::Node(YAML::NodeType::Map);
    if (!file.root.IsMap()) {
        throw std::runtime_error(fmt::format("kubeconfig {}: the top level is not a map; is this a kubeconfig?", path));
    }
    return file;
}

std::vector<std::string> split_path_list(const std::string& list) {
    std::vector<std::string> paths;
    std::string current;
    for (char c : list) {
        if (c == ':') {
            if (!current.empty()) paths.push_back(current);
            current.clear();
        } else {
            current.push_back(c);
        }
    }
    if (!current.empty()) paths.push_back(current);
    return paths;
}

const char* env(const char* name) {
    const char* value = std::getenv(name);
    return value != nullptr && *value != '\0' ? value : nullptr;
}

}  // namespace

FileTokenSource::FileTokenSource(std::string path, std::chrono::milliseconds refresh_period)
    : path_(std::move(path)), refresh_period_(refresh_period) {
    auto content = read_file(path_);
    if (!content) throw std::runtime_error(fmt::format("cannot read token file {}", path_));
    token_ = trim(*content);
    if (token_.empty()) throw std::runtime_error(fmt::format("token file {} is empty", path_));
    read_at_ = std::chrono::steady_clock::now();
}

std::string FileTokenSource::token() {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (now - read_at_ < refresh_period_) return token_;

    read_at_ = now;
    auto content = read_file(path_);
    std::string fresh = content ? trim(*content) : std::string();
    if (fresh.empty()) {
        spdlog::warn("cannot read a token from {}; using the token read before", path_);
        return token_;
    }
    if (fresh != token_) spdlog::info("token file {} changed; using the new token", path_);
    token_ = std::move(fresh);
    return token_;
}

Config parse_kubeconfig(const std::string& yaml, const std::string& path, const std::string& context) {
    std::vector<KubeconfigFile> files;
    files.push_back(parse_file(yaml, path));
    return build_config(Kubeconfig(std::move(files), path), context);
}

Config load_kubeconfig(const std::string& path, const std::string& context) {
    auto paths = split_path_list(path);
    if (paths.empty()) throw std::runtime_error("kubeconfig path is empty");

    // Like kubectl, a list skips files that do not exist; a single path must exist.
    std::vector<KubeconfigFile> files;
    for (const auto& file_path : paths) {
        auto content = read_file(file_path);
        if (!content) {
            if (paths.size() == 1 || fs::exists(file_path)) {
                throw std::runtime_error(fmt::format("kubeconfig {}: cannot read the file; check the path "
                                                     "given by --kubeconfig or KUBECONFIG",
                                                     file_path));
            }
            continue;
        }
        files.push_back(parse_file(*content, file_path));
    }
    if (files.empty()) {
        throw std::runtime_error(fmt::format("kubeconfig {}: none of the files exists", path));
    }
    return build_config(Kubeconfig(std::move(files), path), context);
}

Config in_cluster_config(const std::string& secrets_dir) {
    const char* host = env("KUBERNETES_SERVICE_HOST");
    const char* port = env("KUBERNETES_SERVICE_PORT");
    if (host == nullptr || port == nullptr) {
        throw std::runtime_error(
            "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, "
            "so this is not a pod; pass --kubeconfig or set KUBECONFIG");
    }
    Config out;
    std::string host_text = host;
    if (host_text.find(':') != std::string::npos) host_text = "[" + host_text + "]";
    out.server = fmt::format("https://{}:{}", host_text, port);
    out.source = "in-cluster";

    std::string token_path = secrets_dir + "/token";
    try {
        out.token_source = std::make_shared<FileTokenSource>(token_path);
    } catch (const std::exception& error) {
        throw std::runtime_error(fmt::format("in-cluster configuration: {}; is automountServiceAccountToken "
                                             "disabled for this pod?",
                                             error.what()));
    }

    std::string ca_path = secrets_dir + "/ca.crt";
    if (fs::exists(ca_path)) {
        out.ca_file = ca_path;
    } else {
        spdlog::warn("in-cluster configuration: {} does not exist; verifying the API server with the "
                     "system's trusted CAs",
                     ca_path);
    }

    auto ns = read_file(secrets_dir + "/namespace");
    if (ns && !trim(*ns).empty()) out.default_namespace = trim(*ns);
    return out;
}

Config load_config(const std::string& kubeconfig_flag, const std::string& context) {
    if (!kubeconfig_flag.empty()) return load_kubeconfig(kubeconfig_flag, context);
    if (const char* from_env = env("KUBECONFIG")) return load_kubeconfig(from_env, context);
    if (const char* home = env("HOME")) {
        std::string default_path = std::string(home) + "/.kube/config";
        if (fs::exists(default_path)) return load_kubeconfig(default_path, context);
    }
    return in_cluster_config();
}

}  // namespace jpc::kube
