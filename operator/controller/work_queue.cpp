#include "controller/work_queue.h"

#include <algorithm>

namespace jpc::controller {

WorkQueue::WorkQueue(std::chrono::milliseconds base_delay, std::chrono::milliseconds max_delay)
    : base_delay_(base_delay), max_delay_(max_delay) {}

void WorkQueue::add(const std::string& key) {
    std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    if (processing_.count(key) != 0) {
        dirty_.insert(key);
        return;
    }
    if (queued_at_.count(key) != 0) return;
    queue_.push_back(key);
    queued_at_[key] = Clock::now();
    cv_.notify_one();
}

void WorkQueue::add_after(const std::string& key, std::chrono::milliseconds delay) {
    if (delay <= std::chrono::milliseconds::zero()) {
        add(key);
        return;
    }
    std::lock_guard lock(mutex_);
    if (shutting_down_) return;
    waiting_.emplace(Clock::now() + delay, key);
    cv_.notify_all();
}

std::chrono::milliseconds WorkQueue::add_rate_limited(const std::string& key) {
    std::chrono::milliseconds delay;
    {
        std::lock_guard lock(mutex_);
        auto count = failures_[key]++;
        auto factor = count >= 30 ? max_delay_.count() : (std::int64_t{1} << count);
        delay = std::min(max_delay_, std::chrono::milliseconds(std::min<std::int64_t>(
                                         max_delay_.count(), base_delay_.count() * factor)));
    }
    add_after(key, delay);
    return delay;
}

void WorkQueue::forget(const std::string& key) {
    std::lock_guard lock(mutex_);
    failures_.erase(key);
}

std::uint32_t WorkQueue::failures(const std::string& key) const {
    std::lock_guard lock(mutex_);
    auto found = failures_.find(key);
    return found == failures_.end() ? 0 : found->second;
}

void WorkQueue::promote_due_locked(Clock::time_point now) {
    while (!waiting_.empty() && waiting_.begin()->first <= now) {
        auto key = waiting_.begin()->second;
        waiting_.erase(waiting_.begin());
        if (processing_.count(key) != 0) {
            dirty_.insert(key);
        } else if (queued_at_.count(key) == 0) {
            queue_.push_back(key);
            queued_at_[key] = now;
        }
    }
}

std::optional<std::string> WorkQueue::get() {
    std::unique_lock lock(mutex_);
    while (true) {
        if (shutting_down_) return std::nullopt;
        promote_due_locked(Clock::now());
        if (!queue_.empty()) break;
        if (waiting_.empty()) {
            cv_.wait(lock);
        } else {
            // A copy: wait_until reads its deadline again after waking, when another
            // thread may have erased the map node.
            const auto until = waiting_.begin()->first;
            cv_.wait_until(lock, until);
        }
    }
    auto key = queue_.front();
    queue_.pop_front();
    queued_at_.erase(key);
    processing_.insert(key);
    return key;
}

void WorkQueue::done(const std::string& key) {
    std::lock_guard lock(mutex_);
    processing_.erase(key);
    if (dirty_.erase(key) != 0 && !shutting_down_ && queued_at_.count(key) == 0) {
        queue_.push_back(key);
        queued_at_[key] = Clock::now();
        cv_.notify_one();
    }
}

void WorkQueue::shut_down() {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    cv_.notify_all();
}

std::size_t WorkQueue::size() const {
    std::lock_guard lock(mutex_);
    return queue_.size();
}

std::chrono::milliseconds WorkQueue::longest_wait() const {
    std::lock_guard lock(mutex_);
    if (queued_at_.empty()) return std::chrono::milliseconds::zero();
    auto oldest = std::min_element(queued_at_.begin(), queued_at_.end(),
                                   [](const auto& a, const auto& b) { return a.second < b.second; });
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - oldest->second);
}

}  // namespace jpc::controller
