// Malformed and hostile webhook requests against the operator on the real control plane:
// each gets the expected status, none changes any pod, and the operator keeps serving.

#include "fixture/pool_fixture.h"
#include "sim/webhook_sender.h"
#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <future>
#include <map>

using jpc::test::kubectl;
using jpc::test::PoolFixture;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

struct Hostile {
    std::string name;
    std::string source;  // address the request leaves from
    std::string bytes;   // the whole request as sent
    int expected;
};

std::string request(const std::string& method, const std::string& path, const std::string& body,
                    const std::string& extra_headers = {}) {
    return method + " " + path + " HTTP/1.1\r\nHost: operator\r\nContent-Type: application/json\r\n" +
           "Content-Length: " + std::to_string(body.size()) + "\r\n" + extra_headers + "Connection: close\r\n\r\n" +
           body;
}

std::string report(const std::string& busy, const std::string& health = "HEALTHY") {
    return R"({"jibriId":"jibri","status":{"busyStatus":")" + busy + R"(","health":{"healthStatus":")" + health +
           R"("}}})";
}

// resourceVersion of every pod in the namespace, by name.
std::map<std::string, std::string> pod_versions(const std::string& ns) {
    std::map<std::string, std::string> versions;
    auto pods = jpc::test::kubectl_json({"-n", ns, "get", "pods", "-o", "json"})["items"];
    for (const auto& pod : pods) {
        versions[pod["metadata"]["name"].get<std::string>()] = pod["metadata"]["resourceVersion"].get<std::string>();
    }
    return versions;
}

}  // namespace

