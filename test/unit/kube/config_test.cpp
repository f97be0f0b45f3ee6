#include "kube/config.h"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <typeinfo>

using namespace jpc::kube;
namespace fs = std::filesystem;

namespace {

// A folder under the system temp folder, removed with its content on destruction.
class TempDir {
public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "jpc-kube-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        fs::remove_all(path_, ignored);
    }
    const fs::path& path() const { return path_; }

    std::string write(const std::string& relative, const std::string& content) const {
        fs::path file = path_ / relative;
        fs::create_directories(file.parent_path());
        std::ofstream(file) << content;
        return file.string();
    }

private:
    fs::path path_;
};

// Sets an environment variable for one scope and restores the old value afterwards.
class EnvGuard {
public:
    EnvGuard(const char* name, const std::optional<std::string>& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value) ::setenv(name, value->c_str(), 1);
        else ::unsetenv(name);
    }
    ~EnvGuard() {
        if (old_) ::setenv(name_, old_->c_str(), 1);
        else ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

std::string error_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const std::exception& error) {
        return error.what();
    }
    return "(no exception)";
}

const char* token_kubeconfig = R"(apiVersion: v1
kind: Config
current-context: a
clusters:
- name: c1
  cluster:
    server: https://127.0.0.1:6443/
    certificate-authority: pki/ca.crt
- name: c2
  cluster:
    server: https://127.0.0.2:6443
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
    token: secret-token
- name: u2
  user:
    tokenFile: tokens/u2
contexts:
- name: a
  context:
    cluster: c1
    user: u1
    namespace: jitsi
- name: b
  context:
    cluster: c2
    user: u2
)";

}  // namespace

TEST_CASE("kubeconfig with token and current context", "[config]") {
    TempDir dir;
    dir.write("pki/ca.crt", "ca");
    dir.write("tokens/u2", "file-token\n");
    auto path = dir.write("config", token_kubeconfig);

    Config config = load_kubeconfig(path);
    CHECK(config.server == "https://127.0.0.1:6443");
    CHECK(config.ca_file == (dir.path() / "pki/ca.crt").string());
    CHECK(config.ca_data.empty());
    CHECK_FALSE(config.insecure_skip_tls_verify);
    REQUIRE(config.token_source);
    CHECK(config.token_source->token() == "secret-token");
    CHECK(config.default_namespace == "jitsi");
    CHECK(config.source == "kubeconfig " + path + " context a");
    CHECK(config.source.find("secret-token") == std::string::npos);
}

TEST_CASE("kubeconfig named context with tokenFile", "[config]") {
    TempDir dir;
    dir.write("pki/ca.crt", "ca");
    dir.write("tokens/u2", "  file-token\n");
    auto path = dir.write("config", token_kubeconfig);

    Config config = load_kubeconfig(path, "b");
    CHECK(config.server == "https://127.0.0.2:6443");
    CHECK(config.insecure_skip_tls_verify);
    CHECK(config.ca_file.empty());
    REQUIRE(config.token_source);
    CHECK(config.token_source->token() == "file-token");
    CHECK(config.default_namespace == "default");
}

TEST_CASE("kubeconfig client certificate files", "[config]") {
    TempDir dir;
    dir.write("certs/client.crt", "cert");
    dir.write("certs/client.key", "key");
    auto path = dir.write("config", R"(current-context: x
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: u
  user:
    client-certificate: certs/client.crt
    client-key: ./certs/client.key
contexts:
- name: x
  context: {cluster: c, user: u}
)");
    Config config = load_kubeconfig(path);
    CHECK(config.client_certificate_file == (dir.path() / "certs/client.crt").string());
    CHECK(config.client_key_file == (dir.path() / "certs/client.key").string());
    CHECK_FALSE(config.token_source);
}

