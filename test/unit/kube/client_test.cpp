#include "fake_api_server.h"

#include "kube/client.h"
#include "kube/watch.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using namespace std::chrono_literals;

namespace {

Config config_for(const FakeApiServer& server, const std::string& token = "test-token") {
    Config config;
    config.server = server.url();
    config.token_source = std::make_shared<StaticTokenSource>(token);
    config.default_namespace = "jitsi";
    config.source = "unit test";
    return config;
}

ClientOptions fast_retries(int attempts) {
    ClientOptions options;
    options.retry.max_attempts = attempts;
    options.retry.initial_backoff = 1ms;
    options.retry.max_backoff = 5ms;
    return options;
}

FakeResponse json_answer(const nlohmann::json& body, int status = 200) {
    FakeResponse response;
    response.status = status;
    response.body = body.dump();
    return response;
}

FakeResponse status_answer(int code, const std::string& reason) {
    return json_answer({{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
                        {"code", code},     {"reason", reason},  {"message", reason + " from fake"}},
                       code);
}

bool has_query(const std::string& path, const std::string& part) { return path.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("client sends identity headers", "[client]") {
    FakeApiServer server([](const FakeRequest&) { return json_answer({{"kind", "Pod"}}); });
    Client client(config_for(server));

    auto pod = client.get(resources::pods, "jitsi", "jibri-0");
    CHECK(pod["kind"] == "Pod");

    auto requests = server.requests();
    REQUIRE(requests.size() == 1);
    CHECK(requests[0].method == "GET");
    CHECK(requests[0].path == "/api/v1/namespaces/jitsi/pods/jibri-0");
    CHECK(requests[0].headers["user-agent"] == std::string("jibri-pod-controller/") + JPC_VERSION);
    CHECK(requests[0].headers["authorization"] == "Bearer test-token");
    CHECK(requests[0].headers["accept"] == "application/json");
}

TEST_CASE("client sends a rotated token", "[client]") {
    FakeApiServer server([](const FakeRequest&) { return json_answer({{"kind", "Pod"}}); });
    auto token_path = std::filesystem::temp_directory_path() / ("jpc-token-" + std::to_string(::getpid()));
    std::ofstream(token_path) << "old";
    Config config = config_for(server);
    config.token_source = std::make_shared<FileTokenSource>(token_path.string(), 0ms);
    Client client(config);

    client.get(resources::pods, "jitsi", "a");
    std::ofstream(token_path) << "new";
    client.get(resources::pods, "jitsi", "a");
    std::filesystem::remove(token_path);

    auto requests = server.requests();
    REQUIRE(requests.size() == 2);
    CHECK(requests[0].headers["authorization"] == "Bearer old");
    CHECK(requests[1].headers["authorization"] == "Bearer new");
}

TEST_CASE("client retries 429 after Retry-After", "[client]") {
    std::atomic<int> calls{0};
    FakeApiServer server([&](const FakeRequest&) {
        if (calls++ == 0) {
            auto answer = status_answer(429, "TooManyRequests");
            answer.headers["Retry-After"] = "1";
            return answer;
        }
        return json_answer({{"kind", "Pod"}});
    });
    Client client(config_for(server), fast_retries(3));

    auto started = std::chrono::steady_clock::now();
    auto pod = client.create(resources::pods, "jitsi", {{"metadata", {{"name", "a"}}}});
    CHECK(pod["kind"] == "Pod");
    CHECK(server.requests().size() == 2);
    CHECK(std::chrono::steady_clock::now() - started >= 1s);
}

TEST_CASE("client does not retry client errors", "[client]") {
    int code = GENERATE(404, 409, 410, 422);
    FakeApiServer server([code](const FakeRequest&) { return status_answer(code, "Fake"); });
    Client client(config_for(server), fast_retries(3));

    try {
        client.get(resources::pods, "jitsi", "a");
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.code() == code);
        CHECK(error.reason() == "Fake");
        CHECK(error.verb() == "GET");
        CHECK(error.path() == "/api/v1/namespaces/jitsi/pods/a");
    }
    CHECK(server.requests().size() == 1);
}

TEST_CASE("client retries 500 for GET only", "[client]") {
    FakeApiServer server([](const FakeRequest&) { return status_answer(500, "InternalError"); });
    Client client(config_for(server), fast_retries(3));

    CHECK_THROWS_AS(client.get(resources::pods, "jitsi", "a"), ApiError);
    CHECK(server.requests().size() == 3);

    CHECK_THROWS_AS(client.create(resources::pods, "jitsi", {{"metadata", {{"name", "a"}}}}), ApiError);
    CHECK(server.requests().size() == 4);
}

TEST_CASE("client call times out", "[client]") {
    FakeApiServer server([](const FakeRequest&) {
        auto answer = json_answer({{"kind", "Pod"}});
        answer.delay = 1500ms;
        return answer;
    });
    ClientOptions options = fast_retries(1);
    options.request_timeout = 300ms;
    Client client(config_for(server), options);

    auto started = std::chrono::steady_clock::now();
    try {
        client.get(resources::pods, "jitsi", "a");
        FAIL("no exception");
    } catch (const TransportError& error) {
        CHECK(error.kind() == TransportError::Kind::timeout);
    }
    CHECK(std::chrono::steady_clock::now() - started < 1200ms);
}

TEST_CASE("cancel before response reports cancelled", "[client]") {
    FakeApiServer server([](const FakeRequest&) {
        auto answer = json_answer({{"kind", "PodList"}});
        answer.delay = 1500ms;
        return answer;
    });
    Client client(config_for(server));
    Request request;
    request.path = "/api/v1/namespaces/jitsi/pods?watch=1";

    auto expect_cancelled = [&](const std::function<void(const Cancellation&)>& call) {
        Cancellation cancellation;
        std::thread canceller([&] {
            std::this_thread::sleep_for(200ms);
            cancellation.cancel();
        });
        auto started = std::chrono::steady_clock::now();
        try {
            call(cancellation);
            FAIL("no exception");
        } catch (const TransportError& error) {
            CHECK(error.kind() == TransportError::Kind::cancelled);
        }
        CHECK(std::chrono::steady_clock::now() - started < 1200ms);
        canceller.join();
    };
    SECTION("a plain call") {
        expect_cancelled([&](const Cancellation& cancellation) { client.transport()->send(request, &cancellation); });
    }
    SECTION("a stream before its headers") {
        expect_cancelled([&](const Cancellation& cancellation) {
            client.transport()->stream(request, [](std::string_view) { return true; }, &cancellation);
        });
    }
}

TEST_CASE("client connection refused", "[client]") {
    std::string url;
    {
        FakeApiServer closed([](const FakeRequest&) { return FakeResponse{}; });
        url = closed.url();
    }
    Config config;
    config.server = url;
    Client client(config, fast_retries(2));
    try {
        client.get(resources::pods, "jitsi", "a");
        FAIL("no exception");
    } catch (const TransportError& error) {
        CHECK(error.kind() == TransportError::Kind::connect);
        CHECK(error.verb() == "GET");
    }
}

TEST_CASE("client list_all follows continue", "[client]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (!has_query(request.path, "continue=")) {
            return json_answer({{"kind", "PodList"},
                                {"metadata", {{"resourceVersion", "100"}, {"continue", "t1"}, {"remainingItemCount", 2}}},
                                {"items", {{{"metadata", {{"name", "a"}}}}}}});
        }
        if (has_query(request.path, "continue=t1")) {
            return json_answer({{"kind", "PodList"},
                                {"metadata", {{"resourceVersion", "100"}, {"continue", "t2"}}},
                                {"items", {{{"metadata", {{"name", "b"}}}}}}});
        }
        return json_answer({{"kind", "PodList"},
                            {"metadata", {{"resourceVersion", "100"}}},
                            {"items", {{{"metadata", {{"name", "c"}}}}}}});
    });
    Client client(config_for(server));

    ListOptions options;
    options.limit = 1;
    options.label_selector = "app=jibri";
    auto list = client.list_all(resources::pods, "jitsi", options);

    REQUIRE(list["items"].size() == 3);
    CHECK(list["items"][0]["metadata"]["name"] == "a");
    CHECK(list["items"][2]["metadata"]["name"] == "c");
    CHECK(list["metadata"]["resourceVersion"] == "100");
    CHECK_FALSE(list["metadata"].contains("continue"));
    CHECK_FALSE(list["metadata"].contains("remainingItemCount"));

    auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[0].path == "/api/v1/namespaces/jitsi/pods?labelSelector=app%3Djibri&limit=1");
    CHECK(requests[1].path == "/api/v1/namespaces/jitsi/pods?labelSelector=app%3Djibri&limit=1&continue=t1");
}

