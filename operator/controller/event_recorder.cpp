#include "controller/event_recorder.h"

#include "jibri/time.h"
#include "kube/errors.h"
#include "kube/resource.h"

#include <spdlog/spdlog.h>

namespace jpc::controller {

nlohmann::json object_reference(const pool::ObjectRef& ref) {
    nlohmann::json reference = {{"apiVersion", ref.api_version}, {"kind", ref.kind}, {"name", ref.name}};
    if (!ref.namespace_name.empty()) reference["namespace"] = ref.namespace_name;
    if (!ref.uid.empty()) reference["uid"] = ref.uid;
    return reference;
}

EventRecorder::EventRecorder(kube::Client client, std::string instance, std::chrono::minutes aggregation_window,
                             std::size_t max_tracked, std::size_t max_pending)
    : client_(std::move(client)), instance_(std::move(instance)), window_(aggregation_window),
      max_tracked_(max_tracked), max_pending_(max_pending) {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (true) {
            wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
            if (pending_.empty()) return;
            auto event = std::move(pending_.front());
            pending_.pop_front();
            lock.unlock();
            send(event);
            lock.lock();
        }
    });
}

EventRecorder::~EventRecorder() { stop(); }

void EventRecorder::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void EventRecorder::record(const pool::Event& event) {
    {
        std::lock_guard lock(mutex_);
        if (!stopping_ && pending_.size() < max_pending_) {
            pending_.push_back(event);
            wake_.notify_one();
            return;
        }
    }
    if (++dropped_ % 100 == 1) {
        spdlog::warn("events: {} dropped so far because {} were already waiting to be sent", dropped_.load(),
                     max_pending_);
    }
}

void EventRecorder::send(const pool::Event& event) {
    Key key{event.regarding.uid, std::string(pool::to_string(event.type)), event.reason, event.message};
    auto now = std::chrono::steady_clock::now();

    std::unique_lock lock(mutex_);
    auto found = tracked_.find(key);
    if (found != tracked_.end() && now - found->second.last < window_) {
        auto& tracked = found->second;
        tracked.count += 1;
        tracked.last = now;
        ages_.splice(ages_.end(), ages_, tracked.age);
        auto ns = tracked.ns;
        auto name = tracked.name;
        auto count = tracked.count;
        lock.unlock();

        auto stamp = jibri::format_rfc3339(std::chrono::time_point_cast<std::chrono::microseconds>(
            std::chrono::system_clock::now()));
        try {
            client_.merge_patch(kube::resources::events, ns, name, {{"count", count}, {"lastTimestamp", stamp}});
            return;
        } catch (const kube::ApiError& error) {
            if (!error.is_not_found()) {
                spdlog::warn("event {} {} on {}/{}: updating the count failed: {}", event.reason, name,
                             event.regarding.namespace_name, event.regarding.name, error.what());
                return;
            }
            // The Event expired (the API server keeps them an hour by default): create it anew.
        } catch (const std::exception& error) {
            spdlog::warn("event {} on {}/{}: updating the count failed: {}", event.reason,
                         event.regarding.namespace_name, event.regarding.name, error.what());
            return;
        }
        lock.lock();
        found = tracked_.find(key);
        if (found != tracked_.end()) {
            ages_.erase(found->second.age);
            tracked_.erase(found);
        }
    }
    lock.unlock();

    kube::EventRecord record;
    record.involved_object = object_reference(event.regarding);
    record.type = std::string(pool::to_string(event.type));
    record.reason = event.reason;
    record.message = event.message;
    record.instance = instance_;
    nlohmann::json created;
    try {
        created = client_.create_event(record);
    } catch (const std::exception& error) {
        spdlog::warn("event {} on {} {}/{}: creating it failed: {}", event.reason, event.regarding.kind,
                     event.regarding.namespace_name, event.regarding.name, error.what());
        return;
    }

    lock.lock();
    if (tracked_.count(key) == 0) {
        ages_.push_back(key);
        tracked_[key] = Tracked{kube::namespace_of(created), kube::name_of(created), 1, now, std::prev(ages_.end())};
        while (tracked_.size() > max_tracked_) {
            tracked_.erase(ages_.front());
            ages_.pop_front();
        }
    }
}

}  // namespace jpc::controller
