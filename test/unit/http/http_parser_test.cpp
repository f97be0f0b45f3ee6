#include "http/http_parser.h"

#include <catch2/catch.hpp>

#include <string>

using jpc::http::HttpParser;
using jpc::http::HttpParserLimits;
using State = HttpParser::State;

namespace {

// Feeds the whole text in pieces of the given size and returns the final state.
State feed_in_pieces(HttpParser& parser, const std::string& text, std::size_t piece) {
    State state = State::NeedMore;
    std::size_t offset = 0;
    while (offset < text.size()) {
        std::string_view chunk(text.data() + offset, std::min(piece, text.size() - offset));
        state = parser.feed(chunk);
        if (state != State::NeedMore) return state;
        REQUIRE(parser.consumed() == chunk.size());
        offset += chunk.size();
    }
    return state;
}

}  // namespace

TEST_CASE("parser reads a POST with Content-Length in any split", "[http]") {
    const std::string text =
        "POST /webhook/jibri-0/v1/status?x=1 HTTP/1.1\r\n"
        "Host: operator\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 13\r\n"
        "\r\n"
        "{\"a\":\"hello\"}";
    for (std::size_t piece : {1u, 2u, 7u, 64u, 4096u}) {
        HttpParser parser;
        INFO("piece size " << piece);
        REQUIRE(feed_in_pieces(parser, text, piece) == State::Complete);
        const auto& request = parser.request();
        CHECK(request.method == "POST");
        CHECK(request.path == "/webhook/jibri-0/v1/status");
        CHECK(request.query == "x=1");
        CHECK(request.header("content-type") == "application/json");
        CHECK(request.body == "{\"a\":\"hello\"}");
        CHECK(request.keep_alive());
    }
}

TEST_CASE("parser leaves a pipelined request unconsumed", "[http]") {
    const std::string first = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const std::string second = "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
    HttpParser parser;
    REQUIRE(parser.feed(first + second) == State::Complete);
    CHECK(parser.consumed() == first.size());
    CHECK(parser.request().path == "/");

    parser.reset();
    REQUIRE(parser.feed(second) == State::Complete);
    CHECK(parser.request().path == "/metrics");
    CHECK_FALSE(parser.request().keep_alive());
}

TEST_CASE("parser decodes a chunked body", "[http]") {
    const std::string text =
        "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    for (std::size_t piece : {1u, 3u, 100u}) {
        HttpParser parser;
        INFO("piece size " << piece);
        REQUIRE(feed_in_pieces(parser, text, piece) == State::Complete);
        CHECK(parser.request().body == "hello world");
    }
}

TEST_CASE("parser rejects bad requests with their status", "[http]") {
    struct Case {
        const char* name;
        std::string text;
        int status;
    };
    const Case cases[] = {
        {"no version", "GET /\r\n\r\n", 400},
        {"relative target", "GET webhook HTTP/1.1\r\n\r\n", 400},
        {"space in target", "GET /a b HTTP/1.1\r\n\r\n", 400},
        {"HTTP/2", "GET / HTTP/2.0\r\n\r\n", 505},
        {"header without colon", "GET / HTTP/1.1\r\nbroken\r\n\r\n", 400},
        {"space before colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"letters in Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400},
        {"conflicting Content-Length", "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400},
        {"both framings", "POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        {"gzip transfer encoding", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        {"body over limit", "POST / HTTP/1.1\r\nContent-Length: 65537\r\n\r\n", 413},
        {"chunk over limit", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n10001\r\n", 413},
        {"bad chunk size", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
        {"chunk without CRLF", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXY", 400},
    };
    for (const auto& test : cases) {
        HttpParser parser;
        INFO(test.name);
        REQUIRE(parser.feed(test.text) == State::Failed);
        CHECK(parser.error_status() == test.status);
        CHECK_FALSE(parser.error_reason().empty());
    }
}

TEST_CASE("parser limits the header size", "[http]") {
    HttpParser parser(HttpParserLimits{128, 1024});
    std::string text = "GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n";
    REQUIRE(feed_in_pieces(parser, text, 10) == State::Failed);
    CHECK(parser.error_status() == 431);
}

TEST_CASE("parser accepts a head of exactly the limit", "[http]") {
    std::string head = "GET / HTTP/1.1\r\nX: ";
    head += std::string(128 - head.size(), 'a');
    REQUIRE(head.size() == 128);
    HttpParser parser(HttpParserLimits{128, 1024});
    CHECK(feed_in_pieces(parser, head + "\r\n\r\n", 5) == State::Complete);
}

TEST_CASE("parser honours HTTP/1.0 keep-alive rules", "[http]") {
    HttpParser plain;
    REQUIRE(plain.feed("GET / HTTP/1.0\r\n\r\n") == State::Complete);
    CHECK_FALSE(plain.request().keep_alive());

    HttpParser kept;
    REQUIRE(kept.feed("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n") == State::Complete);
    CHECK(kept.request().keep_alive());
}
