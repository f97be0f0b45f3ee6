#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace jpc::test {

// Output of a finished child process.
struct ProcessResult {
    int exit_code = -1;
    std::string out;
    std::string err;
};

// Runs argv[0] (looked up in PATH) with the given arguments and standard input, waits for
// it and returns its exit code and output. Throws std::runtime_error when it cannot start.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input = {});

// Polls condition every interval until it returns true. Returns false when timeout passes first.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds interval = std::chrono::milliseconds(100));

// Returns a lowercase alphanumeric string of the given length, for unique object names.
std::string random_suffix(std::size_t length = 6);

}  // namespace jpc::test
