#pragma once

// The benchmark's own watch on a pool's pods. It stamps each event with the time the
// benchmark received it, which is where the latencies of the isolation benchmark end.

#include "kube/client.h"
#include "kube/informer.h"
#include "pool/labels.h"

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace jpc::bench {

class PodWatch {
public:
    using Clock = std::chrono::steady_clock;

    // Watches the pods of `ns` that match label_selector. A pod that matches
    // `deployment_selector` counts as inside the Deployment.
    PodWatch(kube::Client client, const std::string& ns, const std::string& label_selector,
             pool::LabelSelector deployment_selector);
    ~PodWatch();
    PodWatch(const PodWatch&) = delete;
    PodWatch& operator=(const PodWatch&) = delete;

    bool wait_for_sync(std::chrono::milliseconds timeout);

    // When the watch first delivered the pod outside the Deployment's selector, after
    // having seen it inside.
    std::optional<Clock::time_point> left_selector(const std::string& pod) const;
    std::optional<Clock::time_point> deleted(const std::string& pod) const;
    // When the watch first delivered the pod with annotation jibri.dev/busy-status set to
    // `status` (BUSY, EXPIRED), which is when the operator's report write became visible.
    std::optional<Clock::time_point> reported(const std::string& pod, const std::string& status) const;
    // The first pod added after `after` and its time, or nullopt.
    std::optional<std::pair<std::string, Clock::time_point>> first_added_after(Clock::time_point after) const;
    // Pods that exist and are inside the Deployment's selector.
    std::vector<std::string> pods_inside() const;

    // Waits until condition() holds, re-checking after every event and at least every
    // 50 ms. Returns false on timeout.
    bool wait(const std::function<bool()>& condition, std::chrono::milliseconds timeout) const;

private:
    struct Seen {
        bool inside = false;
        bool was_inside = false;
        std::optional<Clock::time_point> left_selector;
        std::optional<Clock::time_point> deleted;
        std::map<std::string, Clock::time_point> reported;  // by busy-status value
    };

    pool::Labels labels_of(const nlohmann::json& pod) const;
    void on_pod(const nlohmann::json& pod, bool added);
    void on_deleted(const nlohmann::json& pod);

    pool::LabelSelector deployment_selector_;
    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::map<std::string, Seen> pods_;
    std::vector<std::pair<std::string, Clock::time_point>> added_;
    std::unique_ptr<kube::Informer> informer_;
};

}  // namespace jpc::bench