TEST_CASE("hostile webhooks change nothing", "[hostile]") {
    PoolFixture fixture("hostile");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));
    const std::string ns = fixture.ns();

    // A pod outside every pool, with its own IP, as the operator's own pod would be.
    kubectl({"-n", ns, "run", "stranger", "--image=busybox", "--restart=Never", "--labels=app=other"});
    kubectl({"-n", ns, "patch", "pod", "stranger", "--subresource=status", "--type=merge", "-p",
             R"({"status":{"phase":"Running","podIP":"127.0.9.9"}})"});

    // A pool pod in a namespace this operator does not watch.
    jpc::test::TestNamespace elsewhere("hostile-other");
    kubectl({"-n", elsewhere.name(), "run", "jibri-0", "--image=busybox", "--restart=Never", "--labels=app=jibri"});

    const auto pod = fixture.fleet().idle_pods().front();
    const auto ip = *fixture.fleet().pod_ip(pod);
    const std::string status_path = "/webhook/" + ns + "/" + pod + "/v1/status";
    const std::string busy = report("BUSY");

    std::string nested;
    for (int i = 0; i < 10'000; ++i) nested += '[';
    for (int i = 0; i < 10'000; ++i) nested += ']';

    const std::vector<Hostile> table{
        {"GET on the status path", ip, request("GET", status_path, ""), 405},
        {"PUT on the status path", ip, request("PUT", status_path, busy), 405},
        {"DELETE on the status path", ip, request("DELETE", status_path, ""), 405},
        {"PATCH on the status path", ip, request("PATCH", status_path, busy), 405},
        {"POST on the root", ip, request("POST", "/", busy), 405},
        {"dot-dot segment", ip, request("POST", "/webhook/" + ns + "/../" + pod + "/v1/status", busy), 400},
        {"encoded slash", ip, request("POST", "/webhook/" + ns + "%2F" + pod + "/v1/status", busy), 400},
        {"empty namespace segment", ip, request("POST", "/webhook//" + pod + "/v1/status", busy), 400},
        {"empty segment before v1", ip, request("POST", "/webhook/" + ns + "/" + pod + "//v1/status", busy), 400},
        {"uppercase pod name", ip, request("POST", "/webhook/" + ns + "/JIBRI-0/v1/status", busy), 400},
        {"254-character pod name", ip, request("POST", "/webhook/" + ns + "/" + std::string(254, 'a') + "/v1/status", busy),
         400},
        {"unicode pod name", ip, request("POST", "/webhook/" + ns + "/jibr\xc3\xad-0/v1/status", busy), 400},
        {"invalid namespace name", ip, request("POST", "/webhook/Bad_NS/" + pod + "/v1/status", busy), 400},
        {"unknown version", ip, request("POST", "/webhook/" + ns + "/" + pod + "/v2/status", busy), 404},
        {"extra segment", ip, request("POST", status_path + "/more", busy), 404},
        {"10 MiB body", ip, request("POST", status_path, std::string(10 << 20, ' ')), 413},
        {"empty body", ip, request("POST", status_path, ""), 400},
        {"not JSON", ip, request("POST", status_path, "hello"), 400},
        {"truncated JSON", ip, request("POST", status_path, busy.substr(0, busy.size() - 5)), 400},
        {"jibriId is a number", ip,
         request("POST", status_path, R"({"jibriId":5,"status":{"busyStatus":"BUSY","health":{"healthStatus":"HEALTHY"}}})"),
         400},
        {"busyStatus is a number", ip,
         request("POST", status_path, R"({"jibriId":"j","status":{"busyStatus":1,"health":{"healthStatus":"HEALTHY"}}})"),
         400},
        {"status is an array", ip, request("POST", status_path, R"({"jibriId":"j","status":[]})"), 400},
        {"10,000 levels of nesting", ip, request("POST", status_path, nested), 400},
        {"unknown busyStatus", ip, request("POST", status_path, report("RECORDING")), 400},
        {"unknown healthStatus", ip, request("POST", status_path, report("BUSY", "FINE")), 400},
        // The client half-closes after the bytes: the server closes without a response.
        {"body shorter than Content-Length", ip,
         "POST " + status_path + " HTTP/1.1\r\nHost: operator\r\nContent-Length: 500\r\n\r\n" + busy, 0},
        {"not HTTP", ip, "HELLO\r\n\r\n", 400},
        {"pod of a namespace not watched", "127.0.9.10",
         request("POST", "/webhook/" + elsewhere.name() + "/jibri-0/v1/status", busy), 404},
        {"pod outside every pool", "127.0.9.9", request("POST", "/webhook/" + ns + "/stranger/v1/status", busy), 404},
        {"unknown pod", ip, request("POST", "/webhook/" + ns + "/no-such-pod/v1/status", busy), 404},
        {"spoofed source address", "127.0.9.9", request("POST", status_path, busy), 403},
        {"spoofed source, short path", "127.0.9.9", request("POST", "/webhook/" + pod + "/v1/status", busy), 403},
    };
    REQUIRE(table.size() >= 25);

    // Settle first: the fixture's pods are written by the simulator and the operator while
    // they start, and the comparison below must only see changes made by the requests.
    std::this_thread::sleep_for(2s);
    const auto before = pod_versions(ns);
    const auto before_elsewhere = pod_versions(elsewhere.name());

    // A request whose body never ends occupies one connection. The server times it out
    // and keeps serving the others meanwhile.
    jpc::sim::WebhookSender patient(2s, 30s);
    auto endless = std::async(std::launch::async, [&] {
        return patient.send_raw(ip, replica.base_url() + status_path,
                                "POST " + status_path + " HTTP/1.1\r\nHost: operator\r\nContent-Length: 1000\r\n\r\n{");
    });

    jpc::sim::WebhookSender sender(2s, 10s);
    for (const auto& hostile : table) {
        INFO(hostile.name);
        auto result = sender.send_raw(hostile.source, replica.base_url() + status_path, hostile.bytes, true);
        INFO(result.message << " " << result.body);
        CHECK(result.status_code == hostile.expected);
    }

    // The endless request ends with 408 from the server's request timeout (10 s).
    REQUIRE(endless.wait_for(30s) == std::future_status::ready);
    CHECK(endless.get().status_code == 408);

    std::this_thread::sleep_for(1s);
    CHECK(pod_versions(ns) == before);
    CHECK(pod_versions(elsewhere.name()) == before_elsewhere);
    CHECK(fixture.pod_inside_deployment(pod));

    // Still serving: a well-formed report from the pod's own address is recorded.
    auto fine = sender.post_status(ip, replica.base_url() + status_path, report("IDLE"));
    CHECK(fine.status_code == 200);
    CHECK(fixture.pod(pod)["metadata"]["annotations"]["jibri.dev/busy-status"] == "IDLE");
    CHECK(replica.running());

    // Rejections are logged, at most 5 a minute for one address and status.
    auto log = replica.log();
    const std::string logged_400 = "from " + ip + ": 400";
    std::size_t lines = 0;
    for (auto at = log.find(logged_400); at != std::string::npos; at = log.find(logged_400, at + 1)) ++lines;
    CHECK(lines >= 1);
    CHECK(lines <= 5);
}
