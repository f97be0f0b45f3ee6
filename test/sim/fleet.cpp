#include "sim/fleet.h"

#include "kube/errors.h"
#include "kube/resource.h"

#include <spdlog/spdlog.h>

namespace jpc::sim {

namespace {

pool::Labels labels_of(const nlohmann::json& object) {
    pool::Labels labels;
    const auto& metadata = object["metadata"];
    if (metadata.contains("labels") && metadata["labels"].is_object()) {
        for (const auto& [key, value] : metadata["labels"].items()) {
            if (value.is_string()) labels[key] = value.get<std::string>();
        }
    }
    return labels;
}

}  // namespace

JibriFleet::JibriFleet(kube::Client client, FleetOptions options)
    : client_(std::move(client)), options_(std::move(options)),
      health_(std::make_unique<HealthServer>(options_.health)), addresses_(4096, options_.first_address) {}

JibriFleet::~JibriFleet() { stop(); }

void JibriFleet::start() {
    kube::InformerOptions informer;
    informer.type = kube::resources::pods;
    informer.ns = options_.ns;
    informer.label_selector = options_.pod_selector;
    informer.name = "simulated jibris in " + options_.ns;
    // Revisits every pod now and then, so a status write that failed is retried.
    informer.resync_period = std::chrono::seconds(5);
    kube::InformerHandlers handlers;
    handlers.on_add = [this](const nlohmann::json& pod) { on_pod(pod); };
    handlers.on_update = [this](const nlohmann::json&, const nlohmann::json& pod) { on_pod(pod); };
    handlers.on_delete = [this](const nlohmann::json& pod) { on_pod_deleted(pod); };
    informer_ = std::make_unique<kube::Informer>(client_, informer, handlers);
    informer_->start();
}

void JibriFleet::stop() {
    if (informer_) informer_->stop();
    if (health_) health_->stop();
}

void JibriFleet::on_pod(const nlohmann::json& object) {
    auto name = kube::name_of(object);
    auto uid = kube::uid_of(object);
    bool deleting = object["metadata"].contains("deletionTimestamp");
    bool has_ip = object.contains("status") && !object["status"].value("podIP", "").empty();
    std::string ip;
    bool is_new = false;
    {
        std::lock_guard lock(mutex_);
        auto found = jibris_.find(name);
        if (found != jibris_.end() && found->second.uid == uid) {
            found->second.labels = labels_of(object);
            found->second.being_deleted = deleting;
            found->second.ip_recorded = has_ip;
            // A status write that failed (the API server was down) is retried on the next
            // event or resync of the pod.
            if (has_ip || deleting) return;
            ip = found->second.ip;
        } else {
            if (deleting) return;
            ip = addresses_.acquire();
            Jibri jibri;
            jibri.uid = uid;
            jibri.ip = ip;
            jibri.labels = labels_of(object);
            jibris_[name] = jibri;
            ++stats_.pods_started;
            is_new = true;
        }
    }
    if (is_new) health_->add(ip, JibriStatus{});

    // What the kubelet would do: the pod runs, with its IP.
    nlohmann::json status = {
        {"status", {{"phase", "Running"}, {"podIP", ip}, {"podIPs", nlohmann::json::array({{{"ip", ip}}})}}}};
    status["metadata"]["uid"] = uid;
    try {
        client_.merge_patch(kube::resources::pods, options_.ns, name, status, "status");
    } catch (const kube::ApiError& error) {
        if (!error.is_not_found() && !error.is_conflict()) {
            spdlog::warn("jibri-sim: pod {}/{}: setting its status failed: {}", options_.ns, name, error.what());
        }
    } catch (const std::exception& error) {
        spdlog::warn("jibri-sim: pod {}/{}: setting its status failed: {}", options_.ns, name, error.what());
    }
}

void JibriFleet::on_pod_deleted(const nlohmann::json& object) {
    auto name = kube::name_of(object);
    std::string ip;
    {
        std::lock_guard lock(mutex_);
        auto found = jibris_.find(name);
        if (found == jibris_.end() || found->second.uid != kube::uid_of(object)) return;
        if (found->second.status.busy_status == BusyStatus::Busy && !found->second.counted_lost) {
            ++stats_.lost_recordings;
            spdlog::error("jibri-sim: LOST RECORDING: pod {}/{} was deleted while its jibri was BUSY", options_.ns,
                          name);
        }
        ip = found->second.ip;
        jibris_.erase(found);
        ++stats_.pods_deleted;
    }
    health_->remove(ip);
    addresses_.release(ip);
}

std::vector<std::string> JibriFleet::idle_pods() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, jibri] : jibris_) {
        if (jibri.status.busy_status == BusyStatus::Idle && !jibri.being_deleted && jibri.ip_recorded &&
            options_.deployment_selector.matches(jibri.labels)) {
            names.push_back(name);
        }
    }
    return names;
}

