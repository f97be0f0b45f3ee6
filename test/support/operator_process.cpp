#include "support/operator_process.h"

#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace jpc::test {

namespace {

// The first port of the kernel's ephemeral range, from which connect() takes local ports.
int ephemeral_range_start() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    range >> low;
    return low;
}

// Binds a TCP socket to 127.0.0.1:port and closes it. Returns the bound port, 0 on failure.
std::uint16_t try_bind(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) throw std::runtime_error(std::string("free_port: socket failed: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    std::uint16_t bound = 0;
    int error = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
        socklen_t length = sizeof address;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
        bound = ntohs(address.sin_port);
    } else {
        error = errno;
    }
    ::close(fd);
    errno = error;
    return bound;
}

}  // namespace

std::uint16_t free_port() {
    // A port from below the ephemeral range: one inside it can be taken as the local port
    // of an outgoing connection before the server binds it.
    constexpr int low = 20000;
    int high = ephemeral_range_start() - 1;
    if (high - low >= 1000) {
        static std::mutex mutex;
        static std::mt19937 engine{std::random_device{}()};
        std::lock_guard lock(mutex);
        std::uniform_int_distribution<int> ports(low, high);
        for (int attempt = 0; attempt < 200; ++attempt) {
            if (auto port = try_bind(static_cast<std::uint16_t>(ports(engine)))) return port;
        }
    }
    auto port = try_bind(0);
    if (port == 0) throw std::runtime_error(std::string("free_port: bind failed: ") + std::strerror(errno));
    return port;
}

std::string OperatorProcess::binary_path() { return std::string(JPC_BINARY_DIR) + "/operator/jibri-pod-controller"; }

OperatorProcess::OperatorProcess(std::vector<std::string> arguments, std::uint16_t port, std::string log_path)
    : port_(port), log_path_(std::move(log_path)) {
    auto binary = binary_path();
    if (::access(binary.c_str(), X_OK) != 0) {
        throw std::runtime_error(binary + " is missing; build the jibri-pod-controller target first");
    }
    std::vector<std::string> argv{binary, "--bind-address=127.0.0.1", "--port=" + std::to_string(port)};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    std::vector<char*> args;
    for (auto& arg : argv) args.push_back(arg.data());
    args.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    int rc = ::posix_spawn(&pid_, binary.c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));
}

OperatorProcess::~OperatorProcess() {
    if (running()) stop(SIGKILL, std::chrono::seconds(10));
}

bool OperatorProcess::running() const {
    if (pid_ <= 0 || exit_code_ >= 0) return false;
    int status = 0;
    pid_t result = ::waitpid(pid_, &status, WNOHANG);
    if (result == 0) return true;
    if (result == pid_) exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return false;
}

void OperatorProcess::signal(int signal) const {
    if (running()) ::kill(pid_, signal);
}

int OperatorProcess::stop(int signal, std::chrono::milliseconds timeout) {
    if (!running()) return exit_code_;
    ::kill(pid_, signal);
    if (!wait_until([&] { return !running(); }, timeout, std::chrono::milliseconds(20))) {
        ::kill(pid_, SIGKILL);
        wait_until([&] { return !running(); }, std::chrono::seconds(10), std::chrono::milliseconds(20));
    }
    return exit_code_;
}

std::string OperatorProcess::log() const {
    std::ifstream in(log_path_);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string OperatorProcess::base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::pair<int, std::string> OperatorProcess::get(const std::string& path) const {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port_);
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return {0, ""};
    }
    std::string request = "GET " + path + " HTTP/1.1\r\nHost: operator\r\nConnection: close\r\n\r\n";
    ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
    std::string response;
    char buffer[8192];
    ssize_t n;
    while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) response.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0) return {0, ""};
    int status = std::stoi(response.substr(9, 3));
    auto body_start = response.find("\r\n\r\n");
    return {status, body_start == std::string::npos ? "" : response.substr(body_start + 4)};
}

bool OperatorProcess::wait_ready(std::chrono::milliseconds timeout) const {
    return wait_until([&] { return !running() || get("/readyz").first == 200; }, timeout) && running();
}

}  // namespace jpc::test
