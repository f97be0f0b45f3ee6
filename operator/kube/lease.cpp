#include "kube/lease.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace jpc::kube {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

void run_all(const std::vector<std::function<void()>>& notifications) {
    for (const auto& notify : notifications) {
        try {
            notify();
        } catch (const std::exception& error) {
            spdlog::error("leader election callback failed: {}", error.what());
        }
    }
}

std::int32_t whole_seconds(milliseconds duration) {
    auto seconds = std::chrono::ceil<std::chrono::seconds>(duration).count();
    return static_cast<std::int32_t>(std::max<long long>(seconds, 1));
}

}  // namespace

bool LeaseRecord::same_spec(const LeaseRecord& other) const {
    return holder_identity == other.holder_identity && lease_duration_seconds == other.lease_duration_seconds &&
           acquire_time == other.acquire_time && renew_time == other.renew_time &&
           lease_transitions == other.lease_transitions;
}

std::string format_micro_time(std::chrono::system_clock::time_point time) {
    auto seconds = std::chrono::floor<std::chrono::seconds>(time);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time - seconds).count();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:06d}Z", seconds, micros);
}

nlohmann::json lease_to_json(const LeaseRecord& record, const std::string& ns, const std::string& name) {
    nlohmann::json lease = {
        {"apiVersion", "coordination.k8s.io/v1"},
        {"kind", "Lease"},
        {"metadata", {{"name", name}, {"namespace", ns}}},
        {"spec",
         {{"holderIdentity", record.holder_identity},
          {"leaseDurationSeconds", record.lease_duration_seconds},
          {"leaseTransitions", record.lease_transitions}}},
    };
    if (!record.acquire_time.empty()) lease["spec"]["acquireTime"] = record.acquire_time;
    if (!record.renew_time.empty()) lease["spec"]["renewTime"] = record.renew_time;
    if (!record.resource_version.empty()) lease["metadata"]["resourceVersion"] = record.resource_version;
    return lease;
}

LeaseRecord lease_from_json(const nlohmann::json& lease) {
    LeaseRecord record;
    record.resource_version = resource_version_of(lease);
    if (!lease.contains("spec") || !lease["spec"].is_object()) return record;
    const auto& spec = lease["spec"];
    auto text = [&spec](const char* key) {
        return spec.contains(key) && spec[key].is_string() ? spec[key].get<std::string>() : std::string();
    };
    auto number = [&spec](const char* key) {
        return spec.contains(key) && spec[key].is_number_integer() ? spec[key].get<std::int32_t>() : 0;
    };
    record.holder_identity = text("holderIdentity");
    record.acquire_time = text("acquireTime");
    record.renew_time = text("renewTime");
    record.lease_duration_seconds = number("leaseDurationSeconds");
    record.lease_transitions = number("leaseTransitions");
    return record;
}

ApiLeaseStore::ApiLeaseStore(const Client& client, std::string ns, std::string name, milliseconds request_timeout)
    : client_(client.with_options([&] {
          ClientOptions options = client.options();
          options.retry = RetryPolicy::none();
          options.request_timeout = request_timeout;
          return options;
      }())),
      ns_(std::move(ns)),
      name_(std::move(name)) {}

std::optional<LeaseRecord> ApiLeaseStore::get() {
    try {
        return lease_from_json(client_.get(resources::leases, ns_, name_));
    } catch (const ApiError& error) {
        if (error.is_not_found()) return std::nullopt;
        throw;
    }
}

LeaseRecord ApiLeaseStore::create(const LeaseRecord& record) {
    LeaseRecord fresh = record;
    fresh.resource_version.clear();
    return lease_from_json(client_.create(resources::leases, ns_, lease_to_json(fresh, ns_, name_)));
}

LeaseRecord ApiLeaseStore::update(const LeaseRecord& record) {
    return lease_from_json(client_.replace(resources::leases, ns_, name_, lease_to_json(record, ns_, name_)));
}

