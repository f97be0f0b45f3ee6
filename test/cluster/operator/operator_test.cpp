// The operator binary against the real control plane, with simulated jibris: the cycle
// of idle, busy, expired pods, recovery by the sweeper, restarts, leader election, and
// webhooks that must change nothing.

#include "fixture/pool_fixture.h"
#include "kube/resource.h"
#include "sim/webhook_sender.h"
#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <iterator>

using jpc::test::kubectl;
using jpc::test::PoolFixture;
using jpc::test::PoolSettings;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

// Starts a recording on one idle pod and returns its name.
std::string record_on_idle_pod(PoolFixture& fixture, bool send_webhook = true) {
    auto idle = fixture.fleet().idle_pods();
    REQUIRE_FALSE(idle.empty());
    auto pod = idle.front();
    int status = fixture.fleet().start_recording(pod, send_webhook);
    if (send_webhook) CHECK(status == 200);
    return pod;
}

// One recording from start to deletion, checking each step.
void run_cycle(PoolFixture& fixture, int spare) {
    auto pod = record_on_idle_pod(fixture);
    INFO("pod " << pod);

    bool isolated = wait_until([&] { return !fixture.pod_inside_deployment(pod); }, 15s);
    REQUIRE(isolated);
    auto object = fixture.pod(pod);
    CHECK(object["metadata"]["labels"]["jibri.dev/state"] == "busy");
    CHECK(object["metadata"]["annotations"]["jibri.dev/busy-status"] == "BUSY");
    CHECK(object["metadata"]["annotations"]["cluster-autoscaler.kubernetes.io/safe-to-evict"] == "false");

    // The ReplicaSet replaces the isolated pod, so the spares are back.
    CHECK(fixture.wait_idle(spare, 30s));
    CHECK(fixture.pod_exists(pod));

    CHECK(fixture.fleet().finish_recording(pod) == 200);
    bool deleted = wait_until([&] { return !fixture.pod_exists(pod); }, 15s);
    CHECK(deleted);
}

}  // namespace

TEST_CASE("operator keeps spares through recordings", "[operator]") {
    PoolFixture fixture("op-cycle");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));

    REQUIRE(fixture.wait_idle(2, 60s));
    CHECK(fixture.deployment_replicas() == 2);

    for (int cycle = 0; cycle < 3; ++cycle) {
        INFO("cycle " << cycle);
        run_cycle(fixture, 2);
    }

    bool status_settled = wait_until(
        [&] {
            auto status = fixture.pool_status();
            return status.value("idle", -1) == 2 && status.value("busy", -1) == 0 && status.value("expiring", -1) == 0;
        },
        15s);
    CHECK(status_settled);
    auto stats = fixture.fleet().stats();
    CHECK(stats.lost_recordings == 0);
    CHECK(stats.recordings_finished == 3);
    CHECK(stats.webhooks_failed == 0);

    auto [code, metrics] = replica.get("/metrics");
    CHECK(code == 200);
    CHECK(metrics.find("jibri_pod_controller_isolations_total{namespace=\"" + fixture.ns() + "\",pool=\"pool\"} 3") !=
          std::string::npos);

    // promtool comes from Debian's prometheus package (hack/packages.txt).
    auto lint = jpc::test::run_process({"promtool", "check", "metrics"}, metrics);
    INFO("promtool: " << lint.out << lint.err);
    CHECK(lint.exit_code == 0);
    INFO(fixture.operator_logs());
    CHECK(replica.stop(SIGTERM) == 0);
}

TEST_CASE("sweeper recovers missed webhooks", "[operator]") {
    PoolSettings settings;
    settings.sweep_interval_seconds = 5;
    PoolFixture fixture("op-sweep", settings);
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    // No BUSY webhook: only the sweeper can see that the jibri records.
    auto pod = record_on_idle_pod(fixture, false);
    bool isolated = wait_until([&] { return !fixture.pod_inside_deployment(pod); }, 20s);
    INFO(fixture.operator_logs());
    REQUIRE(isolated);
    CHECK(fixture.wait_idle(2, 30s));

    // No EXPIRED webhook either.
    fixture.fleet().finish_recording(pod, false);
    bool deleted = wait_until([&] { return !fixture.pod_exists(pod); }, 20s);
    CHECK(deleted);
    CHECK(fixture.fleet().stats().lost_recordings == 0);
    CHECK(fixture.pool_status().contains("lastSweepTime"));

    auto [code, metrics] = replica.get("/metrics");
    CHECK(metrics.find("jibri_pod_controller_sweep_recoveries_total{status=\"BUSY\"} 1") != std::string::npos);
    CHECK(metrics.find("jibri_pod_controller_sweep_recoveries_total{status=\"EXPIRED\"} 1") != std::string::npos);
}

