#include "kube/errors.h"

#include <catch2/catch.hpp>

using namespace jpc::kube;
using namespace std::chrono_literals;

namespace {

std::string status_body(int code, const std::string& reason, const std::string& message) {
    return nlohmann::json{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                          {"code", code},     {"reason", reason},  {"message", message}}
        .dump();
}


template <typename Error>
std::exception_ptr pointer_to(Error error) {
    return std::make_exception_ptr(std::move(error));
}

}  // namespace

TEST_CASE("ApiError maps Status codes to predicates", "[errors]") {
    auto not_found = make_api_error(404, status_body(404, "NotFound", "pods \"x\" not found"), "GET",
                                    "/api/v1/namespaces/a/pods/x");
    CHECK(not_found.is_not_found());
    CHECK_FALSE(not_found.is_conflict());
    CHECK(not_found.code() == 404);
    CHECK(not_found.reason() == "NotFound");
    CHECK(not_found.api_message() == "pods \"x\" not found");
    CHECK(not_found.verb() == "GET");
    CHECK(not_found.path() == "/api/v1/namespaces/a/pods/x");
    CHECK(std::string(not_found.what()) == "GET /api/v1/namespaces/a/pods/x: 404 NotFound: pods \"x\" not found");

    auto conflict = make_api_error(409, status_body(409, "Conflict", "the object has been modified"), "PUT", "/p");
    CHECK(conflict.is_conflict());
    CHECK_FALSE(conflict.is_already_exists());

    auto exists = make_api_error(409, status_body(409, "AlreadyExists", "exists"), "POST", "/p");
    CHECK(exists.is_conflict());
    CHECK(exists.is_already_exists());

    auto gone = make_api_error(410, status_body(410, "Gone", "too old resource version"), "GET", "/p");
    CHECK(gone.is_gone());

    auto invalid = make_api_error(422, status_body(422, "Invalid", "spec.x: Required value"), "POST", "/p");
    CHECK(invalid.is_invalid());
    CHECK_FALSE(invalid.is_server_error());

    auto busy = make_api_error(503, status_body(503, "ServiceUnavailable", "etcd down"), "GET", "/p");
    CHECK(busy.is_server_error());
    CHECK_FALSE(busy.is_too_many_requests());
}

TEST_CASE("ApiError reads Retry-After", "[errors]") {
    auto from_header = make_api_error(429, status_body(429, "TooManyRequests", "slow down"), "GET", "/p", " 3 ");
    CHECK(from_header.is_too_many_requests());
    REQUIRE(from_header.retry_after().has_value());
    CHECK(*from_header.retry_after() == 3s);

    nlohmann::json with_details = nlohmann::json::parse(status_body(429, "TooManyRequests", "later"));
    with_details["details"] = {{"retryAfterSeconds", 7}};
    auto from_details = make_api_error(429, with_details.dump(), "GET", "/p");
    REQUIRE(from_details.retry_after().has_value());
    CHECK(*from_details.retry_after() == 7s);

    auto http_date = make_api_error(429, "", "GET", "/p", "Wed, 21 Oct 2015 07:28:00 GMT");
    CHECK_FALSE(http_date.retry_after().has_value());
}

TEST_CASE("ApiError keeps a non-Status body", "[errors]") {
    auto error = make_api_error(502, "<html>bad gateway</html>", "GET", "/p");
    CHECK(error.code() == 502);
    CHECK(error.reason().empty());
    CHECK(error.api_message() == "<html>bad gateway</html>");
    CHECK(error.status().is_null());

    std::string huge(10000, 'x');
    auto long_error = make_api_error(500, huge, "GET", "/p");
    CHECK(long_error.api_message().size() < 600);
}

TEST_CASE("watch ERROR Expired is gone", "[errors]") {
    nlohmann::json status = nlohmann::json::parse(
        status_body(410, "Expired", "too old resource version: 5 (100)"));
    auto error = make_watch_error(status, "GET", "/api/v1/pods?watch=1");
    CHECK(error.code() == 410);
    CHECK(error.is_gone());
    CHECK(error.api_message() == "too old resource version: 5 (100)");

    auto expired_only = make_watch_error({{"kind", "Status"}, {"reason", "Expired"}, {"code", 500}}, "GET", "/p");
    CHECK(expired_only.is_gone());

    auto not_status = make_watch_error({{"kind", "Pod"}}, "GET", "/p");
    CHECK(not_status.code() == 500);
}