TEST_CASE("client list_all restarts after an expired token", "[client]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (has_query(request.path, "continue=")) return status_answer(410, "Expired");
        if (has_query(request.path, "limit=")) {
            return json_answer({{"metadata", {{"resourceVersion", "5"}, {"continue", "stale"}}},
                                {"items", {{{"metadata", {{"name", "a"}}}}}}});
        }
        return json_answer({{"metadata", {{"resourceVersion", "9"}}},
                            {"items", {{{"metadata", {{"name", "a"}}}}, {{"metadata", {{"name", "b"}}}}}}});
    });
    Client client(config_for(server));

    auto list = client.list_all(resources::pods, "jitsi");
    CHECK(list["items"].size() == 2);
    CHECK(list["metadata"]["resourceVersion"] == "9");
    auto requests = server.requests();
    REQUIRE(requests.size() == 3);
    CHECK(requests[2].path == "/api/v1/namespaces/jitsi/pods");
}

TEST_CASE("client patch and delete bodies", "[client]") {
    FakeApiServer server([](const FakeRequest&) { return json_answer({{"kind", "Status"}, {"status", "Success"}}); });
    Client client(config_for(server));

    client.merge_patch(resources::pods, "jitsi", "a", {{"metadata", {{"labels", {{"x", "y"}}}}}});
    client.strategic_merge_patch(resources::pods, "jitsi", "a", {{"spec", nlohmann::json::object()}}, "status");
    client.apply(resources::deployments, "jitsi", "d", {{"apiVersion", "apps/v1"}}, "jpc-test", true);
    client.replace(resources::pods, "jitsi", "a", {{"status", {{"phase", "Running"}}}}, "status");
    DeleteOptions options;
    options.uid = "u-1";
    options.propagation_policy = "Background";
    client.remove(resources::pods, "jitsi", "a", options);
    client.remove(resources::pods, "jitsi", "b");
    client.patch_scale(resources::deployments, "jitsi", "d", 3);

    auto requests = server.requests();
    REQUIRE(requests.size() == 7);
    CHECK(requests[0].method == "PATCH");
    CHECK(requests[0].headers["content-type"] == "application/merge-patch+json");
    CHECK(requests[0].path == "/api/v1/namespaces/jitsi/pods/a?fieldManager=jibri-pod-controller");
    CHECK(nlohmann::json::parse(requests[0].body)["metadata"]["labels"]["x"] == "y");

    CHECK(requests[1].headers["content-type"] == "application/strategic-merge-patch+json");
    CHECK(requests[1].path == "/api/v1/namespaces/jitsi/pods/a/status?fieldManager=jibri-pod-controller");

    CHECK(requests[2].headers["content-type"] == "application/apply-patch+yaml");
    CHECK(requests[2].path == "/apis/apps/v1/namespaces/jitsi/deployments/d?fieldManager=jpc-test&force=true");

    CHECK(requests[3].method == "PUT");
    CHECK(requests[3].path == "/api/v1/namespaces/jitsi/pods/a/status?fieldManager=jibri-pod-controller");

    CHECK(requests[4].method == "DELETE");
    CHECK(nlohmann::json::parse(requests[4].body) ==
          nlohmann::json{{"preconditions", {{"uid", "u-1"}}}, {"propagationPolicy", "Background"}});
    CHECK(requests[5].body.empty());

    CHECK(requests[6].path == "/apis/apps/v1/namespaces/jitsi/deployments/d/scale?fieldManager=jibri-pod-controller");
    CHECK(nlohmann::json::parse(requests[6].body) == nlohmann::json{{"spec", {{"replicas", 3}}}});
}

