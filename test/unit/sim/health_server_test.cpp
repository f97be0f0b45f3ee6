// Tests of HealthServer against real sockets on loopback. CTest may run the cases of this
// program in parallel processes, so each case listens on its own addresses (127.77.N.x,
// one N per case, and 127.78.x.x for the 1,000-jibri case) to avoid EADDRINUSE between them.

#include "sim/address_pool.h"
#include "sim/health_server.h"
#include "sim/http_client.h"
#include "sim/webhook_sender.h"
#include "support/process.h"

#include <catch2/catch.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

using jpc::sim::AddressPool;
using jpc::sim::BusyStatus;
using jpc::sim::ExchangeError;
using jpc::sim::HealthBehaviour;
using jpc::sim::HealthServer;
using jpc::sim::HealthServerOptions;
using jpc::sim::HealthStatus;
using jpc::sim::HttpResult;
using jpc::sim::JibriStatus;
using jpc::sim::http_get;
using jpc::test::wait_until;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Below the kernel's ephemeral range (32768 and up by default), so no client socket of
// another test uses it.
constexpr std::uint16_t test_port = 22222;

// The operator polls from its own address; these tests poll from 127.0.0.1.
constexpr const char* client_address = "127.0.0.1";

HealthServerOptions test_options() {
    HealthServerOptions options;
    options.port = test_port;
    return options;
}

std::string health_url(std::string_view address, std::string_view path = "/jibri/api/v1.0/health") {
    return fmt::format("http://{}:{}{}", address, test_port, path);
}

HttpResult get_health(std::string_view address, std::chrono::milliseconds timeout = 2s) {
    return http_get(client_address, health_url(address), timeout);
}

std::string busy_status_of(const HttpResult& result) {
    return nlohmann::json::parse(result.body).at("status").at("busyStatus").get<std::string>();
}

// Raises the soft limit on open files to at least `needed` when the hard limit allows it.
// Returns the soft limit in effect afterwards.
rlim_t raise_open_file_limit(rlim_t needed) {
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < needed) {
        limit.rlim_cur = std::min(needed, limit.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &limit);
        ::getrlimit(RLIMIT_NOFILE, &limit);
    }
    return limit.rlim_cur;
}

}  // namespace

TEST_CASE("HealthServer serves each address its status") {
    HealthServer server(test_options());
    server.add("127.77.1.1", {BusyStatus::Busy, HealthStatus::Healthy});
    server.add("127.77.1.2", {BusyStatus::Idle, HealthStatus::Unhealthy});

    HttpResult first = get_health("127.77.1.1");
    HttpResult second = get_health("127.77.1.2");

    INFO(first.message << " / " << second.message);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(first.status_code == 200);
    CHECK(second.status_code == 200);
    auto first_body = nlohmann::json::parse(first.body);
    auto second_body = nlohmann::json::parse(second.body);
    CHECK(first_body["status"]["busyStatus"] == "BUSY");
    CHECK(first_body["status"]["health"]["healthStatus"] == "HEALTHY");
    CHECK(second_body["status"]["busyStatus"] == "IDLE");
    CHECK(second_body["status"]["health"]["healthStatus"] == "UNHEALTHY");
    CHECK(server.request_count("127.77.1.1") == 1);
    CHECK(server.request_count("127.77.1.2") == 1);
    CHECK(server.size() == 2);
}

