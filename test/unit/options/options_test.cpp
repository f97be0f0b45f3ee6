#include "options/options.h"

#include <catch2/catch.hpp>

#include <map>

using jpc::options::EnvironmentLookup;
using jpc::options::HelpRequested;
using jpc::options::OptionsError;
using jpc::options::parse_options;

namespace {

EnvironmentLookup environment(std::map<std::string, std::string> values) {
    return [values](const std::string& name) -> std::optional<std::string> {
        auto found = values.find(name);
        if (found == values.end()) return std::nullopt;
        return found->second;
    };
}

std::string error_of(const std::vector<std::string>& arguments, std::map<std::string, std::string> env = {}) {
    try {
        parse_options(arguments, environment(std::move(env)));
    } catch (const OptionsError& error) {
        return error.what();
    }
    return "";
}

}  // namespace

TEST_CASE("options defaults", "[options]") {
    auto options = parse_options({}, environment({}));
    CHECK(options.port == 8080);
    CHECK(options.leader_elect);
    CHECK(options.watch_namespaces.empty());
    CHECK_FALSE(options.all_namespaces);
    CHECK(options.pool_defaults.sweep_interval_seconds == 300);
    CHECK(options.pool_defaults.health_port == 2222);
    CHECK(options.pool_defaults.busy_labels.empty());
    CHECK(options.lease_duration == std::chrono::seconds(15));
}

TEST_CASE("options read the seed's environment variables", "[options]") {
    auto options = parse_options({}, environment({{"PORT", "9000"},
                                                  {"NAMESPACE", "jitsi"},
                                                  {"POD_NAME", "controller-0"},
                                                  {"SWEEP_INTERVAL", "60"},
                                                  {"JIBRI_HEALTH_PORT", "3333"},
                                                  {"JIBRI_BUSY_LABELS", "jibri-state=busy, team=a"}}));
    CHECK(options.port == 9000);
    CHECK(options.own_namespace == "jitsi");
    CHECK(options.identity == "controller-0");
    CHECK(options.pool_defaults.sweep_interval_seconds == 60);
    CHECK(options.pool_defaults.health_port == 3333);
    CHECK(options.pool_defaults.busy_labels == std::map<std::string, std::string>{{"jibri-state", "busy"}, {"team", "a"}});
}

TEST_CASE("options flags override the environment", "[options]") {
    auto options = parse_options({"--port=9100", "--watch-namespaces", "a, b", "--leader-elect=false"},
                                 environment({{"PORT", "9000"}}));
    CHECK(options.port == 9100);
    CHECK(options.watch_namespaces == std::vector<std::string>{"a", "b"});
    CHECK_FALSE(options.leader_elect);
}

TEST_CASE("options accept all namespaces", "[options]") {
    auto options = parse_options({"--watch-namespaces=*"}, environment({}));
    CHECK(options.all_namespaces);
    CHECK(options.watch_namespaces.empty());
}

TEST_CASE("options reject invalid values by name", "[options]") {
    CHECK(error_of({"--port=0"}) == "invalid value \"0\" for --port: expected a port number from 1 to 65535");
    CHECK(error_of({}, {{"PORT", "http"}}).find("\"http\" for PORT") != std::string::npos);
    CHECK(error_of({"--sweep-interval=4"}).find("from 5 to 86400") != std::string::npos);
    CHECK(error_of({}, {{"JIBRI_BUSY_LABELS", "busy"}}).find("invalid entry \"busy\" in JIBRI_BUSY_LABELS") != std::string::npos);
    CHECK(error_of({"--leader-elect=maybe"}).find("expected true or false") != std::string::npos);
    CHECK(error_of({"--log-level=loud"}).find("\"loud\"") != std::string::npos);
    CHECK(error_of({"--log-format=xml"}).find("expected text or json") != std::string::npos);
    CHECK(error_of({"--nope"}) == "unknown option \"--nope\"; see --help");
    CHECK(error_of({"stray"}).find("unexpected argument \"stray\"") != std::string::npos);
    CHECK(error_of({"--port"}) == "option --port needs a value (N)");
}

TEST_CASE("options require renew deadline below lease duration", "[options]") {
    CHECK(error_of({"--lease-duration=10", "--renew-deadline=10"}).find("must be less than --lease-duration") != std::string::npos);
    CHECK(error_of({"--renew-deadline=2", "--retry-period=2"}).find("must be less than --renew-deadline") != std::string::npos);
}

TEST_CASE("options version prints the version", "[options]") {
    try {
        parse_options({"--version"}, environment({}));
        FAIL("--version did not throw HelpRequested");
    } catch (const HelpRequested& version) {
        CHECK(std::string(version.what()) == std::string("jibri-pod-controller ") + JPC_VERSION + "\n");
    }
}

TEST_CASE("options help lists every option", "[options]") {
    try {
        parse_options({"--help"}, environment({}));
        FAIL("--help did not throw HelpRequested");
    } catch (const HelpRequested& help) {
        std::string text = help.what();
        for (const char* expected : {"--kubeconfig", "--watch-namespaces", "(env PORT)", "(env JIBRI_BUSY_LABELS)",
                                     "(env SWEEP_INTERVAL)", "(env POD_NAME)", "--log-format", "Default: 8080"}) {
            INFO(expected);
            CHECK(text.find(expected) != std::string::npos);
        }
    }
}
