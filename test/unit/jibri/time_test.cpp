#include "jibri/time.h"

#include <catch2/catch.hpp>

using namespace jpc::jibri;
using namespace std::chrono;

namespace {

Timestamp at(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
    return Timestamp{sys_days{year{y} / month{mo} / day{d}} + hours{h} + minutes{mi} +
                     seconds{s} + microseconds{us}};
}

}  // namespace

TEST_CASE("format_rfc3339_micro pads every field", "[time]") {
    CHECK(format_rfc3339_micro(at(2024, 5, 1, 12, 3, 4, 56)) == "2024-05-01T12:03:04.000056Z");
    CHECK(format_rfc3339_micro(at(1999, 12, 31, 23, 59, 59, 999999)) ==
          "1999-12-31T23:59:59.999999Z");
}

TEST_CASE("format_rfc3339 truncates the fraction", "[time]") {
    CHECK(format_rfc3339(at(2024, 5, 1, 12, 3, 4, 999999)) == "2024-05-01T12:03:04Z");
}

TEST_CASE("parse_rfc3339 accepted forms", "[time]") {
    struct Case {
        const char* text;
        Timestamp expected;
    };
    const Case cases[] = {
        {"2024-05-01T12:03:04Z", at(2024, 5, 1, 12, 3, 4)},
        {"2024-05-01T12:03:04.000056Z", at(2024, 5, 1, 12, 3, 4, 56)},
        {"2024-05-01T12:03:04.5Z", at(2024, 5, 1, 12, 3, 4, 500000)},
        {"2024-05-01T12:03:04.123456789Z", at(2024, 5, 1, 12, 3, 4, 123456)},
        {"2024-05-01t12:03:04z", at(2024, 5, 1, 12, 3, 4)},
        {"2024-05-01T14:03:04+02:00", at(2024, 5, 1, 12, 3, 4)},
        {"2024-05-01T00:03:04-01:30", at(2024, 5, 1, 1, 33, 4)},
        {"2024-02-29T00:00:00Z", at(2024, 2, 29, 0, 0, 0)},
    };
    for (const auto& c : cases) {
        INFO(c.text);
        const auto parsed = parse_rfc3339(c.text);
        REQUIRE(parsed.has_value());
        CHECK(*parsed == c.expected);
    }
}

TEST_CASE("parse_rfc3339 rejected forms", "[time]") {
    const char* cases[] = {
        "",
        "2024-05-01",
        "2024-05-01T12:03:04",
        "2024-05-01 12:03:04Z",
        "2024-13-01T12:03:04Z",
        "2023-02-29T12:03:04Z",
        "2024-05-01T24:00:00Z",
        "2024-05-01T12:60:00Z",
        "2024-05-01T12:03:60Z",
        "2024-05-01T12:03:04.Z",
        "2024-05-01T12:03:04.1234567890Z",
        "2024-05-01T12:03:04+0200",
        "2024-05-01T12:03:04Zjunk",
        "24-05-01T12:03:04Z",
    };
    for (const char* text : cases) {
        INFO(text);
        CHECK_FALSE(parse_rfc3339(text).has_value());
    }
}

TEST_CASE("rfc3339 micro round trip", "[time]") {
    const Timestamp time = at(2031, 7, 9, 1, 2, 3, 456789);
    CHECK(parse_rfc3339(format_rfc3339_micro(time)) == time);
}

TEST_CASE("truncate_to_seconds drops microseconds", "[time]") {
    CHECK(truncate_to_seconds(at(2024, 5, 1, 12, 3, 4, 999999)) == at(2024, 5, 1, 12, 3, 4));
}