TEST_CASE("kubeconfig data fields are base64", "[config]") {
    // "Y2EtcGVt" is base64 of "ca-pem", "Y2VydA==" of "cert", "a2V5" of "key".
    Config config = parse_kubeconfig(R"(current-context: x
clusters:
- name: c
  cluster:
    server: https://127.0.0.1:1
    certificate-authority-data: Y2EtcGVt
users:
- name: u
  user:
    client-certificate-data: Y2VydA==
    client-key-data: a2V5
contexts:
- name: x
  context: {cluster: c, user: u}
)",
                                     "/virtual/config");
    CHECK(config.ca_data == "ca-pem");
    CHECK(config.client_certificate_data == "cert");
    CHECK(config.client_key_data == "key");
    CHECK(config.ca_file.empty());
}

TEST_CASE("kubeconfig absolute paths stay", "[config]") {
    TempDir dir;
    auto ca = dir.write("elsewhere/ca.crt", "ca");
    Config config = parse_kubeconfig("current-context: x\nclusters:\n- name: c\n  cluster:\n    server: https://h:1\n"
                                     "    certificate-authority: " + ca + "\ncontexts:\n- name: x\n  context: {cluster: c}\n",
                                     "/nowhere/config");
    CHECK(config.ca_file == ca);
}

TEST_CASE("kubeconfig errors name the key and the fix", "[config]") {
    const std::string path = "/x";
    auto load = [&](const std::string& yaml, const std::string& context = {}) {
        return error_of([&] { parse_kubeconfig(yaml, path, context); });
    };
    const std::string two_contexts = R"(current-context: a
clusters: [{name: c, cluster: {server: "https://h:1"}}]
contexts:
- {name: a, context: {cluster: c}}
- {name: b, context: {cluster: c}}
)";

    CHECK(load(two_contexts, "dev") == "kubeconfig /x: context \"dev\" not found; contexts are: a, b");
    CHECK(load("clusters: []\ncontexts: [{name: a, context: {cluster: c}}]\n") ==
          "kubeconfig /x: current-context is not set and no context was requested; pass a context or run "
          "'kubectl config use-context NAME' (contexts are: a)");
    CHECK(load("current-context: a\ncontexts: [{name: a, context: {cluster: nope}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n") ==
          "kubeconfig /x: context \"a\" names cluster \"nope\", which is not defined; clusters are: c");
    CHECK(load("current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
               "clusters: [{name: c, cluster: {}}]\n") ==
          "kubeconfig /x: cluster \"c\": server is missing; set it to the API server's https URL");
    CHECK(load("current-context: a\ncontexts: [{name: a, context: {cluster: c, user: ghost}}]\n"
               "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\nusers: [{name: u, user: {}}]\n") ==
          "kubeconfig /x: context \"a\" names user \"ghost\", which is not defined; users are: u");
    CHECK(load("current-context: a\n:: [\n").rfind("kubeconfig /x: invalid YAML", 0) == 0);
    CHECK(load("- just\n- a list\n") == "kubeconfig /x: the top level is not a map; is this a kubeconfig?");
}

TEST_CASE("kubeconfig rejects a name that is not a string", "[config]") {
    // yaml-cpp throws BadConversion, whose message names no file, when a name is read as a
    // string but is a map or a list. fuzz-kubeconfig found the first input.
    const std::string found_by_fuzzing = R"(apiVersion: v1
kind: Config
current-contex>: b
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    certificate-aucertificate-authority name: c2
  cluster:
    servej: https://[::1]:6443
d: Config
current-context: b
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443
    name: c2
  cluster:
    server: https://[::1]:6443
1    insecure-skip-tls-verify: true
contexts:
- name: a
  context: {cluster: c1, namespace: jitsi}
- name:xt: {cluster: c1, namespace: jitsi}
- name: {cluster: c2}
)";
    struct Case {
        std::string yaml;
        std::string message;
    };
    const Case cases[] = {
        {found_by_fuzzing, "kubeconfig /x: contexts: an entry's name is a map or a list; it must be a string"},
        {"current-context: a\ncontexts: [{name: [a], context: {cluster: c}}]\n",
         "kubeconfig /x: contexts: an entry's name is a map or a list; it must be a string"},
        {"current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\nclusters: [{name: {c: 1}}]\n",
         "kubeconfig /x: clusters: an entry's name is a map or a list; it must be a string"},
    };
    for (const auto& c : cases) {
        INFO(c.yaml);
        try {
            parse_kubeconfig(c.yaml, "/x");
            FAIL("parse_kubeconfig accepted the input");
        } catch (const std::runtime_error& error) {
            CHECK(typeid(error) == typeid(std::runtime_error));
            CHECK(std::string(error.what()) == c.message);
        }
    }
}

