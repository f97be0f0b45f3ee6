#include "fake_api_server.h"

#include "kube/informer.h"

#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using namespace std::chrono_literals;

namespace {

Config config_for(const FakeApiServer& server) {
    Config config;
    config.server = server.url();
    config.source = "unit test";
    return config;
}

nlohmann::json pod(const std::string& name, const std::string& version) {
    return {{"metadata", {{"namespace", "jitsi"}, {"name", name}, {"resourceVersion", version}}}};
}

FakeResponse list_answer(const std::string& version, const std::vector<nlohmann::json>& items) {
    FakeResponse answer;
    answer.body = nlohmann::json{{"kind", "PodList"}, {"apiVersion", "v1"},
                                 {"metadata", {{"resourceVersion", version}}}, {"items", items}}
                      .dump();
    return answer;
}

std::string event_line(const std::string& type, nlohmann::json object) {
    object["kind"] = "Pod";
    object["apiVersion"] = "v1";
    return nlohmann::json{{"type", type}, {"object", object}}.dump() + "\n";
}

const std::string gone_line =
    R"({"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Expired",)"
    R"json("message":"too old resource version: 10 (15)","code":410}})json"
    "\n";

// An empty watch that the server ends after a short while, as after timeoutSeconds.
FakeResponse quiet_watch() {
    FakeResponse answer;
    answer.delay = 100ms;
    return answer;
}

bool is_watch(const FakeRequest& request) { return request.path.find("watch=1") != std::string::npos; }

// Handler calls recorded as "add a", "update b 6->12", "delete a".
class Recorder {
public:
    InformerHandlers handlers() {
        InformerHandlers handlers;
        handlers.on_add = [this](const nlohmann::json& object) { record("add " + name_of(object)); };
        handlers.on_update = [this](const nlohmann::json& old_object, const nlohmann::json& object) {
            record("update " + name_of(object) + " " + resource_version_of(old_object) + "->" +
                   resource_version_of(object));
        };
        handlers.on_delete = [this](const nlohmann::json& object) { record("delete " + name_of(object)); };
        return handlers;
    }
    std::vector<std::string> calls() const {
        std::lock_guard lock(mutex_);
        return calls_;
    }

private:
    void record(const std::string& call) {
        std::lock_guard lock(mutex_);
        calls_.push_back(call);
    }
    mutable std::mutex mutex_;
    std::vector<std::string> calls_;
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (condition()) return true;
        std::this_thread::sleep_for(10ms);
    }
    return condition();
}

std::vector<std::string> names(const std::vector<ObjectPtr>& objects) {
    std::vector<std::string> result;
    for (const auto& object : objects) result.push_back(name_of(*object));
    return result;
}

}  // namespace

TEST_CASE("informer relists after 410 and emits the difference", "[informer]") {
    std::mutex mutex;
    int lists = 0;
    FakeApiServer server([&](const FakeRequest& request) {
        std::lock_guard lock(mutex);
        if (!is_watch(request)) {
            if (++lists == 1) return list_answer("10", {pod("a", "5"), pod("b", "6")});
            return list_answer("20", {pod("b", "12"), pod("c", "13"), pod("d", "11")});
        }
        if (request.path.find("resourceVersion=10&") != std::string::npos) {
            FakeResponse answer;
            answer.body = event_line("ADDED", pod("d", "11")) + gone_line;
            return answer;
        }
        return quiet_watch();
    });

    Recorder recorder;
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    options.label_selector = "app=jibri";
    Informer informer(Client(config_for(server)), options, recorder.handlers());
    informer.start();

    REQUIRE(informer.wait_for_sync(5s));
    REQUIRE(eventually([&] { return informer.stats().relists == 2 && informer.stats().watch_restarts >= 1; }));

    CHECK(recorder.calls() == std::vector<std::string>{"add a", "add b", "add d", "delete a", "update b 6->12", "add c"});
    CHECK(names(informer.list()) == std::vector<std::string>{"b", "c", "d"});
    REQUIRE(informer.get("jitsi", "b"));
    CHECK(resource_version_of(*informer.get("jitsi", "b")) == "12");
    CHECK(informer.get("jitsi", "a") == nullptr);

    auto stats = informer.stats();
    CHECK(stats.gone == 1);
    CHECK(stats.errors == 0);
    CHECK(stats.events == 1);
    informer.stop();

    // Every watch after the relist starts from the relist's resourceVersion, 20.
    std::vector<std::string> watch_paths;
    for (const auto& request : server.requests()) {
        if (is_watch(request)) watch_paths.push_back(request.path);
    }
    REQUIRE(watch_paths.size() >= 2);
    CHECK(watch_paths[0] ==
          "/api/v1/namespaces/jitsi/pods?labelSelector=app%3Djibri&resourceVersion=10&timeoutSeconds=300"
          "&allowWatchBookmarks=true&watch=1");
    CHECK(watch_paths[1].find("resourceVersion=20&") != std::string::npos);
}