TEST_CASE("operator restart after SIGKILL loses nothing", "[operator]") {
    PoolSettings settings;
    settings.sweep_interval_seconds = 5;
    PoolFixture fixture("op-kill", settings);
    auto* replica = &fixture.start_operator("replica-a");
    REQUIRE(replica->wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    // BUSY is recorded, then the operator dies before or while it isolates the pod.
    auto pod = record_on_idle_pod(fixture);
    replica->stop(SIGKILL);

    replica = &fixture.start_operator("replica-a", {}, replica->port());
    REQUIRE(replica->wait_ready(60s));
    bool isolated = wait_until([&] { return !fixture.pod_inside_deployment(pod); }, 20s);
    REQUIRE(isolated);
    CHECK(fixture.wait_idle(2, 30s));

    // EXPIRED is sent while the operator is down: the webhook fails and the restarted
    // operator's sweeper must find it.
    replica->stop(SIGKILL);
    CHECK(fixture.fleet().finish_recording(pod) != 200);
    replica = &fixture.start_operator("replica-a", {}, replica->port());
    REQUIRE(replica->wait_ready(60s));
    bool deleted = wait_until([&] { return !fixture.pod_exists(pod); }, 30s);
    INFO(fixture.operator_logs());
    CHECK(deleted);
    CHECK(fixture.wait_idle(2, 30s));
    CHECK(fixture.fleet().stats().lost_recordings == 0);
}

TEST_CASE("only the leader acts", "[operator]") {
    PoolFixture fixture("op-leader");
    auto& first = fixture.start_operator("replica-a");
    REQUIRE(first.wait_ready(60s));
    auto& second = fixture.start_operator("replica-b");
    REQUIRE(second.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    auto leader_gauge = [](jpc::test::OperatorProcess& process) {
        auto [code, metrics] = process.get("/metrics");
        // Whole sample lines only: the HELP line also reads "jibri_pod_controller_leader 1 while ...".
        if (metrics.find("\njibri_pod_controller_leader 1\n") != std::string::npos) return 1;
        if (metrics.find("\njibri_pod_controller_leader 0\n") != std::string::npos) return 0;
        return -1;
    };
    REQUIRE(wait_until([&] { return leader_gauge(first) + leader_gauge(second) == 1; }, 15s));
    auto& leader = leader_gauge(first) == 1 ? first : second;
    auto& follower = leader_gauge(first) == 1 ? second : first;

    // Both replicas accept webhooks; only the leader's log shows isolations.
    run_cycle(fixture, 2);
    CHECK(leader.log().find("isolate pod") != std::string::npos);
    CHECK(follower.log().find("isolate pod") == std::string::npos);

    // A leader that stops gracefully releases the lease, so the other takes over at once
    // rather than after the lease duration.
    auto stopped_at = std::chrono::steady_clock::now();
    CHECK(leader.stop(SIGTERM) == 0);
    REQUIRE(wait_until([&] { return leader_gauge(follower) == 1; }, 10s));
    CHECK(std::chrono::steady_clock::now() - stopped_at < 4s);

    // The fleet posts to the first replica's port; point the next cycle at the new leader
    // by sending the webhook ourselves.
    auto pod = fixture.fleet().idle_pods().front();
    auto ip = *fixture.fleet().pod_ip(pod);
    fixture.fleet().start_recording(pod, false);
    jpc::sim::WebhookSender sender;
    auto url = follower.base_url() + "/webhook/" + fixture.ns() + "/" + pod + "/v1/status";
    auto answer = sender.post_status(ip, url,
        jpc::sim::webhook_body(pod, {jpc::sim::BusyStatus::Busy, jpc::sim::HealthStatus::Healthy}));
    CHECK(answer.status_code == 200);
    CHECK(wait_until([&] { return !fixture.pod_inside_deployment(pod); }, 15s));
    // The operator logs the isolation after the API responded, so the line can trail the change.
    CHECK(wait_until([&] { return follower.log().find("isolate pod") != std::string::npos; }, 5s));
}

TEST_CASE("webhooks that must change nothing", "[operator]") {
    PoolFixture fixture("op-reject");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    // A pod outside every pool, with an IP, as the operator's own pod would be.
    kubectl({"-n", fixture.ns(), "run", "stranger", "--image=busybox", "--restart=Never", "--labels=app=other"});
    kubectl({"-n", fixture.ns(), "patch", "pod", "stranger", "--subresource=status", "--type=merge", "-p",
             R"({"status":{"phase":"Running","podIP":"127.0.9.9"}})"});
    auto stranger_version = fixture.pod("stranger")["metadata"]["resourceVersion"];

    jpc::sim::WebhookSender sender;
    auto busy = jpc::sim::webhook_body("x", {jpc::sim::BusyStatus::Busy, jpc::sim::HealthStatus::Healthy});
    auto outside = sender.post_status("127.0.9.9", replica.base_url() + "/webhook/" + fixture.ns() + "/stranger/v1/status",
                                      busy);
    CHECK(outside.status_code == 404);
    CHECK(fixture.pod("stranger")["metadata"]["resourceVersion"] == stranger_version);

    // A pool pod reported from another address.
    auto pod = fixture.fleet().idle_pods().front();
    auto version = fixture.pod(pod)["metadata"]["resourceVersion"];
    auto spoofed = sender.post_status("127.0.9.9", replica.base_url() + "/webhook/" + fixture.ns() + "/" + pod + "/v1/status",
                                      busy);
    CHECK(spoofed.status_code == 403);

    // The same report, short path form: the operator's namespace is the test namespace.
    auto short_path = sender.post_status("127.0.9.9", replica.base_url() + "/webhook/" + pod + "/v1/status", busy);
    CHECK(short_path.status_code == 403);

    auto unknown = sender.post_status("127.0.9.9", replica.base_url() + "/webhook/" + fixture.ns() + "/nope/v1/status", busy);
    CHECK(unknown.status_code == 404);

    std::this_thread::sleep_for(1s);
    CHECK(fixture.pod(pod)["metadata"]["resourceVersion"] == version);
    CHECK(fixture.pod_inside_deployment(pod));
}

TEST_CASE("unknown pod costs one read per second", "[operator]") {
    PoolFixture fixture("op-unknown");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));

    jpc::sim::WebhookSender sender;
    auto busy = jpc::sim::webhook_body("x", {jpc::sim::BusyStatus::Busy, jpc::sim::HealthStatus::Healthy});
    auto url = replica.base_url() + "/webhook/" + fixture.ns() + "/no-such-pod/v1/status";
    auto lookups = [&](const std::string& source) {
        auto [code, metrics] = replica.get("/metrics");
        std::string prefix = "jibri_pod_controller_webhook_pod_lookups_total{source=\"" + source + "\"} ";
        auto at = metrics.find(prefix);
        return at == std::string::npos ? 0L : std::stol(metrics.substr(at + prefix.size()));
    };

    auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 50; ++i) CHECK(sender.post_status("127.0.9.9", url, busy).status_code == 404);
    auto took = std::chrono::steady_clock::now() - started;
    // The API's first 404 is remembered for 1 s, so each started second costs one GET.
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(took).count() + 1;
    INFO("50 requests took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(lookups("api") <= seconds);
    CHECK(lookups("api") + lookups("remembered") == 50);

    // Once the second has passed, the webhook sends a GET again.
    auto api_lookups_before = lookups("api");
    std::this_thread::sleep_for(1100ms);
    CHECK(sender.post_status("127.0.9.9", url, busy).status_code == 404);
    CHECK(lookups("api") == api_lookups_before + 1);
}