TEST_CASE("kubeconfig rejects unsupported users", "[config]") {
    auto with_user = [](const std::string& user) {
        return error_of([&] {
            parse_kubeconfig("current-context: a\ncontexts: [{name: a, context: {cluster: c, user: u}}]\n"
                             "clusters: [{name: c, cluster: {server: 'https://h:1'}}]\n"
                             "users: [{name: u, user: " + user + "}]\n",
                             "/x");
        });
    };
    CHECK(with_user("{exec: {command: aws}}") ==
          "kubeconfig /x: user \"u\" uses an exec credential plugin, which this client does not run; "
          "use token, tokenFile or client-certificate/client-key instead");
    CHECK(with_user("{auth-provider: {name: gcp}}").find("auth-provider") != std::string::npos);
    CHECK(with_user("{username: a, password: b}").find("basic authentication") != std::string::npos);
    CHECK(with_user("{client-certificate-data: Y2VydA==}") ==
          "kubeconfig /x: user \"u\" sets client-certificate without client-key; set both or neither");
    CHECK(with_user("{client-key-data: '%%%'}") ==
          "kubeconfig /x: user \"u\": client-key-data is not valid base64; encode the PEM file with 'base64 -w0'");
    CHECK(with_user("{tokenFile: /does/not/exist}") ==
          "kubeconfig /x: user \"u\": tokenFile: cannot read token file /does/not/exist");
}