TEST_CASE("RetryPolicy retries transient errors only", "[errors]") {
    RetryPolicy policy;
    auto api = [](int code) { return pointer_to(make_api_error(code, "", "GET", "/p")); };
    auto transport = [](TransportError::Kind kind) { return pointer_to(TransportError(kind, "GET", "/p", "x")); };

    CHECK(policy.is_retryable(api(429), "POST"));
    CHECK(policy.is_retryable(api(503), "POST"));
    CHECK(policy.is_retryable(api(500), "GET"));
    CHECK(policy.is_retryable(api(504), "PATCH"));
    CHECK_FALSE(policy.is_retryable(api(500), "POST"));
    CHECK_FALSE(policy.is_retryable(api(404), "GET"));
    CHECK_FALSE(policy.is_retryable(api(409), "PUT"));
    CHECK_FALSE(policy.is_retryable(api(410), "GET"));
    CHECK_FALSE(policy.is_retryable(api(422), "POST"));

    CHECK(policy.is_retryable(transport(TransportError::Kind::connect), "POST"));
    CHECK(policy.is_retryable(transport(TransportError::Kind::timeout), "GET"));
    CHECK_FALSE(policy.is_retryable(transport(TransportError::Kind::timeout), "POST"));
    CHECK_FALSE(policy.is_retryable(transport(TransportError::Kind::broken), "POST"));
    CHECK_FALSE(policy.is_retryable(transport(TransportError::Kind::cancelled), "GET"));
    CHECK_FALSE(policy.is_retryable(std::make_exception_ptr(std::runtime_error("other")), "GET"));
}

TEST_CASE("RetryPolicy delay honours Retry-After", "[errors]") {
    RetryPolicy policy;
    Backoff backoff = policy.make_backoff();
    auto throttled = pointer_to(make_api_error(429, "", "GET", "/p", "2"));
    CHECK(policy.delay(throttled, backoff) == 2000ms);

    auto failed = pointer_to(make_api_error(503, "", "GET", "/p"));
    auto delay = policy.delay(failed, backoff);
    // The first Retry-After took the first backoff step, so this is the second: 2 * 250 ms.
    CHECK(delay >= 500ms);
    CHECK(delay <= 600ms);
}

TEST_CASE("Backoff grows, caps and jitters", "[errors]") {
    Backoff backoff(100ms, 1000ms, 2.0, 0.5);
    std::vector<std::chrono::milliseconds> expected_base{100ms, 200ms, 400ms, 800ms, 1000ms, 1000ms};
    for (auto base : expected_base) {
        auto delay = backoff.next();
        CHECK(delay >= base);
        CHECK(delay <= base * 3 / 2);
    }
    backoff.reset();
    auto first = backoff.next();
    CHECK(first >= 100ms);
    CHECK(first <= 150ms);

    Backoff without_jitter(10ms, 40ms, 2.0, 0.0);
    CHECK(without_jitter.next() == 10ms);
    CHECK(without_jitter.next() == 20ms);
    CHECK(without_jitter.next() == 40ms);
    CHECK(without_jitter.next() == 40ms);
}

TEST_CASE("RetryPolicy delay with huge Retry-After", "[errors]") {
    // Converting more than about 9.2e15 s to milliseconds overflows their 64-bit count.
    // The delay saturates instead, so the client gives up.
    RetryPolicy policy;
    Backoff backoff = policy.make_backoff();
    auto huge = pointer_to(make_api_error(429, "", "GET", "/p", "9223372036854775807"));
    CHECK(policy.delay(huge, backoff) == std::chrono::milliseconds::max());
    CHECK(policy.delay(huge, backoff) > policy.max_retry_after);
}

TEST_CASE("ApiError ignores mistyped Status fields", "[errors]") {
    auto error = make_api_error(
        503, R"({"kind":"Status","reason":["x"],"message":7,"details":{"retryAfterSeconds":-1}})", "GET", "/p");
    CHECK(error.code() == 503);
    CHECK(error.reason().empty());
    CHECK(error.api_message().empty());
    CHECK_FALSE(error.retry_after().has_value());

    auto kind_not_string = make_api_error(500, R"({"kind":{"a":1},"reason":"x"})", "GET", "/p");
    CHECK(kind_not_string.reason().empty());
    CHECK(kind_not_string.status().is_object());
}
