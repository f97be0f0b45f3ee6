#include "kube/errors.h"
#include "kube/watch.h"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace jpc::kube;

namespace {

std::vector<std::string> feed_all(LineReader& reader, const std::vector<std::string>& chunks) {
    std::vector<std::string> lines;
    for (const auto& chunk : chunks) {
        reader.feed(chunk, [&](std::string_view line) { lines.emplace_back(line); });
    }
    return lines;
}

}  // namespace

TEST_CASE("LineReader splits several lines in one chunk", "[watch]") {
    LineReader reader;
    auto lines = feed_all(reader, {"one\ntwo\nthree\n"});
    CHECK(lines == std::vector<std::string>{"one", "two", "three"});
    CHECK(reader.pending_bytes() == 0);
}

TEST_CASE("LineReader joins a line split across chunks", "[watch]") {
    LineReader reader;
    auto lines = feed_all(reader, {"{\"type\":\"ADD", "ED\"}\n{\"ty", "pe\"", ":1}", "\n"});
    CHECK(lines == std::vector<std::string>{"{\"type\":\"ADDED\"}", "{\"type\":1}"});
}

TEST_CASE("LineReader joins a split UTF-8 sequence", "[watch]") {
    // "é" is C3 A9 and "😀" is F0 9F 98 80; the chunks cut inside both.
    std::string text = "caf\xC3\xA9 \xF0\x9F\x98\x80";
    LineReader reader;
    auto lines = feed_all(reader, {text.substr(0, 4), text.substr(4, 3), text.substr(7, 2), text.substr(9) + "\n"});
    REQUIRE(lines.size() == 1);
    CHECK(lines[0] == text);
}

TEST_CASE("LineReader one byte at a time", "[watch]") {
    std::string stream = "ab\ncd\n\nef\n";
    LineReader reader;
    std::vector<std::string> chunks;
    for (char c : stream) chunks.emplace_back(1, c);
    auto lines = feed_all(reader, chunks);
    CHECK(lines == std::vector<std::string>{"ab", "cd", "", "ef"});
}

TEST_CASE("LineReader strips carriage returns", "[watch]") {
    LineReader reader;
    auto lines = feed_all(reader, {"a\r\nb\r", "\n"});
    CHECK(lines == std::vector<std::string>{"a", "b"});
}

TEST_CASE("LineReader keeps an unfinished tail", "[watch]") {
    LineReader reader;
    auto lines = feed_all(reader, {"done\npartial"});
    CHECK(lines == std::vector<std::string>{"done"});
    CHECK(reader.pending_bytes() == 7);
}

TEST_CASE("LineReader rejects an oversized line", "[watch]") {
    LineReader reader(16);
    std::vector<std::string> lines;
    auto collect = [&](std::string_view line) { lines.emplace_back(line); };

    reader.feed("0123456789abcdef\n", collect);  // exactly the maximum
    CHECK(lines.size() == 1);

    reader.feed("0123456789", collect);
    CHECK_THROWS_AS(reader.feed("abcdefg", collect), LineTooLongError);
    CHECK(reader.pending_bytes() == 0);
}

TEST_CASE("LineReader rejects an oversized line inside one chunk", "[watch]") {
    LineReader reader(8);
    std::vector<std::string> lines;
    CHECK_THROWS_AS(reader.feed("ok\n0123456789\n", [&](std::string_view line) { lines.emplace_back(line); }),
                    LineTooLongError);
    CHECK(lines == std::vector<std::string>{"ok"});
}

TEST_CASE("LineReader default maximum is 16 MiB", "[watch]") {
    CHECK(LineReader::default_max_line_bytes == 16u * 1024u * 1024u);
    LineReader reader;
    std::string big(LineReader::default_max_line_bytes, 'x');
    std::size_t length = 0;
    reader.feed(big, [&](std::string_view line) { length = line.size(); });
    CHECK(length == 0);
    CHECK_THROWS_AS(reader.feed("y", [](std::string_view) {}), LineTooLongError);
}