TEST_CASE("kubeconfig rejects missing files and insecure with CA", "[config]") {
    TempDir dir;
    auto path = dir.write("config", "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                                    "clusters: [{name: c, cluster: {server: 'https://h:1', "
                                    "certificate-authority: missing.crt}}]\n");
    CHECK(error_of([&] { load_kubeconfig(path); }) ==
          "kubeconfig " + path + ": cluster \"c\": certificate-authority " + (dir.path() / "missing.crt").string() +
              " does not exist; fix the path (relative paths start at " + dir.path().string() + ")");

    CHECK(error_of([&] {
              parse_kubeconfig("current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                               "clusters: [{name: c, cluster: {server: 'https://h:1', "
                               "insecure-skip-tls-verify: true, certificate-authority-data: Y2E=}}]\n",
                               "/x");
          }) == "kubeconfig /x: cluster \"c\" sets both insecure-skip-tls-verify and a certificate-authority; remove one");

    CHECK(error_of([&] { load_kubeconfig((dir.path() / "absent").string()); }) ==
          "kubeconfig " + (dir.path() / "absent").string() +
              ": cannot read the file; check the path given by --kubeconfig or KUBECONFIG");
}

TEST_CASE("kubeconfig list merges files", "[config]") {
    TempDir first_dir;
    TempDir second_dir;
    second_dir.write("ca.crt", "ca");
    auto first = first_dir.write("config", R"(current-context: merged
contexts:
- {name: merged, context: {cluster: shared, user: me, namespace: one}}
users:
- {name: me, user: {token: first-wins}}
)");
    auto second = second_dir.write("config", R"(current-context: ignored
clusters:
- {name: shared, cluster: {server: "https://127.0.0.1:7", certificate-authority: ca.crt}}
users:
- {name: me, user: {token: second-loses}}
)");
    auto missing = (first_dir.path() / "absent").string();

    Config config = load_kubeconfig(first + ":" + missing + ":" + second);
    CHECK(config.server == "https://127.0.0.1:7");
    CHECK(config.ca_file == (second_dir.path() / "ca.crt").string());
    REQUIRE(config.token_source);
    CHECK(config.token_source->token() == "first-wins");
    CHECK(config.default_namespace == "one");
}

TEST_CASE("FileTokenSource reads a rotated token", "[config]") {
    TempDir dir;
    auto path = dir.write("token", "first\n");
    FileTokenSource source(path, std::chrono::milliseconds(0));
    CHECK(source.token() == "first");

    dir.write("token", "second");
    CHECK(source.token() == "second");

    // An empty file during rotation keeps the last good token.
    dir.write("token", "");
    CHECK(source.token() == "second");

    fs::remove(path);
    CHECK(source.token() == "second");
}

TEST_CASE("FileTokenSource caches within the period", "[config]") {
    TempDir dir;
    auto path = dir.write("token", "first");
    FileTokenSource source(path, std::chrono::hours(1));
    dir.write("token", "second");
    CHECK(source.token() == "first");

    CHECK_THROWS_WITH(FileTokenSource((dir.path() / "absent").string()),
                      "cannot read token file " + (dir.path() / "absent").string());
    auto empty = dir.write("empty", "\n");
    CHECK_THROWS_WITH(FileTokenSource(empty), "token file " + empty + " is empty");
}

TEST_CASE("in_cluster_config reads the service account", "[config]") {
    TempDir dir;
    dir.write("token", "sa-token\n");
    dir.write("ca.crt", "ca");
    dir.write("namespace", "jitsi\n");
    EnvGuard host("KUBERNETES_SERVICE_HOST", "127.0.0.1");
    EnvGuard port("KUBERNETES_SERVICE_PORT", "8443");

    Config config = in_cluster_config(dir.path().string());
    CHECK(config.server == "https://127.0.0.1:8443");
    CHECK(config.ca_file == (dir.path() / "ca.crt").string());
    CHECK(config.default_namespace == "jitsi");
    REQUIRE(config.token_source);
    CHECK(config.token_source->token() == "sa-token");
    CHECK(config.source == "in-cluster");
}

TEST_CASE("in_cluster_config brackets IPv6 hosts", "[config]") {
    TempDir dir;
    dir.write("token", "t");
    EnvGuard host("KUBERNETES_SERVICE_HOST", "::1");
    EnvGuard port("KUBERNETES_SERVICE_PORT", "443");
    Config config = in_cluster_config(dir.path().string());
    CHECK(config.server == "https://[::1]:443");
    CHECK(config.ca_file.empty());
    CHECK(config.default_namespace == "default");
}

TEST_CASE("in_cluster_config errors outside a pod", "[config]") {
    TempDir dir;
    EnvGuard host("KUBERNETES_SERVICE_HOST", std::nullopt);
    EnvGuard port("KUBERNETES_SERVICE_PORT", "443");
    CHECK(error_of([&] { in_cluster_config(dir.path().string()); }) ==
          "in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set, so this is "
          "not a pod; pass --kubeconfig or set KUBECONFIG");

    EnvGuard with_host("KUBERNETES_SERVICE_HOST", "127.0.0.1");
    CHECK(error_of([&] { in_cluster_config(dir.path().string()); })
              .find("cannot read token file " + dir.path().string() + "/token") != std::string::npos);
}

TEST_CASE("load_config precedence", "[config]") {
    TempDir dir;
    auto kubeconfig_for = [&](const std::string& name, const std::string& server) {
        return dir.write(name, "current-context: a\ncontexts: [{name: a, context: {cluster: c}}]\n"
                               "clusters: [{name: c, cluster: {server: '" + server + "'}}]\n");
    };
    auto flag = kubeconfig_for("flag", "https://flag:1");
    auto from_env = kubeconfig_for("env", "https://env:1");
    kubeconfig_for("home/.kube/config", "https://home:1");

    EnvGuard home("HOME", (dir.path() / "home").string());
    EnvGuard kubeconfig("KUBECONFIG", from_env);
    CHECK(load_config(flag).server == "https://flag:1");
    CHECK(load_config().server == "https://env:1");
    {
        EnvGuard no_env("KUBECONFIG", std::nullopt);
        CHECK(load_config().server == "https://home:1");

        EnvGuard empty_home("HOME", (dir.path() / "nohome").string());
        EnvGuard no_host("KUBERNETES_SERVICE_HOST", std::nullopt);
        CHECK(error_of([] { load_config(); }).rfind("in-cluster configuration:", 0) == 0);
    }
}