TEST_CASE("HealthServer hang does not stall other addresses") {
    HealthServer server(test_options());
    server.add("127.77.2.1", {}, HealthBehaviour::Hang);
    server.add("127.77.2.2", {BusyStatus::Busy, HealthStatus::Healthy});

    std::atomic<bool> hung_request_done = false;
    HttpResult hung;
    Clock::duration hung_elapsed{};
    std::thread client([&] {
        auto start = Clock::now();
        hung = get_health("127.77.2.1", 800ms);
        hung_elapsed = Clock::now() - start;
        hung_request_done = true;
    });

    // Once the server counted the request, it keeps the connection open without a response.
    bool held = wait_until([&] { return server.request_count("127.77.2.1") == 1; }, 2s, 10ms);
    std::size_t held_connections = server.connection_count("127.77.2.1");
    auto start = Clock::now();
    HttpResult prompt = get_health("127.77.2.2", 2s);
    auto prompt_elapsed = Clock::now() - start;
    bool responded_while_hanging = !hung_request_done;
    client.join();

    REQUIRE(held);
    CHECK(held_connections == 1);
    INFO(prompt.message);
    REQUIRE(prompt.ok());
    CHECK(prompt.status_code == 200);
    CHECK(prompt_elapsed < 500ms);
    CHECK(responded_while_hanging);

    INFO(hung.message);
    CHECK(hung.error == ExchangeError::TimedOut);
    CHECK(hung.status_code == 0);
    CHECK(hung_elapsed >= 750ms);

    // The client closed its socket after its timeout, so the server drops the connection.
    CHECK(wait_until([&] { return server.connection_count("127.77.2.1") == 0; }, 2s, 10ms));
}

TEST_CASE("HealthServer ends held connections on behaviour change") {
    HealthServer server(test_options());
    server.add("127.77.3.1", {}, HealthBehaviour::Hang);

    HttpResult held;
    Clock::duration elapsed{};
    std::thread client([&] {
        auto start = Clock::now();
        held = get_health("127.77.3.1", 5s);
        elapsed = Clock::now() - start;
    });
    bool counted = wait_until([&] { return server.request_count("127.77.3.1") == 1; }, 2s, 10ms);
    server.set_behaviour("127.77.3.1", HealthBehaviour::Respond);
    client.join();

    REQUIRE(counted);
    INFO(held.message);
    CHECK(held.error == ExchangeError::ClosedEarly);
    CHECK(elapsed < 3s);

    HttpResult answered = get_health("127.77.3.1");
    INFO(answered.message);
    CHECK(answered.status_code == 200);
}

TEST_CASE("HealthServer refuse rejects connections") {
    HealthServer server(test_options());
    server.add("127.77.4.1", {}, HealthBehaviour::Refuse);

    HttpResult refused = get_health("127.77.4.1");
    CHECK(refused.error == ExchangeError::ConnectionRefused);
    CHECK(server.request_count("127.77.4.1") == 0);

    server.set_behaviour("127.77.4.1", HealthBehaviour::Respond);
    HttpResult answered = get_health("127.77.4.1");
    INFO(answered.message);
    CHECK(answered.status_code == 200);

    // Listening again right after a response needs SO_REUSEADDR because of TIME_WAIT.
    server.set_behaviour("127.77.4.1", HealthBehaviour::Refuse);
    CHECK(get_health("127.77.4.1").error == ExchangeError::ConnectionRefused);
    server.set_behaviour("127.77.4.1", HealthBehaviour::Respond);
    CHECK(get_health("127.77.4.1").status_code == 200);
}

TEST_CASE("HealthServer refuse closes held connections") {
    HealthServer server(test_options());
    server.add("127.77.5.1", {}, HealthBehaviour::Hang);

    HttpResult held;
    std::thread client([&] { held = get_health("127.77.5.1", 5s); });
    bool counted = wait_until([&] { return server.request_count("127.77.5.1") == 1; }, 2s, 10ms);
    server.set_behaviour("127.77.5.1", HealthBehaviour::Refuse);
    client.join();

    REQUIRE(counted);
    CHECK(held.error == ExchangeError::ClosedEarly);
    CHECK(server.connection_count("127.77.5.1") == 0);
    CHECK(get_health("127.77.5.1").error == ExchangeError::ConnectionRefused);
}

