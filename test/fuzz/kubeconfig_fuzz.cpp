// Fuzzes the kubeconfig parser: parse_kubeconfig on the input as YAML text, with the
// current context. Its documented error is std::runtime_error with a message that names
// the file, so an exception of any other type, a subclass included (yaml-cpp's
// exceptions and std::filesystem::filesystem_error derive from std::runtime_error), is a
// finding. So is an accepted configuration that breaks the Config contract.

#include "fuzz_support.h"

#include "kube/config.h"

#include <spdlog/spdlog.h>

#include <cxxabi.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>

namespace {

using jpc::fuzz::check;

// The file the text claims to come from. Its folder does not exist, so relative paths in
// the input resolve to files that do not exist either.
const std::string kubeconfig_path = "/nonexistent-fuzz/kubeconfig";

// tokenFile makes the parser read a whole file, so a device file such as /dev/zero or
// /dev/stdin would never end or would block. That is a hazard of the test machine, not a
// parser bug. The target skips every input that contains "dev", "proc" or "run", which
// covers /dev, /proc and /run, or a backslash, because a double-quoted YAML string can
// spell a path with escapes.
bool may_name_special_file(std::string_view text) {
    return text.find("dev") != std::string_view::npos || text.find("proc") != std::string_view::npos ||
           text.find("run") != std::string_view::npos || text.find('\\') != std::string_view::npos;
}

// The demangled name of a type, such as YAML::TypedBadConversion<std::string>.
std::string type_name(const std::type_info& type) {
    int status = 0;
    std::unique_ptr<char, decltype(&std::free)> demangled(
        abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
    return status == 0 && demangled ? demangled.get() : type.name();
}

void check_config(const jpc::kube::Config& config) {
    check(!config.server.empty(), "an accepted kubeconfig has a server");
    check(config.server.back() != '/', "the server has no trailing slash");
    check(!config.default_namespace.empty(), "the default namespace is set");
    check(!(config.insecure_skip_tls_verify && (!config.ca_file.empty() || !config.ca_data.empty())),
          "insecure-skip-tls-verify never comes with a certificate authority");
    const bool has_certificate = !config.client_certificate_file.empty() || !config.client_certificate_data.empty();
    const bool has_key = !config.client_key_file.empty() || !config.client_key_data.empty();
    check(has_certificate == has_key, "a client certificate comes with a client key");
    check(config.source.starts_with("kubeconfig " + kubeconfig_path + " context "),
          "the source names the file and the context");
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // The parser logs a warning for insecure-skip-tls-verify, which would flood the output.
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = jpc::fuzz::as_text(data, size);
    if (may_name_special_file(text)) {
        return 0;
    }

    try {
        check_config(jpc::kube::parse_kubeconfig(std::string(text), kubeconfig_path));
    } catch (const std::runtime_error& error) {
        if (typeid(error) != typeid(std::runtime_error)) {
            jpc::fuzz::fail("parse_kubeconfig threw " + type_name(typeid(error)) + ": " + error.what());
        }
        check(std::string_view(error.what()).starts_with("kubeconfig " + kubeconfig_path + ": "),
              "a kubeconfig error names the file");
    }
    return 0;
}
