#include "kube_cluster.h"

#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::LocalCluster;
using jpc::test::run_process;

namespace {

// A temporary folder for generated keys, removed on destruction.
class KeyDir {
public:
    KeyDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "jpc-tls-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = pattern;
    }
    ~KeyDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
    std::string path_;
};

void openssl(const std::vector<std::string>& args) {
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_process(argv);
    if (result.exit_code != 0) throw std::runtime_error("openssl failed: " + result.err);
}

Config cluster_config() { return load_kubeconfig(LocalCluster::current().kubeconfig); }

ClientOptions no_retries() {
    ClientOptions options;
    options.retry = RetryPolicy::none();
    return options;
}

}  // namespace

TEST_CASE("tls rejects a server signed by another CA", "[cluster][tls]") {
    KeyDir keys;
    openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=other-ca", "-keyout",
             keys.file("other.key"), "-out", keys.file("other.crt")});
    Config config = cluster_config();
    config.ca_file = keys.file("other.crt");
    Client client(config, no_retries());
    try {
        client.get(resources::namespaces, "", "default");
        FAIL("connected to a server the CA did not sign");
    } catch (const TransportError& error) {
        CHECK(error.kind() == TransportError::Kind::connect);
    }
}

TEST_CASE("tls without a CA uses system trust and fails", "[cluster][tls]") {
    Config config = cluster_config();
    config.ca_file.clear();
    Client client(config, no_retries());
    CHECK_THROWS_AS(client.get(resources::namespaces, "", "default"), TransportError);
}

TEST_CASE("tls CA as PEM data", "[cluster][tls]") {
    Config config = cluster_config();
    auto pem = run_process({"cat", config.ca_file});
    config.ca_file.clear();
    config.ca_data = pem.out;
    Client client(config, no_retries());
    CHECK(name_of(client.get(resources::namespaces, "", "default")) == "default");
}

TEST_CASE("tls insecure skip verify connects", "[cluster][tls]") {
    Config config = cluster_config();
    config.ca_file.clear();
    config.insecure_skip_tls_verify = true;
    Client client(config, no_retries());
    CHECK(name_of(client.get(resources::namespaces, "", "default")) == "default");
}

TEST_CASE("client certificate authenticates", "[cluster][tls]") {
    // The API server trusts client certificates signed by the cluster CA; the group
    // system:masters grants admin rights.
    const auto& cluster = LocalCluster::current();
    KeyDir keys;
    openssl({"req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=system:masters/CN=jpc-cert-user", "-keyout",
             keys.file("client.key"), "-out", keys.file("client.csr")});
    openssl({"x509", "-req", "-in", keys.file("client.csr"), "-CA", cluster.dir + "/pki/ca.crt", "-CAkey",
             cluster.dir + "/pki/ca.key", "-CAcreateserial", "-CAserial", keys.file("ca.srl"), "-days", "1", "-out",
             keys.file("client.crt")});

    Config config = cluster_config();
    config.token_source = nullptr;
    config.client_certificate_file = keys.file("client.crt");
    config.client_key_file = keys.file("client.key");
    Client client(config, no_retries());
    CHECK(name_of(client.get(resources::namespaces, "", "default")) == "default");

    Config mismatched = config;
    openssl({"genrsa", "-out", keys.file("other.key"), "2048"});
    mismatched.client_key_file = keys.file("other.key");
    CHECK_THROWS_WITH(Client(mismatched), Catch::Contains("invalid certificate, key or certificate-authority"));
}

TEST_CASE("wrong token is unauthorized", "[cluster][tls]") {
    Config config = cluster_config();
    config.token_source = std::make_shared<StaticTokenSource>("not-a-valid-token");
    Client client(config, no_retries());
    try {
        client.get(resources::namespaces, "", "default");
        FAIL("a wrong token was accepted");
    } catch (const ApiError& error) {
        CHECK(error.is_unauthorized());
        CHECK(std::string(error.what()).find("not-a-valid-token") == std::string::npos);
    }
}
