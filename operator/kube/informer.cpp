#include "kube/informer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace jpc::kube {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

}  // namespace

Informer::Informer(Client client, InformerOptions options, InformerHandlers handlers)
    : client_(std::move(client)),
      options_(std::move(options)),
      handlers_(std::move(handlers)),
      backoff_(options_.initial_backoff, options_.max_backoff) {
    if (options_.name.empty()) {
        options_.name = options_.ns.empty() ? options_.type.plural : options_.type.plural + " in " + options_.ns;
        if (!options_.label_selector.empty()) options_.name += " (" + options_.label_selector + ")";
    }
}

Informer::~Informer() { stop(); }

void Informer::start() {
    if (thread_.joinable()) throw std::logic_error("Informer " + options_.name + " was already started");
    thread_ = std::thread([this] { run(); });
}

void Informer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    synced_cv_.notify_all();
    cancellation_.cancel();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

bool Informer::has_synced() const {
    std::lock_guard lock(mutex_);
    return synced_;
}

bool Informer::wait_for_sync(milliseconds timeout) const {
    std::unique_lock lock(mutex_);
    synced_cv_.wait_for(lock, timeout, [this] { return synced_ || stopping_; });
    return synced_;
}

std::vector<ObjectPtr> Informer::list() const {
    std::lock_guard lock(mutex_);
    std::vector<ObjectPtr> objects;
    objects.reserve(store_.size());
    for (const auto& [key, object] : store_) objects.push_back(object);
    return objects;
}

ObjectPtr Informer::get(const std::string& ns, const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto found = store_.find(ns.empty() ? name : ns + "/" + name);
    return found == store_.end() ? nullptr : found->second;
}

std::size_t Informer::size() const {
    std::lock_guard lock(mutex_);
    return store_.size();
}

InformerStats Informer::stats() const {
    InformerStats stats;
    stats.relists = counters_.relists.load();
    stats.watch_restarts = counters_.watch_restarts.load();
    stats.gone = counters_.gone.load();
    stats.errors = counters_.errors.load();
    stats.events = counters_.events.load();
    return stats;
}

nlohmann::json Informer::prepare(nlohmann::json object) const {
    // Items of a list response carry no apiVersion and kind, but watch events do. Filling
    // them in makes both look the same to handlers.
    if (!object.contains("apiVersion")) object["apiVersion"] = options_.type.api_version();
    if (!object.contains("kind") && !options_.type.kind.empty()) object["kind"] = options_.type.kind;
    if (options_.transform) options_.transform(object);
    return object;
}

void Informer::call_handler(const char* what, const std::function<void()>& call) const {
    try {
        call();
    } catch (const std::exception& error) {
        spdlog::error("informer {}: {} handler failed: {}", options_.name, what, error.what());
    } catch (...) {
        spdlog::error("informer {}: {} handler failed with a non-standard exception", options_.name, what);
    }
}

void Informer::run() {
    std::string resource_version;
    bool need_list = true;
    bool first_watch = true;

    while (!cancellation_.is_cancelled()) {
        try {
            if (need_list) {
                resource_version = relist();
                need_list = false;
                first_watch = true;
                backoff_.reset();
            }
            if (!first_watch) counters_.watch_restarts.fetch_add(1);
            first_watch = false;
            watch_from(resource_version);
            resync_if_due();
            continue;
        } catch (const ApiError& error) {
            if (error.is_gone()) {
                counters_.gone.fetch_add(1);
                spdlog::info("informer {}: resourceVersion {} is too old ({}); listing again", options_.name,
                             resource_version, error.what());
                need_list = true;
                continue;
            }
            counters_.errors.fetch_add(1);
            spdlog::warn("informer {}: {}", options_.name, error.what());
        } catch (const TransportError& error) {
            if (error.is_cancelled()) break;
            counters_.errors.fetch_add(1);
            spdlog::warn("informer {}: {}", options_.name, error.what());
        } catch (const std::exception& error) {
            // A malformed or oversized event means the cache may have missed a change.
            counters_.errors.fetch_add(1);
            spdlog::error("informer {}: {}; listing again", options_.name, error.what());
            need_list = true;
        }
        auto delay = backoff_.next();
        spdlog::info("informer {}: {} again in {} ms", options_.name, need_list ? "listing" : "watching",
                     delay.count());
        if (cancellation_.wait_for(delay)) break;
    }
    spdlog::debug("informer {}: stopped", options_.name);
}