TEST_CASE("HealthServer behaviour and status changes apply") {
    HealthServer server(test_options());
    const std::string address = "127.77.6.1";
    server.add(address, {BusyStatus::Idle, HealthStatus::Healthy});

    HttpResult idle = get_health(address);
    REQUIRE(idle.status_code == 200);
    CHECK(busy_status_of(idle) == "IDLE");

    server.set_status(address, {BusyStatus::Expired, HealthStatus::Healthy});
    CHECK(server.status(address) == JibriStatus{BusyStatus::Expired, HealthStatus::Healthy});
    HttpResult expired = get_health(address);
    REQUIRE(expired.status_code == 200);
    CHECK(busy_status_of(expired) == "EXPIRED");

    server.set_behaviour(address, HealthBehaviour::Garbage);
    CHECK(server.behaviour(address) == HealthBehaviour::Garbage);
    HttpResult garbage = get_health(address);
    CHECK(garbage.status_code == 200);
    CHECK_FALSE(garbage.body.empty());
    CHECK_FALSE(nlohmann::json::accept(garbage.body));

    server.set_behaviour(address, HealthBehaviour::Error);
    CHECK(get_health(address).status_code == 500);

    // The status set before survives the detours through Garbage and Error.
    server.set_behaviour(address, HealthBehaviour::Respond);
    HttpResult again = get_health(address);
    REQUIRE(again.status_code == 200);
    CHECK(busy_status_of(again) == "EXPIRED");

    CHECK(server.request_count(address) == 5);
}

TEST_CASE("HealthServer rejects other paths and methods") {
    HealthServerOptions options = test_options();
    options.path = "/custom/health";
    HealthServer server(options);
    const std::string address = "127.77.7.1";
    server.add(address);

    HttpResult custom = http_get(client_address, health_url(address, "/custom/health?x=1"), 2s);
    CHECK(custom.status_code == 200);

    HttpResult default_path = http_get(client_address, health_url(address), 2s);
    CHECK(default_path.status_code == 404);

    jpc::sim::WebhookSender sender(2s, 2s);
    HttpResult post = sender.post_status(client_address, health_url(address, "/custom/health"), "{}");
    CHECK(post.status_code == 405);

    HttpResult invalid = sender.send_raw(client_address, health_url(address), "NOT HTTP\r\n\r\n");
    CHECK(invalid.status_code == 400);

    CHECK(server.request_count(address) == 4);
}

TEST_CASE("HealthServer limits request heads") {
    HealthServerOptions options = test_options();
    options.max_header_bytes = 1024;
    options.request_timeout = 300ms;
    HealthServer server(options);
    const std::string address = "127.77.8.1";
    server.add(address);
    jpc::sim::WebhookSender sender(2s, 2s);

    std::string long_head = "GET /jibri/api/v1.0/health HTTP/1.1\r\nX-Padding: " +
                            std::string(2000, 'a') + "\r\n\r\n";
    HttpResult too_long = sender.send_raw(client_address, health_url(address), long_head);
    CHECK(too_long.status_code == 431);

    // A head that never ends is closed after request_timeout without a response.
    auto start = Clock::now();
    HttpResult unfinished =
        sender.send_raw(client_address, health_url(address), "GET /jibri/api/v1.0/health HTTP/1.1\r\n");
    auto elapsed = Clock::now() - start;
    INFO(unfinished.message);
    CHECK(unfinished.error == ExchangeError::ClosedEarly);
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 1500ms);

    CHECK(server.request_count(address) == 0);
}

TEST_CASE("HealthServer reports bind failure with address") {
    HealthServer first(test_options());
    HealthServer second(test_options());
    first.add("127.77.9.1");

    try {
        second.add("127.77.9.1");
        FAIL("adding an address that another server listens on did not throw");
    } catch (const std::system_error& error) {
        CHECK(error.code() == std::errc::address_in_use);
        CHECK_THAT(error.what(), Catch::Contains("127.77.9.1:22222"));
    }
    CHECK(second.size() == 0);

    // The failed add left no trace, so the address can be added once the first server lets go.
    first.remove("127.77.9.1");
    second.add("127.77.9.1");
    CHECK(get_health("127.77.9.1").status_code == 200);
}

