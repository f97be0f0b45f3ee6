#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <deque>

namespace jpc::controller {

// A queue of keys (namespace/name of a JibriPool) for reconcile workers, with client-go's
// work queue guarantees:
// - a key is queued at most once however often it is added;
// - a key is handed to at most one worker at a time; one added while a worker holds it is
//   handed out again after done(), so no change is missed;
// - add_after() delays a key, and add_rate_limited() delays it exponentially per key
//   (base_delay doubled for each failure, capped at max_delay) until forget().
class WorkQueue {
public:
    using Clock = std::chrono::steady_clock;

    WorkQueue(std::chrono::milliseconds base_delay = std::chrono::milliseconds(200),
              std::chrono::milliseconds max_delay = std::chrono::seconds(60));

    void add(const std::string& key);
    void add_after(const std::string& key, std::chrono::milliseconds delay);
    // Adds after the key's next backoff delay; returns that delay.
    std::chrono::milliseconds add_rate_limited(const std::string& key);
    // Resets the key's backoff after a success.
    void forget(const std::string& key);
    std::uint32_t failures(const std::string& key) const;

    // Blocks until a key is ready and returns it, or returns nullopt once shut down.
    std::optional<std::string> get();
    // Marks the key processed; requeues it when it was added meanwhile.
    void done(const std::string& key);

    // Wakes every get() with nullopt. Keys not yet handed out are dropped.
    void shut_down();

    std::size_t size() const;  // keys ready now
    // Oldest wait of a ready key, for the queue-latency metric.
    std::chrono::milliseconds longest_wait() const;

private:
    void promote_due_locked(Clock::time_point now);

    std::chrono::milliseconds base_delay_;
    std::chrono::milliseconds max_delay_;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    std::map<std::string, Clock::time_point> queued_at_;  // keys in queue_
    std::set<std::string> processing_;
    std::set<std::string> dirty_;  // added while processing
    std::multimap<Clock::time_point, std::string> waiting_;
    std::map<std::string, std::uint32_t> failures_;
    bool shutting_down_ = false;
};

}  // namespace jpc::controller
