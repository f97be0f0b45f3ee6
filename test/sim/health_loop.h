#pragma once

// Internal to jpc_sim: the thread behind HealthServer, its epoll loop and the state of every
// simulated jibri and connection.

#include "sim/health_server.h"
#include "sim/unique_fd.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace jpc::sim {

// The server thread and everything it owns. Sockets and jibri state are touched only on
// that thread. Other threads hand it work through call(), which waits for the result, so
// a change is complete when the public member function returns.
class HealthServer::Loop {
public:
    using Clock = std::chrono::steady_clock;

    struct Jibri {
        std::uint32_t address = 0;
        std::string address_text;
        detail::UniqueFd listener;  // empty while the behaviour is Refuse
        JibriStatus status;
        HealthBehaviour behaviour = HealthBehaviour::Respond;
        std::uint64_t requests = 0;
        std::unordered_set<int> connections;
    };

    explicit Loop(HealthServerOptions options);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    // Runs work on the server thread and returns its result or rethrows its exception.
    // Throws std::logic_error when the server has stopped.
    template <typename Work>
    std::invoke_result_t<Work> call(Work work);

    void stop();

    // The functions below run on the server thread only.

    void add_jibri(std::uint32_t address, JibriStatus status, HealthBehaviour behaviour);
    void remove_jibri(std::uint32_t address);
    void set_behaviour(std::uint32_t address, HealthBehaviour behaviour);
    Jibri& find(std::uint32_t address);
    std::size_t size() const { return jibris_.size(); }

private:
    enum class Phase {
        Reading,   // receiving the request head
        Held,      // Hang: request received, never responded to
        Writing,   // sending the response
        Draining,  // response sent and write side shut down, waiting for the client to close
    };

    struct Connection {
        detail::UniqueFd fd;
        std::uint32_t jibri = 0;
        Phase phase = Phase::Reading;
        std::string input;
        std::string output;
        std::size_t written = 0;
        Clock::time_point deadline = Clock::time_point::max();
    };

    void thread_main();
    void run();
    bool run_commands();
    void wake();

    void open_listener(Jibri& jibri);
    void close_listener(Jibri& jibri);
    void accept_connections(Jibri& jibri);
    void shed_connection(Jibri& jibri, int error);

    // These may close the connection, after which it must not be touched.
    void on_connection_event(Connection& connection);
    void read_request(Connection& connection);
    void handle_request(Connection& connection, std::string_view head);
    void respond(Connection& connection, std::string response);
    void write_response(Connection& connection);
    void discard_input(Connection& connection);

    void close_connection(int fd);
    void close_connections(Jibri& jibri, bool held_only);
    Clock::time_point expire_connections();
    bool watch(int operation, int fd, std::uint32_t events);

    const HealthServerOptions options_;
    detail::UniqueFd epoll_;
    detail::UniqueFd wake_;
    detail::UniqueFd spare_;  // kept open so that one accept can still succeed when fds run out
    std::uint64_t shed_count_ = 0;

    std::unordered_map<std::uint32_t, Jibri> jibris_;
    std::unordered_map<int, std::uint32_t> listeners_;  // listening fd to jibri address
    std::unordered_map<int, Connection> connections_;

    std::mutex commands_mutex_;
    std::deque<std::function<void()>> commands_;
    bool stopping_ = false;

    // Declared last so that the thread starts after every other member exists.
    std::thread thread_;
};

template <typename Work>
std::invoke_result_t<Work> HealthServer::Loop::call(Work work) {
    using Result = std::invoke_result_t<Work>;
    using Stored = std::conditional_t<std::is_void_v<Result>, bool, Result>;

    // The result, the exception and the wait state live in this frame, and the queued
    // command only refers to them. So this thread, not the server thread, releases the
    // exception, which keeps exception objects out of cross-thread reference counting.
    std::optional<Stored> result;
    std::exception_ptr error;
    std::mutex mutex;
    std::condition_variable finished;
    bool done = false;

    auto command = [&] {
        try {
            if constexpr (std::is_void_v<Result>) {
                work();
                result.emplace(true);
            } else {
                result.emplace(work());
            }
        } catch (...) {
            error = std::current_exception();
        }
        // Notify under the lock, because the waiting frame may end as soon as done is true.
        std::lock_guard lock(mutex);
        done = true;
        finished.notify_one();
    };
    {
        std::lock_guard lock(commands_mutex_);
        if (stopping_) {
            throw std::logic_error("the health server is stopped");
        }
        commands_.push_back(command);
    }
    wake();

    std::unique_lock lock(mutex);
    finished.wait(lock, [&] { return done; });
    if (error) {
        std::rethrow_exception(error);
    }
    if constexpr (!std::is_void_v<Result>) {
        return std::move(*result);
    }
}

}  // namespace jpc::sim