TEST_CASE("client create_event body", "[client]") {
    FakeApiServer server([](const FakeRequest& request) {
        FakeResponse echo;
        echo.status = 201;
        echo.body = request.body;
        return echo;
    });
    Client client(config_for(server));
    nlohmann::json pod = {{"apiVersion", "v1"},
                          {"kind", "Pod"},
                          {"metadata", {{"namespace", "jitsi"}, {"name", "jibri-0"}, {"uid", "u"}, {"resourceVersion", "7"}}}};

    EventRecord record;
    record.involved_object = object_reference(pod);
    record.reason = "PodReleased";
    record.message = "jibri-0 is busy and left the Deployment";
    record.instance = "jpc-0";
    auto event = client.create_event(record);

    CHECK(server.requests().at(0).path == "/api/v1/namespaces/jitsi/events?fieldManager=jibri-pod-controller");
    CHECK(event["involvedObject"] == nlohmann::json{{"apiVersion", "v1"}, {"kind", "Pod"}, {"namespace", "jitsi"},
                                                    {"name", "jibri-0"}, {"uid", "u"}, {"resourceVersion", "7"}});
    CHECK(event["metadata"]["namespace"] == "jitsi");
    CHECK(event["metadata"]["name"].get<std::string>().rfind("jibri-0.", 0) == 0);
    CHECK(event["type"] == "Normal");
    CHECK(event["reason"] == "PodReleased");
    CHECK(event["count"] == 1);
    CHECK(event["source"]["component"] == "jibri-pod-controller");
    CHECK(event["source"]["host"] == "jpc-0");
    CHECK(event["firstTimestamp"] == event["lastTimestamp"]);
    CHECK(event["firstTimestamp"].get<std::string>().size() == 20);
}