std::vector<std::string> JibriFleet::busy_pods() const {
    std::lock_guard lock(mutex_);
    std::vector<std::string> names;
    for (const auto& [name, jibri] : jibris_) {
        if (jibri.status.busy_status == BusyStatus::Busy) names.push_back(name);
    }
    return names;
}

int JibriFleet::report(const std::string& pod, const Jibri& jibri) {
    auto url = options_.webhook_base + "/" + pod + "/v1/status";
    auto result = sender_.post_status(jibri.ip, url, webhook_body(pod, jibri.status, "session-" + pod));
    std::lock_guard lock(mutex_);
    ++stats_.webhooks_sent;
    if (result.status_code != 200) {
        ++stats_.webhooks_failed;
        spdlog::warn("jibri-sim: webhook {} for pod {} answered {} {}", to_string(jibri.status.busy_status), pod,
                     result.status_code, result.message);
    }
    return result.status_code;
}

int JibriFleet::start_recording(const std::string& pod, bool send_webhook) {
    Jibri copy;
    {
        std::lock_guard lock(mutex_);
        auto found = jibris_.find(pod);
        if (found == jibris_.end()) throw std::invalid_argument("jibri-sim: no jibri runs in pod " + pod);
        found->second.status.busy_status = BusyStatus::Busy;
        found->second.busy_since = std::chrono::steady_clock::now();
        ++stats_.recordings_started;
        if (!send_webhook) ++stats_.webhooks_dropped;
        copy = found->second;
    }
    health_->set_status(copy.ip, copy.status);
    return send_webhook ? report(pod, copy) : 0;
}

int JibriFleet::finish_recording(const std::string& pod, bool send_webhook) {
    Jibri copy;
    {
        std::lock_guard lock(mutex_);
        auto found = jibris_.find(pod);
        if (found == jibris_.end()) throw std::invalid_argument("jibri-sim: no jibri runs in pod " + pod);
        found->second.status.busy_status = BusyStatus::Expired;
        ++stats_.recordings_finished;
        if (!send_webhook) ++stats_.webhooks_dropped;
        copy = found->second;
    }
    health_->set_status(copy.ip, copy.status);
    return send_webhook ? report(pod, copy) : 0;
}

int JibriFleet::send_status(const std::string& pod) {
    Jibri copy;
    {
        std::lock_guard lock(mutex_);
        auto found = jibris_.find(pod);
        if (found == jibris_.end()) throw std::invalid_argument("jibri-sim: no jibri runs in pod " + pod);
        copy = found->second;
    }
    return report(pod, copy);
}

void JibriFleet::check_isolation() {
    auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    for (auto& [name, jibri] : jibris_) {
        if (jibri.status.busy_status != BusyStatus::Busy || jibri.counted_lost) continue;
        if (options_.deployment_selector.matches(jibri.labels) && now - jibri.busy_since > options_.isolation_grace) {
            jibri.counted_lost = true;
            ++stats_.lost_recordings;
            spdlog::error("jibri-sim: LOST RECORDING: pod {}/{} is BUSY but still inside the Deployment after {} ms",
                          options_.ns, name, options_.isolation_grace.count());
        }
    }
}

FleetStats JibriFleet::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::optional<std::string> JibriFleet::pod_ip(const std::string& pod) const {
    std::lock_guard lock(mutex_);
    auto found = jibris_.find(pod);
    if (found == jibris_.end()) return std::nullopt;
    return found->second.ip;
}

}  // namespace jpc::sim
