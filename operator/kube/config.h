#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace jpc::kube {

// The source of the bearer token sent with every request. Implementations are thread-safe.
class TokenSource {
public:
    virtual ~TokenSource() = default;
    // Returns the current token. Throws std::runtime_error when no token can be produced.
    virtual std::string token() = 0;
};

// A token fixed at construction, from a kubeconfig `token` key.
class StaticTokenSource final : public TokenSource {
public:
    explicit StaticTokenSource(std::string token) : token_(std::move(token)) {}
    std::string token() override { return token_; }

private:
    std::string token_;
};

// A token read from a file and read again once `refresh_period` has passed since the last
// read, because bound service account tokens are rotated by the kubelet (about hourly)
// and the old one stops working. client-go re-reads once a minute, hence the default.
// When a re-read fails or yields an empty file, the previous token stays in use and a
// warning is logged. The constructor reads the file once and throws when it cannot.
class FileTokenSource final : public TokenSource {
public:
    explicit FileTokenSource(std::string path,
                             std::chrono::milliseconds refresh_period = std::chrono::minutes(1));
    std::string token() override;
    const std::string& path() const { return path_; }

private:
    std::string path_;
    std::chrono::milliseconds refresh_period_;
    std::mutex mutex_;
    std::string token_;
    std::chrono::steady_clock::time_point read_at_;
};

// How to reach and authenticate to one API server. Certificate and key fields hold either
// a file path or PEM data; when both forms are set, the data wins, as in client-go.
struct Config {
    std::string server;  // "https://host:port", no trailing slash

    std::string ca_file;  // PEM bundle trusted for the server's certificate
    std::string ca_data;  // the same as PEM text
    // Skips server certificate verification. Allowed because kubeconfig allows it, but the
    // transport logs a warning for every client built with it.
    bool insecure_skip_tls_verify = false;

    std::string client_certificate_file;
    std::string client_certificate_data;
    std::string client_key_file;
    std::string client_key_data;

    std::shared_ptr<TokenSource> token_source;  // null: no Authorization header

    // The context's namespace, or the pod's namespace in cluster; "default" when unset.
    std::string default_namespace = "default";

    // Where the settings came from, for logs and errors: "kubeconfig /x context dev" or
    // "in-cluster". Never contains secrets.
    std::string source;
};

// Loads one context of a kubeconfig file. `path` may list several files separated by ':'
// like $KUBECONFIG; they are merged as kubectl does (the first file that sets a key or
// names an entry wins). An empty `context` selects current-context. Relative file paths
// in the file resolve against the folder of the file that contains them. Throws
// std::runtime_error naming the file, the key and the fix, for example
//   kubeconfig /x: context "dev" not found; contexts are: a, b
// Supported user credentials: token, tokenFile, client-certificate(-data) with
// client-key(-data). A user with exec or auth-provider is rejected, since this client
// cannot run credential plugins.
Config load_kubeconfig(const std::string& path, const std::string& context = {});

// Parses kubeconfig YAML text as if it were the file at `path` (used for messages and to
// resolve relative paths). load_kubeconfig reads files and calls this.
Config parse_kubeconfig(const std::string& yaml, const std::string& path,
                        const std::string& context = {});

// Builds the in-cluster configuration from KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT
// and the service account files token, ca.crt and namespace in `secrets_dir`. The token is
// a FileTokenSource, so rotation is picked up. Throws std::runtime_error when a variable
// or the token file is missing.
Config in_cluster_config(
    const std::string& secrets_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

// Chooses the configuration the way kubectl and client-go do: the --kubeconfig flag when
// non-empty, else $KUBECONFIG when set, else ~/.kube/config when it exists, else the
// in-cluster configuration. `context` applies to the kubeconfig cases only.
Config load_config(const std::string& kubeconfig_flag = {}, const std::string& context = {});

}  // namespace jpc::kube