LeaderElector::LeaderElector(std::shared_ptr<LeaseStore> store, LeaderElectionConfig config,
                             std::shared_ptr<const Clock> clock)
    : store_(std::move(store)), config_(std::move(config)), clock_(std::move(clock)), random_(std::random_device{}()) {
    if (!store_ || !clock_) throw std::invalid_argument("leader election needs a lease store and a clock");
    if (config_.identity.empty()) throw std::invalid_argument("leader election needs a non-empty identity");
    if (config_.retry_period.count() <= 0) throw std::invalid_argument("leader election: retry_period must be positive");
    if (config_.renew_deadline <= config_.retry_period) {
        throw std::invalid_argument("leader election: renew_deadline must be longer than retry_period");
    }
    if (config_.lease_duration <= config_.renew_deadline) {
        throw std::invalid_argument("leader election: lease_duration must be longer than renew_deadline");
    }
}

LeaderElector::~LeaderElector() { stop(); }

void LeaderElector::start() {
    if (thread_.joinable()) throw std::logic_error("LeaderElector " + config_.identity + " was already started");
    running_ = true;
    spdlog::info("leader election: {} is a candidate for lease {}", config_.identity, store_->describe());
    thread_ = std::thread([this] { run(); });
}

void LeaderElector::run() {
    while (!cancellation_.is_cancelled()) {
        auto next = step();
        auto wait = std::chrono::duration_cast<milliseconds>(next - clock_->now());
        if (wait.count() > 0 && cancellation_.wait_for(wait)) break;
    }
}

void LeaderElector::stop() {
    cancellation_.cancel();
    if (thread_.joinable()) thread_.join();
    if (!running_.exchange(false)) return;

    bool was_leading;
    {
        std::lock_guard lock(mutex_);
        was_leading = leading_;
        leading_ = false;
    }
    // Leader work stops before the lease is released, so that the next leader never
    // overlaps with this one.
    if (was_leading) {
        spdlog::info("leader election: {} stops leading (shutting down)", config_.identity);
        if (config_.on_stopped_leading) run_all({config_.on_stopped_leading});
    }
    if (config_.release_on_stop) release();
}

void LeaderElector::observe(const LeaseRecord& record, steady_clock::time_point now,
                            std::vector<std::function<void()>>& notifications) {
    bool holder_changed = !observed_ || observed_->holder_identity != record.holder_identity;
    if (!observed_ || !observed_->same_spec(record)) observed_at_ = now;
    observed_ = record;
    if (holder_changed) {
        spdlog::info("leader election: lease {} is held by \"{}\" (transitions {})", store_->describe(),
                     record.holder_identity, record.lease_transitions);
        if (config_.on_new_leader) {
            notifications.push_back([callback = config_.on_new_leader, holder = record.holder_identity] {
                callback(holder);
            });
        }
    }
}

bool LeaderElector::try_acquire_or_renew(std::vector<std::function<void()>>& notifications) {
    auto now = clock_->now();
    std::string stamp = format_micro_time(clock_->wall_now());
    LeaseRecord desired;
    desired.holder_identity = config_.identity;
    desired.lease_duration_seconds = whole_seconds(config_.lease_duration);
    desired.acquire_time = stamp;
    desired.renew_time = stamp;

    auto current = store_->get();
    if (!current) {
        auto created = store_->create(desired);
        std::lock_guard lock(mutex_);
        observe(created, now, notifications);
        return true;
    }

    std::lock_guard lock(mutex_);
    observe(*current, now, notifications);
    // The holder's own lease duration counts, measured from when this replica saw the
    // record change, so clock differences between replicas do not matter.
    bool held_by_other = !current->holder_identity.empty() && current->holder_identity != config_.identity;
    if (held_by_other && now < observed_at_ + std::chrono::seconds(current->lease_duration_seconds)) {
        return false;
    }

    if (current->holder_identity == config_.identity) {
        desired.acquire_time = current->acquire_time;
        desired.lease_transitions = current->lease_transitions;
    } else {
        desired.lease_transitions = current->lease_transitions + 1;
    }
    desired.resource_version = current->resource_version;
    auto updated = store_->update(desired);
    observe(updated, now, notifications);
    return true;
}

