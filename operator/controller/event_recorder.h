#pragma once

#include "kube/client.h"
#include "pool/actions.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

namespace jpc::controller {

// Records core/v1 Events about pods and pools on its own thread, so an Event never slows
// a reconcile, a sweep or a webhook answer. A repeat of the same event (same object, type,
// reason and message) within `aggregation_window` increments the count of the Event
// already created instead of creating another, as kubectl describe shows them: "x5 over
// 3m". Failures are logged and never thrown, because an Event is information, not state.
// At most `max_pending` events wait to be sent; more are dropped and counted.
class EventRecorder {
public:
    EventRecorder(kube::Client client, std::string instance,
                  std::chrono::minutes aggregation_window = std::chrono::minutes(10),
                  std::size_t max_tracked = 4096, std::size_t max_pending = 1000);
    ~EventRecorder();
    EventRecorder(const EventRecorder&) = delete;
    EventRecorder& operator=(const EventRecorder&) = delete;

    // Queues the event and returns at once.
    void record(const pool::Event& event);

    // Sends what is queued, then stops the thread. Idempotent.
    void stop();

    std::uint64_t dropped() const { return dropped_; }

    // Sends one event now, on the calling thread.
    void send(const pool::Event& event);

private:
    using Key = std::tuple<std::string, std::string, std::string, std::string>;  // uid, type, reason, message
    struct Tracked {
        std::string ns;
        std::string name;
        std::int64_t count = 1;
        std::chrono::steady_clock::time_point last;
        std::list<Key>::iterator age;
    };

    kube::Client client_;
    std::string instance_;
    std::chrono::minutes window_;
    std::size_t max_tracked_;
    std::mutex mutex_;
    std::map<Key, Tracked> tracked_;
    std::list<Key> ages_;  // least recently used first

    std::size_t max_pending_;
    std::deque<pool::Event> pending_;  // guarded by mutex_
    std::condition_variable wake_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> dropped_{0};
    std::thread thread_;
};

// Builds a core/v1 ObjectReference for an action's object.
nlohmann::json object_reference(const pool::ObjectRef& ref);

}  // namespace jpc::controller
