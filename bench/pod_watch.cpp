#include "bench/pod_watch.h"

#include "kube/resource.h"

namespace jpc::bench {

namespace {

std::optional<std::string> busy_status_of(const nlohmann::json& pod) {
    const auto& metadata = pod["metadata"];
    if (!metadata.contains("annotations") || !metadata["annotations"].is_object()) return std::nullopt;
    const auto& annotations = metadata["annotations"];
    auto found = annotations.find("jibri.dev/busy-status");
    if (found == annotations.end() || !found->is_string()) return std::nullopt;
    return found->get<std::string>();
}

}  // namespace

PodWatch::PodWatch(kube::Client client, const std::string& ns, const std::string& label_selector,
                   pool::LabelSelector deployment_selector)
    : deployment_selector_(std::move(deployment_selector)) {
    kube::InformerOptions options;
    options.type = kube::resources::pods;
    options.ns = ns;
    options.label_selector = label_selector;
    options.name = "benchmark pods in " + ns;
    kube::InformerHandlers handlers;
    handlers.on_add = [this](const nlohmann::json& pod) { on_pod(pod, true); };
    handlers.on_update = [this](const nlohmann::json&, const nlohmann::json& pod) { on_pod(pod, false); };
    handlers.on_delete = [this](const nlohmann::json& pod) { on_deleted(pod); };
    informer_ = std::make_unique<kube::Informer>(std::move(client), options, handlers);
    informer_->start();
}

PodWatch::~PodWatch() { informer_->stop(); }

bool PodWatch::wait_for_sync(std::chrono::milliseconds timeout) { return informer_->wait_for_sync(timeout); }

pool::Labels PodWatch::labels_of(const nlohmann::json& pod) const {
    pool::Labels labels;
    const auto& metadata = pod["metadata"];
    if (metadata.contains("labels") && metadata["labels"].is_object()) {
        for (const auto& [key, value] : metadata["labels"].items()) {
            if (value.is_string()) labels[key] = value.get<std::string>();
        }
    }
    return labels;
}

void PodWatch::on_pod(const nlohmann::json& pod, bool added) {
    auto now = Clock::now();
    auto name = kube::name_of(pod);
    bool inside = deployment_selector_.matches(labels_of(pod));
    {
        std::lock_guard lock(mutex_);
        auto& seen = pods_[name];
        if (added) added_.emplace_back(name, now);
        if (seen.was_inside && !inside && !seen.left_selector) seen.left_selector = now;
        if (auto status = busy_status_of(pod)) seen.reported.emplace(*status, now);
        seen.inside = inside;
        seen.was_inside = seen.was_inside || inside;
    }
    changed_.notify_all();
}

void PodWatch::on_deleted(const nlohmann::json& pod) {
    auto now = Clock::now();
    {
        std::lock_guard lock(mutex_);
        auto& seen = pods_[kube::name_of(pod)];
        if (!seen.deleted) seen.deleted = now;
    }
    changed_.notify_all();
}

std::optional<PodWatch::Clock::time_point> PodWatch::left_selector(const std::string& pod) const {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(pod);
    if (found == pods_.end()) return std::nullopt;
    return found->second.left_selector;
}

std::optional<PodWatch::Clock::time_point> PodWatch::deleted(const std::string& pod) const {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(pod);
    if (found == pods_.end()) return std::nullopt;
    return found->second.deleted;
}

std::optional<PodWatch::Clock::time_point> PodWatch::reported(const std::string& pod,
                                                              const std::string& status) const {
    std::lock_guard lock(mutex_);
    auto found = pods_.find(pod);
    if (found == pods_.end()) return std::nullopt;
    auto time = found->second.reported.find(status);
    if (time == found->second.reported.end()) return std::nullopt;
    return time->second;
}

std::optional<std::pair<std::string, PodWatch::Clock::time_point>> PodWatch::first_added_after(
    Clock::time_point after) const {
    std::lock_guard lock(mutex_);
    for (const auto& entry : added_) {
        if (entry.second > after) return entry;
    }
    return std::nullopt;
}

std::vector<std::string> PodWatch::pods_inside() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, seen] : pods_) {
        if (seen.inside && !seen.deleted) names.push_back(name);
    }
    return names;
}

bool PodWatch::wait(const std::function<bool()>& condition, std::chrono::milliseconds timeout) const {
    auto deadline = Clock::now() + timeout;
    while (true) {
        // condition() takes the lock itself, so it runs unlocked here; the short wait
        // below covers an event that arrives between the check and the wait.
        if (condition()) return true;
        if (Clock::now() >= deadline) return false;
        std::unique_lock lock(mutex_);
        changed_.wait_for(lock, std::chrono::milliseconds(50));
    }
}

}  // namespace jpc::bench