TEST_CASE("deleting a pool leaves busy pods running", "[operator]") {
    PoolFixture fixture("op-delete-pool");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    auto pod = record_on_idle_pod(fixture);
    REQUIRE(wait_until([&] { return !fixture.pod_inside_deployment(pod); }, 15s));
    REQUIRE(fixture.wait_idle(2, 30s));

    kubectl({"-n", fixture.ns(), "delete", "jibripool", "pool", "--wait=true"});

    // With no pool, EXPIRED is not accepted and nothing is deleted.
    CHECK(fixture.fleet().finish_recording(pod) == 404);
    std::this_thread::sleep_for(3s);
    CHECK(fixture.pod_exists(pod));
    CHECK(fixture.fleet().idle_pods().size() == 2);
    CHECK(fixture.deployment_replicas() == 2);
}

TEST_CASE("operator corrects a hand-scaled Deployment", "[operator]") {
    PoolFixture fixture("op-scale");
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    kubectl({"-n", fixture.ns(), "scale", "deployment", "jibri", "--replicas=5"});
    bool corrected = wait_until([&] { return fixture.deployment_replicas() == 2; }, 15s);
    CHECK(corrected);
    CHECK(fixture.wait_idle(2, 30s));
}

TEST_CASE("operator honours maxPods", "[operator]") {
    PoolSettings settings;
    settings.max_pods = 3;
    PoolFixture fixture("op-max", settings);
    auto& replica = fixture.start_operator("replica-a");
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));

    // Two recordings: busy 2, so at most one more pod may exist.
    auto first = record_on_idle_pod(fixture);
    REQUIRE(wait_until([&] { return !fixture.pod_inside_deployment(first); }, 15s));
    REQUIRE(wait_until([&] { return fixture.fleet().idle_pods().size() == 2; }, 30s));
    auto second = record_on_idle_pod(fixture);
    REQUIRE(wait_until([&] { return !fixture.pod_inside_deployment(second); }, 15s));

    CHECK(wait_until([&] { return fixture.deployment_replicas() == 1; }, 15s));
    CHECK(fixture.pod_exists(first));
    CHECK(fixture.pod_exists(second));
    CHECK(fixture.fleet().stats().lost_recordings == 0);
}

