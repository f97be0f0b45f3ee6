#pragma once

#include "kube/client.h"
#include "kube/transport.h"
#include "kube/watch.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace jpc::kube {

// Objects in the store are immutable and shared: list() and get() hand out pointers to
// them without copying, and an update replaces the pointer, never the object.
using ObjectPtr = std::shared_ptr<const nlohmann::json>;

struct InformerOptions {
    ResourceType type;
    std::string ns;  // empty: all namespaces (or a cluster-scoped type)
    std::string label_selector;
    std::string field_selector;

    // Applied to each object before it is stored and passed to handlers, for example to
    // drop metadata.managedFields and save memory. Runs on the informer thread.
    std::function<void(nlohmann::json&)> transform;

    // Every period, on_update(object, object) is called for each stored object, so that
    // level-based handlers revisit them. Zero disables resync.
    std::chrono::milliseconds resync_period{0};

    std::int64_t page_size = 500;  // limit of each list page
    // Server-side duration of one watch; the informer opens the next one where it ended.
    std::chrono::seconds watch_timeout{300};

    // Delay between failed list or watch attempts; Backoff adds up to 20% jitter.
    std::chrono::milliseconds initial_backoff{800};
    std::chrono::milliseconds max_backoff{std::chrono::seconds(30)};

    std::string name;  // for logs; defaults to the plural and namespace
};

// Handlers run on the informer thread, one at a time, in event order. They must not call
// stop() on their own informer. An exception from a handler is logged and swallowed.
struct InformerHandlers {
    std::function<void(const nlohmann::json& object)> on_add;
    std::function<void(const nlohmann::json& old_object, const nlohmann::json& object)> on_update;
    // Receives the last state the informer saw; after a relist this may be older than the
    // state at deletion time.
    std::function<void(const nlohmann::json& object)> on_delete;
};

// Counters for metrics; each value only grows.
struct InformerStats {
    std::uint64_t relists = 0;         // full lists, the first included
    std::uint64_t watch_restarts = 0;  // watches opened after the first one following a list
    std::uint64_t gone = 0;            // 410 Gone responses that forced a relist
    std::uint64_t errors = 0;          // failed list or watch attempts
    std::uint64_t events = 0;          // ADDED, MODIFIED and DELETED events applied
};

// A cache of one resource type kept current by list+watch, with event handlers.
//
// One thread per informer: it lists (in pages), then watches from the list's
// resourceVersion, applying each event to the store before calling the handler, so a
// handler that reads the store sees the new state. When a watch ends it opens the next
// one from the last resourceVersion seen (bookmarks included). A 410 Gone, from the
// request or as an ERROR event, leads to a relist that emits on_add, on_update (for a
// changed resourceVersion only) and on_delete for objects that vanished meanwhile, so
// nothing is lost or reported twice. Failed lists and broken watches retry with Backoff.
class Informer {
public:
    Informer(Client client, InformerOptions options, InformerHandlers handlers = {});
    ~Informer();  // calls stop()
    Informer(const Informer&) = delete;
    Informer& operator=(const Informer&) = delete;

    // Starts the thread. Call once.
    void start();
    // Cancels the call in flight and joins the thread; returns within about a second.
    // Idempotent.
    void stop();

    // True once the first list has been stored.
    bool has_synced() const;
    // Waits for the first list. Returns false on timeout or when stopped before that.
    bool wait_for_sync(std::chrono::milliseconds timeout) const;

    // Copies of the pointers to every stored object, in key order (namespace/name).
    std::vector<ObjectPtr> list() const;
    // The stored object, or null.
    ObjectPtr get(const std::string& ns, const std::string& name) const;
    std::size_t size() const;

    InformerStats stats() const;
    const std::string& name() const { return options_.name; }

private:
    struct Counters {
        std::atomic<std::uint64_t> relists{0};
        std::atomic<std::uint64_t> watch_restarts{0};
        std::atomic<std::uint64_t> gone{0};
        std::atomic<std::uint64_t> errors{0};
        std::atomic<std::uint64_t> events{0};
    };

    void run();
    std::string relist();
    std::size_t watch_from(std::string& resource_version);
    void apply_event(const WatchEvent& event);
    void resync_if_due();
    nlohmann::json prepare(nlohmann::json object) const;
    void call_handler(const char* what, const std::function<void()>& call) const;

    Client client_;
    InformerOptions options_;
    InformerHandlers handlers_;
    Backoff backoff_;  // used on the informer thread only

    mutable std::mutex mutex_;
    mutable std::condition_variable synced_cv_;
    std::map<std::string, ObjectPtr> store_;
    bool synced_ = false;
    bool stopping_ = false;

    Cancellation cancellation_;
    std::thread thread_;
    std::chrono::steady_clock::time_point next_resync_;
    Counters counters_;
};

}  // namespace jpc::kube