std::string Informer::relist() {
    ListOptions list_options;
    list_options.label_selector = options_.label_selector;
    list_options.field_selector = options_.field_selector;
    list_options.limit = options_.page_size;
    auto answer = client_.list_all(options_.type, options_.ns, list_options, &cancellation_);
    counters_.relists.fetch_add(1);

    std::size_t listed = answer["items"].size();
    std::map<std::string, ObjectPtr> fresh;
    for (auto& item : answer["items"]) {
        auto object = std::make_shared<const nlohmann::json>(prepare(std::move(item)));
        fresh.emplace(key_of(*object), std::move(object));
    }

    // Work out the events under the lock, call handlers after releasing it so that they
    // may read the store.
    // Changes in key order, each a pair (old, new): no old means added.
    std::vector<std::pair<ObjectPtr, ObjectPtr>> changed;
    std::vector<ObjectPtr> deleted;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [key, object] : fresh) {
            auto old = store_.find(key);
            if (old == store_.end()) {
                changed.emplace_back(nullptr, object);
            } else if (resource_version_of(*old->second) != resource_version_of(*object)) {
                changed.emplace_back(old->second, object);
            }
        }
        for (const auto& [key, object] : store_) {
            if (fresh.find(key) == fresh.end()) deleted.push_back(object);
        }
        store_ = std::move(fresh);
    }

    spdlog::info("informer {}: listed {} objects at resourceVersion {} ({} added or changed, {} deleted)",
                 options_.name, listed, resource_version_of(answer), changed.size(), deleted.size());
    for (const auto& object : deleted) {
        if (handlers_.on_delete) call_handler("delete", [&] { handlers_.on_delete(*object); });
    }
    for (const auto& change : changed) {
        // Plain references rather than a structured binding, which clang 14 (the fuzz
        // build's compiler) cannot capture in the lambdas below.
        const ObjectPtr& old_object = change.first;
        const ObjectPtr& object = change.second;
        if (!old_object) {
            if (handlers_.on_add) call_handler("add", [&] { handlers_.on_add(*object); });
        } else if (handlers_.on_update) {
            call_handler("update", [&] { handlers_.on_update(*old_object, *object); });
        }
    }

    {
        std::lock_guard lock(mutex_);
        if (!synced_ && options_.resync_period.count() > 0) next_resync_ = steady_clock::now() + options_.resync_period;
        synced_ = true;
    }
    synced_cv_.notify_all();
    return resource_version_of(answer);
}

std::size_t Informer::watch_from(std::string& resource_version) {
    WatchOptions watch_options;
    watch_options.list.label_selector = options_.label_selector;
    watch_options.list.field_selector = options_.field_selector;
    watch_options.list.resource_version = resource_version;
    auto timeout = std::chrono::duration_cast<seconds>(options_.watch_timeout);
    if (options_.resync_period.count() > 0) {
        // The watch has to end by the next resync, because resync runs on this thread.
        auto until_resync = std::chrono::ceil<seconds>(next_resync_ - steady_clock::now());
        timeout = std::clamp(until_resync, seconds(1), std::max(timeout, seconds(1)));
    }
    watch_options.timeout_seconds = static_cast<int>(std::max<long long>(timeout.count(), 1));

    std::size_t events = 0;
    watch(
        client_, options_.type, options_.ns, watch_options,
        [&](const WatchEvent& event) {
            apply_event(event);
            // Updated per event, so that a broken connection resumes after the last one applied.
            std::string version = resource_version_of(event.object);
            if (!version.empty()) resource_version = version;
            if (events++ == 0) backoff_.reset();
            resync_if_due();
            return !cancellation_.is_cancelled();
        },
        &cancellation_);
    return events;
}

void Informer::apply_event(const WatchEvent& event) {
    if (event.type == WatchEventType::bookmark) return;
    counters_.events.fetch_add(1);
    auto object = std::make_shared<const nlohmann::json>(prepare(event.object));
    std::string key = key_of(*object);

    ObjectPtr old;
    {
        std::lock_guard lock(mutex_);
        auto found = store_.find(key);
        if (found != store_.end()) old = found->second;
        if (event.type == WatchEventType::deleted) {
            if (found != store_.end()) store_.erase(found);
        } else {
            store_[key] = object;
        }
    }

    if (event.type == WatchEventType::deleted) {
        if (handlers_.on_delete) call_handler("delete", [&] { handlers_.on_delete(*object); });
    } else if (old) {
        if (handlers_.on_update) call_handler("update", [&] { handlers_.on_update(*old, *object); });
    } else {
        if (handlers_.on_add) call_handler("add", [&] { handlers_.on_add(*object); });
    }
}

void Informer::resync_if_due() {
    if (options_.resync_period.count() == 0 || !handlers_.on_update) return;
    auto now = steady_clock::now();
    if (now < next_resync_) return;
    next_resync_ = now + options_.resync_period;
    for (const auto& object : list()) {
        call_handler("update (resync)", [&] { handlers_.on_update(*object, *object); });
    }
}

}  // namespace jpc::kube
