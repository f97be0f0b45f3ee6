#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace jpc::http {

// One HTTP GET to send, by IP address: the sweeper's request to a jibri's health API.
struct ProbeRequest {
    std::string address;  // IPv4 or IPv6 literal, such as a pod's status.podIP
    std::uint16_t port = 0;
    std::string path;  // absolute path, such as "/jibri/api/v1.0/health"
};

struct ProbeResult {
    enum class Outcome {
        answered,        // a complete HTTP response arrived; see status and body
        timed_out,       // no complete response within the timeout
        connect_failed,  // refused, unreachable, or an invalid address
        invalid_response,  // bytes arrived but were not an HTTP/1.x response, or were too large
    };
    Outcome outcome = Outcome::connect_failed;
    int status = 0;
    std::string body;
    std::string error;  // what went wrong, for the log; empty when answered
    std::chrono::milliseconds elapsed{0};
};

struct ProbeOptions {
    // Deadline of each request from its start (connect included).
    std::chrono::milliseconds timeout{2000};
    // Requests in flight at once. A jibri that accepts and never answers holds one slot
    // until its timeout, so this bounds how many hung jibris can delay the others.
    std::size_t max_concurrency = 256;
    // Larger responses are rejected as invalid_response. Jibri's health body is a few
    // hundred bytes.
    std::size_t max_response_bytes = 64 * 1024;
    std::string user_agent = "jibri-pod-controller";
};

// Called once per request as soon as its result is final, with the request's index, on
// the thread that runs probe_all. It should return quickly: the other probes wait for it.
using ProbeResultHandler = std::function<void(std::size_t index, const ProbeResult& result)>;

// Sends every request concurrently, at most max_concurrency at a time, on one thread
// with non-blocking sockets, and returns the results in the order of the requests. Each
// request uses its own connection (Connection: close). Never throws for a failed request;
// its result says what happened.
std::vector<ProbeResult> probe_all(const std::vector<ProbeRequest>& requests, const ProbeOptions& options,
                                   const ProbeResultHandler& on_result = {});

}  // namespace jpc::http