steady_clock::time_point LeaderElector::step() {
    auto started = clock_->now();
    std::vector<std::function<void()>> notifications;
    bool succeeded = false;
    try {
        succeeded = try_acquire_or_renew(notifications);
    } catch (const ApiError& error) {
        // A conflict means another replica wrote first; that is the normal race.
        if (error.is_conflict()) {
            spdlog::debug("leader election: {} lost a race for lease {}: {}", config_.identity,
                          store_->describe(), error.what());
        } else {
            spdlog::warn("leader election: {} cannot update lease {}: {}", config_.identity,
                         store_->describe(), error.what());
        }
    } catch (const std::exception& error) {
        spdlog::warn("leader election: {} cannot update lease {}: {}", config_.identity, store_->describe(),
                     error.what());
    }

    bool leading;
    {
        std::lock_guard lock(mutex_);
        bool was_leading = leading_;
        if (succeeded) {
            renewed_at_ = started;
            leading_ = true;
        } else if (leading_ && clock_->now() - renewed_at_ >= config_.renew_deadline) {
            leading_ = false;
        }
        leading = leading_;
        if (leading && !was_leading) {
            spdlog::info("leader election: {} acquired lease {} and starts leading", config_.identity,
                         store_->describe());
            if (config_.on_started_leading) notifications.push_back(config_.on_started_leading);
        } else if (!leading && was_leading) {
            spdlog::warn("leader election: {} could not renew lease {} within {} ms and stops leading",
                         config_.identity, store_->describe(), config_.renew_deadline.count());
            if (config_.on_stopped_leading) notifications.push_back(config_.on_stopped_leading);
        }
    }
    run_all(notifications);

    if (leading) return started + config_.retry_period;
    std::uniform_real_distribution<double> spread(0.0, 0.2);
    auto jitter = milliseconds(static_cast<long long>(
        static_cast<double>(config_.retry_period.count()) * spread(random_)));
    return started + config_.retry_period + jitter;
}

bool LeaderElector::release() {
    LeaseRecord released;
    {
        std::lock_guard lock(mutex_);
        if (!observed_ || observed_->holder_identity != config_.identity) return false;
        std::string stamp = format_micro_time(clock_->wall_now());
        released.lease_duration_seconds = 1;
        released.acquire_time = stamp;
        released.renew_time = stamp;
        released.lease_transitions = observed_->lease_transitions;
        released.resource_version = observed_->resource_version;
        leading_ = false;
    }
    try {
        auto updated = store_->update(released);
        std::vector<std::function<void()>> notifications;
        {
            std::lock_guard lock(mutex_);
            observe(updated, clock_->now(), notifications);
        }
        run_all(notifications);
        spdlog::info("leader election: {} released lease {}", config_.identity, store_->describe());
        return true;
    } catch (const std::exception& error) {
        spdlog::warn("leader election: {} cannot release lease {}: {}; others take over when it expires",
                     config_.identity, store_->describe(), error.what());
        return false;
    }
}

bool LeaderElector::is_leader() const {
    std::lock_guard lock(mutex_);
    return leading_ && clock_->now() - renewed_at_ < config_.renew_deadline;
}

LeaderInfo LeaderElector::info() const {
    std::lock_guard lock(mutex_);
    LeaderInfo info;
    if (observed_) {
        info.holder_identity = observed_->holder_identity;
        info.lease_transitions = observed_->lease_transitions;
    }
    info.is_leader = leading_ && clock_->now() - renewed_at_ < config_.renew_deadline;
    return info;
}

}  // namespace jpc::kube