TEST_CASE("HealthServer rejects invalid addresses and calls") {
    HealthServer server(test_options());
    CHECK_THROWS_AS(server.add("10.0.0.1"), std::invalid_argument);
    CHECK_THROWS_AS(server.add("192.168.1.1"), std::invalid_argument);
    CHECK_THROWS_AS(server.add("localhost"), std::invalid_argument);
    CHECK_THROWS_AS(server.add("127.255.255.255"), std::invalid_argument);
    CHECK_THROWS_AS(server.set_status("127.77.10.9", {}), std::invalid_argument);
    CHECK_THROWS_AS(server.request_count("127.77.10.9"), std::invalid_argument);

    server.add("127.77.10.1");
    CHECK_THROWS_AS(server.add("127.77.10.1"), std::invalid_argument);

    HealthServerOptions port_zero;
    port_zero.port = 0;
    CHECK_THROWS_AS(HealthServer(port_zero), std::invalid_argument);
    HealthServerOptions relative_path = test_options();
    relative_path.path = "health";
    CHECK_THROWS_AS(HealthServer(relative_path), std::invalid_argument);
}

TEST_CASE("HealthServer stop closes every socket") {
    HealthServer server(test_options());
    server.add("127.77.11.1");
    server.add("127.77.11.2", {}, HealthBehaviour::Hang);

    HttpResult held;
    std::thread client([&] { held = get_health("127.77.11.2", 5s); });
    bool counted = wait_until([&] { return server.request_count("127.77.11.2") == 1; }, 2s, 10ms);
    server.stop();
    client.join();

    REQUIRE(counted);
    CHECK(held.error == ExchangeError::ClosedEarly);
    CHECK(get_health("127.77.11.1").error == ExchangeError::ConnectionRefused);
    CHECK_THROWS_AS(server.add("127.77.11.3"), std::logic_error);
    server.stop();  // a second stop does nothing
}

TEST_CASE("HealthServer serves 1000 addresses at once") {
    constexpr std::size_t jibri_count = 1000;
    constexpr int client_threads = 4;

    // Each jibri needs a listening socket, and each client request briefly uses two
    // sockets (client and server side). The default soft limit is often 1024, which is
    // too low, so raise it for this process when the hard limit allows.
    rlim_t open_files = raise_open_file_limit(jibri_count + 256);
    INFO("soft limit on open files: " << open_files);
    REQUIRE(open_files >= jibri_count + 256);

    auto start = Clock::now();
    AddressPool pool(jibri_count, "127.78.0.1");
    std::vector<std::string> addresses;
    HealthServer server(test_options());
    for (std::size_t i = 0; i < jibri_count; ++i) {
        addresses.push_back(pool.acquire());
        BusyStatus busy = i % 2 == 0 ? BusyStatus::Idle : BusyStatus::Busy;
        server.add(addresses.back(), {busy, HealthStatus::Healthy});
    }
    REQUIRE(server.size() == jibri_count);

    // Several client threads at once, so the loop serves concurrent connections.
    std::vector<HttpResult> results(jibri_count);
    std::vector<std::thread> clients;
    for (int t = 0; t < client_threads; ++t) {
        clients.emplace_back([&, t] {
            for (std::size_t i = static_cast<std::size_t>(t); i < jibri_count; i += client_threads) {
                results[i] = get_health(addresses[i], 5s);
            }
        });
    }
    for (auto& client : clients) {
        client.join();
    }
    auto elapsed = Clock::now() - start;

    std::size_t answered = 0;
    std::size_t right_status = 0;
    std::size_t counted_once = 0;
    for (std::size_t i = 0; i < jibri_count; ++i) {
        if (results[i].status_code == 200) {
            ++answered;
            std::string expected = i % 2 == 0 ? "IDLE" : "BUSY";
            right_status += busy_status_of(results[i]) == expected ? 1 : 0;
        } else {
            UNSCOPED_INFO(addresses[i] << ": " << results[i].message);
        }
        counted_once += server.request_count(addresses[i]) == 1 ? 1 : 0;
    }
    CHECK(answered == jibri_count);
    CHECK(right_status == jibri_count);
    CHECK(counted_once == jibri_count);
    CHECK(elapsed < 60s);
}
