#include "jibri/names.h"

#include <catch2/catch.hpp>

#include <string>

using namespace jpc::jibri;

TEST_CASE("dns1123 label valid names", "[names]") {
    const std::string cases[] = {"a", "jitsi", "jibri-0", "0abc", std::string(63, 'a')};
    for (const auto& name : cases) {
        INFO(name);
        CHECK_FALSE(validate_dns1123_label(name).has_value());
    }
}

TEST_CASE("dns1123 label invalid names", "[names]") {
    struct Case {
        std::string name;
        const char* reason_part;
    };
    const Case cases[] = {
        {"", "empty"},
        {std::string(64, 'a'), "64 characters"},
        {"Jitsi", "character \"J\""},
        {"a.b", "character \".\""},
        {"-a", "start and end"},
        {"a-", "start and end"},
        {"a_b", "character \"_\""},
        {"caf\xc3\xa9", "\\xc3"},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto reason = validate_dns1123_label(c.name);
        REQUIRE(reason.has_value());
        CHECK_THAT(*reason, Catch::Contains(c.reason_part));
        CHECK(reason->find('\n') == std::string::npos);
    }
}

TEST_CASE("dns1123 subdomain valid names", "[names]") {
    const std::string cases[] = {"jibri-6d9f7c5b8-x2k4q", "a.b.c", "0", std::string(253, 'a')};
    for (const auto& name : cases) {
        INFO(name);
        CHECK_FALSE(validate_dns1123_subdomain(name).has_value());
    }
}

TEST_CASE("dns1123 subdomain invalid names", "[names]") {
    struct Case {
        std::string name;
        const char* reason_part;
    };
    const Case cases[] = {
        {"", "empty"},
        {std::string(254, 'a'), "254 characters"},
        {"a..b", "empty part"},
        {".a", "empty part"},
        {"a.", "empty part"},
        {"a.-b", "start and end"},
        {"Pod", "character \"P\""},
        {"a/b", "character \"/\""},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        const auto reason = validate_dns1123_subdomain(c.name);
        REQUIRE(reason.has_value());
        CHECK_THAT(*reason, Catch::Contains(c.reason_part));
    }
}