TEST_CASE("parse_watch_event reads each type", "[watch]") {
    auto added = parse_watch_event(R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"5"}}})");
    CHECK(added.type == WatchEventType::added);
    CHECK(added.object["metadata"]["name"] == "a");

    CHECK(parse_watch_event(R"({"type":"MODIFIED","object":{}})").type == WatchEventType::modified);
    CHECK(parse_watch_event(R"({"type":"DELETED","object":{}})").type == WatchEventType::deleted);

    auto bookmark = parse_watch_event(
        R"({"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"12345"}}})");
    CHECK(bookmark.type == WatchEventType::bookmark);
    CHECK(resource_version_of(bookmark.object) == "12345");
}

TEST_CASE("parse_watch_event reads an ERROR Status", "[watch]") {
    auto event = parse_watch_event(
        R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
        R"json("message":"too old resource version: 1 (200)","reason":"Expired","code":410}})json");
    REQUIRE(event.type == WatchEventType::error);
    auto error = make_watch_error(event.object, "GET", "/api/v1/pods?watch=1");
    CHECK(error.is_gone());
    CHECK(error.code() == 410);
}

TEST_CASE("watch ERROR event with mistyped Status fields", "[watch]") {
    // fuzz-watch found the first line. Of its two "kind" keys the parser keeps the last,
    // an object, and reading that as a string threw nlohmann::json::type_error out of
    // make_watch_error. A float code made the conversion to int undefined behaviour.
    struct Case {
        std::string line;
        int code;
        std::string reason;
    };
    const Case cases[] = {
        {R"json({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","stretryAfterSecondsmessage":"the server is currently unable to handle the request","reaAson":"ServiceUnavailable","details":{"retryerStecfAoersion":"7","uid":"7d3c1f0e-2a4b-4c5d-9e8f-0a1b2c3d4e5f","labels":{"app":"jibri","pod-template-hash":"5f7d8c9b6"}},"kind":{"containers":[{"name":"jibri","image":"jitsi/jibri:stable"}]},"st&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&&us":{"phase":"Running"}}})json", 500, "InternalError"},
        {R"({"type":"ERROR","object":{"kind":"Status","code":"410","reason":410,"message":["m"]}})", 500, ""},
        {R"({"type":"ERROR","object":{"kind":"Status","code":1e300,"reason":"Gone"}})", 500, "Gone"},
        {R"({"type":"ERROR","object":{"kind":"Status","code":4294967296,"reason":"Expired"}})", 500, "Expired"},
        {R"({"type":"ERROR","object":{"kind":"Status","code":-2147483649}})", 500, ""},
        {R"({"type":"ERROR","object":{"kind":"Status","code":410,"details":{"retryAfterSeconds":-5}}})", 410, ""},
        {R"({"type":"ERROR","object":{"kind":"Status","code":429,)"
         R"("details":{"retryAfterSeconds":18446744073709551615}}})",
         429, ""},
    };
    for (const auto& c : cases) {
        INFO(c.line);
        LineReader reader;
        std::vector<std::string> lines;
        reader.feed(c.line + "\n", [&](std::string_view line) { lines.emplace_back(line); });
        REQUIRE(lines.size() == 1);

        auto event = parse_watch_event(lines[0]);
        REQUIRE(event.type == WatchEventType::error);
        auto error = make_watch_error(event.object, "GET", "/api/v1/pods?watch=1");
        CHECK(error.code() == c.code);
        CHECK(error.reason() == c.reason);
        CHECK_FALSE(error.retry_after().has_value());
    }
}

TEST_CASE("parse_watch_event rejects malformed lines", "[watch]") {
    CHECK_THROWS_AS(parse_watch_event("not json"), std::invalid_argument);
    CHECK_THROWS_AS(parse_watch_event(R"({"object":{}})"), std::invalid_argument);
    CHECK_THROWS_AS(parse_watch_event(R"({"type":"ADDED"})"), std::invalid_argument);
    CHECK_THROWS_AS(parse_watch_event(R"({"type":"ADDED","object":"x"})"), std::invalid_argument);
    CHECK_THROWS_AS(parse_watch_event(R"({"type":"RENAMED","object":{}})"), std::invalid_argument);
    CHECK_THROWS_AS(parse_watch_event(R"({"type":"ADDED","object":{})"), std::invalid_argument);
}