TEST_CASE("watch passes events in order", "[watch]") {
    FakeApiServer server([](const FakeRequest&) {
        FakeResponse answer;
        answer.body =
            R"({"type":"ADDED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"11"}}})"
            "\n"
            R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"12"}}})"
            "\n"
            R"({"type":"MODIFIED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"13"}}})"
            "\n"
            R"({"type":"DELETED","object":{"kind":"Pod","metadata":{"name":"a","resourceVersion":"14"}}})"
            "\n";
        return answer;
    });
    Client client(config_for(server));

    WatchOptions options;
    options.list.resource_version = "10";
    options.list.label_selector = "app=jibri";
    options.timeout_seconds = 60;
    std::vector<WatchEventType> types;
    auto result = watch(client, resources::pods, "jitsi", options, [&](const WatchEvent& event) {
        types.push_back(event.type);
        return true;
    });

    CHECK(types == std::vector<WatchEventType>{WatchEventType::added, WatchEventType::bookmark,
                                               WatchEventType::modified, WatchEventType::deleted});
    CHECK(result.end == WatchEnd::closed);
    CHECK(result.resource_version == "14");
    CHECK(result.events == 4);
    CHECK(server.requests().at(0).path ==
          "/api/v1/namespaces/jitsi/pods?labelSelector=app%3Djibri&resourceVersion=10&timeoutSeconds=60"
          "&allowWatchBookmarks=true&watch=1");
}

TEST_CASE("watch handler stops the stream", "[watch]") {
    FakeApiServer server([](const FakeRequest&) {
        FakeResponse answer;
        for (int i = 1; i <= 5; ++i) {
            answer.body += R"({"type":"ADDED","object":{"metadata":{"name":"p)" + std::to_string(i) +
                           R"(","resourceVersion":")" + std::to_string(i) + "\"}}}\n";
        }
        return answer;
    });
    Client client(config_for(server));
    int seen = 0;
    auto result = watch(client, resources::pods, "jitsi", {}, [&](const WatchEvent&) { return ++seen < 2; });
    CHECK(seen == 2);
    CHECK(result.end == WatchEnd::stopped);
    CHECK(result.resource_version == "2");
}

TEST_CASE("watch ERROR event throws gone", "[watch]") {
    FakeApiServer server([](const FakeRequest&) {
        FakeResponse answer;
        answer.body = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"3"}}})"
                      "\n"
                      R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure",)"
                      R"json("message":"too old resource version: 1 (3)","reason":"Expired","code":410}})json"
                      "\n";
        return answer;
    });
    Client client(config_for(server));
    int seen = 0;
    try {
        watch(client, resources::pods, "jitsi", {}, [&](const WatchEvent&) { return ++seen > 0; });
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.is_gone());
        CHECK(error.api_message() == "too old resource version: 1 (3)");
    }
    CHECK(seen == 1);
}

TEST_CASE("watch 410 answer throws gone", "[watch]") {
    FakeApiServer server([](const FakeRequest&) { return status_answer(410, "Expired"); });
    Client client(config_for(server));
    try {
        watch(client, resources::pods, "jitsi", {}, [](const WatchEvent&) { return true; });
        FAIL("no exception");
    } catch (const ApiError& error) {
        CHECK(error.is_gone());
        CHECK(error.code() == 410);
    }
}

TEST_CASE("watch rejects an oversized event", "[watch]") {
    FakeApiServer server([](const FakeRequest&) {
        FakeResponse answer;
        answer.body = std::string(4096, 'x') + "\n";
        return answer;
    });
    Client client(config_for(server));
    WatchOptions options;
    options.max_line_bytes = 1024;
    CHECK_THROWS_AS(watch(client, resources::pods, "jitsi", options, [](const WatchEvent&) { return true; }),
                    LineTooLongError);
}
