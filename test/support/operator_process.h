#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <sys/types.h>

namespace jpc::test {

// Returns a TCP port on 127.0.0.1 that was free a moment ago (bound, then closed), from
// below the kernel's ephemeral range when there is room.
std::uint16_t free_port();

// The operator binary (build/operator/jibri-pod-controller) run as a child process, as a
// user would run it, with its log in a file. The destructor kills it if it still runs.
class OperatorProcess {
public:
    // Starts the binary with --bind-address=127.0.0.1, --port=port and `arguments`. The
    // log goes to log_path. Throws when the binary is missing.
    OperatorProcess(std::vector<std::string> arguments, std::uint16_t port, std::string log_path);
    ~OperatorProcess();
    OperatorProcess(const OperatorProcess&) = delete;
    OperatorProcess& operator=(const OperatorProcess&) = delete;

    // Polls GET /readyz until it returns 200. Returns false on timeout or when the process exits.
    bool wait_ready(std::chrono::milliseconds timeout) const;

    // Sends the signal and waits for the exit; returns the exit code, or 128 + signal.
    int stop(int signal = 15, std::chrono::milliseconds timeout = std::chrono::seconds(30));

    // Sends SIGSTOP or SIGCONT, for pausing a replica.
    void signal(int signal) const;

    bool running() const;
    pid_t pid() const { return pid_; }
    std::uint16_t port() const { return port_; }
    const std::string& log_path() const { return log_path_; }
    std::string log() const;
    std::string base_url() const;

    // Sends GET path to the operator and returns the status code (0 when there was no response)
    // and the body.
    std::pair<int, std::string> get(const std::string& path) const;

    static std::string binary_path();

private:
    pid_t pid_ = -1;
    std::uint16_t port_;
    std::string log_path_;
    mutable int exit_code_ = -1;
};

}  // namespace jpc::test