TEST_CASE("informer applies watch events to the store", "[informer]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (!is_watch(request)) return list_answer("1", {pod("a", "1")});
        if (request.path.find("resourceVersion=1&") != std::string::npos) {
            FakeResponse answer;
            answer.body = event_line("MODIFIED", pod("a", "2")) + event_line("ADDED", pod("b", "3")) +
                          event_line("DELETED", pod("a", "4")) +
                          R"({"type":"BOOKMARK","object":{"kind":"Pod","metadata":{"resourceVersion":"9"}}})"
                          "\n";
            return answer;
        }
        return quiet_watch();
    });
    Recorder recorder;
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    Informer informer(Client(config_for(server)), options, recorder.handlers());
    informer.start();

    REQUIRE(eventually([&] { return informer.stats().watch_restarts >= 1; }));
    CHECK(recorder.calls() == std::vector<std::string>{"add a", "update a 1->2", "add b", "delete a"});
    CHECK(names(informer.list()) == std::vector<std::string>{"b"});

    // The bookmark moved the resume point. The restart counter rises as the next watch is
    // opened, which can be before the server has received it, so this waits for it.
    auto resumed_at_bookmark = [&] {
        for (const auto& request : server.requests()) {
            if (is_watch(request) && request.path.find("resourceVersion=9&") != std::string::npos) return true;
        }
        return false;
    };
    CHECK(eventually(resumed_at_bookmark));
    informer.stop();
}

TEST_CASE("informer transform drops fields", "[informer]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (is_watch(request)) return quiet_watch();
        auto item = pod("a", "1");
        item["metadata"]["managedFields"] = nlohmann::json::array({{{"manager", "kubectl"}}});
        return list_answer("1", {item});
    });
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    options.transform = [](nlohmann::json& object) { object["metadata"].erase("managedFields"); };
    nlohmann::json added;
    InformerHandlers handlers;
    handlers.on_add = [&](const nlohmann::json& object) { added = object; };
    Informer informer(Client(config_for(server)), options, handlers);
    informer.start();
    REQUIRE(informer.wait_for_sync(5s));

    auto stored = informer.get("jitsi", "a");
    REQUIRE(stored);
    CHECK_FALSE((*stored)["metadata"].contains("managedFields"));
    CHECK((*stored)["kind"] == "Pod");
    CHECK((*stored)["apiVersion"] == "v1");
    CHECK_FALSE(added["metadata"].contains("managedFields"));
    informer.stop();
}

TEST_CASE("informer resyncs on its period", "[informer]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (is_watch(request)) return quiet_watch();
        return list_answer("1", {pod("a", "1"), pod("b", "1")});
    });
    Recorder recorder;
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    options.resync_period = 300ms;
    Informer informer(Client(config_for(server)), options, recorder.handlers());
    informer.start();

    REQUIRE(eventually([&] { return recorder.calls().size() >= 6; }));
    auto calls = recorder.calls();
    CHECK(calls[0] == "add a");
    CHECK(calls[1] == "add b");
    CHECK(calls[2] == "update a 1->1");
    CHECK(calls[3] == "update b 1->1");
    CHECK(informer.stats().relists == 1);
    informer.stop();
}

TEST_CASE("informer retries a failing list", "[informer]") {
    std::atomic<int> lists{0};
    FakeApiServer server([&](const FakeRequest& request) {
        if (is_watch(request)) return quiet_watch();
        if (lists++ < 2) {
            FakeResponse failure;
            failure.status = 403;
            failure.body = R"({"kind":"Status","code":403,"reason":"Forbidden","message":"no"})";
            return failure;
        }
        return list_answer("1", {pod("a", "1")});
    });
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    options.initial_backoff = 20ms;
    options.max_backoff = 50ms;
    Informer informer(Client(config_for(server)), options);
    informer.start();

    REQUIRE(informer.wait_for_sync(5s));
    CHECK(informer.size() == 1);
    CHECK(informer.stats().errors == 2);
    CHECK(informer.stats().relists == 1);
    informer.stop();
}

TEST_CASE("informer stop interrupts a watch", "[informer]") {
    FakeApiServer server([](const FakeRequest& request) {
        if (!is_watch(request)) return list_answer("1", {});
        FakeResponse slow;
        slow.delay = 3s;
        return slow;
    });
    InformerOptions options;
    options.type = resources::pods;
    options.ns = "jitsi";
    Informer informer(Client(config_for(server)), options);
    informer.start();
    REQUIRE(informer.wait_for_sync(5s));
    std::this_thread::sleep_for(200ms);

    auto started = std::chrono::steady_clock::now();
    informer.stop();
    CHECK(std::chrono::steady_clock::now() - started < 1s);
    CHECK(informer.has_synced());
}

TEST_CASE("informer wait_for_sync times out", "[informer]") {
    FakeApiServer server([](const FakeRequest&) {
        FakeResponse slow;
        slow.delay = 2s;
        return slow;
    });
    InformerOptions options;
    options.type = resources::pods;
    Informer informer(Client(config_for(server)), options);
    informer.start();
    CHECK_FALSE(informer.wait_for_sync(200ms));
    CHECK_FALSE(informer.has_synced());
    informer.stop();
    CHECK_FALSE(informer.wait_for_sync(1s));
}