TEST_CASE("CRD rejects invalid pools", "[operator]") {
    jpc::test::apply_crd();
    jpc::test::TestNamespace ns("op-crd");
    auto result = jpc::test::run_process(
        {"kubectl", "--kubeconfig", jpc::test::LocalCluster::current().kubeconfig, "-n", ns.name(), "apply", "-f", "-"},
        R"({"apiVersion":"jibri.dev/v1alpha1","kind":"JibriPool","metadata":{"name":"bad"},
            "spec":{"deploymentName":"jibri","spare":-1,"busyLabels":{"s":"busy"}}})");
    CHECK(result.exit_code != 0);
    CHECK(result.err.find("spec.spare") != std::string::npos);
}

TEST_CASE("no credential reaches the logs", "[operator]") {
    PoolSettings settings;
    settings.sweep_interval_seconds = 5;
    PoolFixture fixture("op-secrets", settings);
    // The most verbose level, as someone chasing a problem would run it.
    auto& replica = fixture.start_operator("replica-a", {"--log-level=trace"});
    REQUIRE(replica.wait_ready(60s));
    REQUIRE(fixture.wait_idle(2, 60s));
    run_cycle(fixture, 2);
    // A sweep runs too, so its requests are logged as well.
    std::this_thread::sleep_for(6s);
    CHECK(replica.stop(SIGTERM) == 0);

    auto read = [](const std::string& path) {
        std::ifstream in(path);
        return std::string(std::istreambuf_iterator<char>(in), {});
    };
    auto token = read(fixture.operator_kubeconfig() + ".token");
    auto admin_token = read(jpc::test::LocalCluster::current().admin_token_file);
    while (!admin_token.empty() && std::isspace(static_cast<unsigned char>(admin_token.back()))) admin_token.pop_back();
    REQUIRE(token.size() > 100);
    REQUIRE(admin_token.size() > 10);

    auto logs = fixture.operator_logs();
    CHECK(logs.find(" debug ") != std::string::npos);
    // Whole tokens, and their first 16 characters, in case a line cut one short.
    CHECK(logs.find(token) == std::string::npos);
    CHECK(logs.find(token.substr(0, 16)) == std::string::npos);
    CHECK(logs.find(admin_token) == std::string::npos);
    CHECK(logs.find("Bearer") == std::string::npos);
}
