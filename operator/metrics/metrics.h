#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace jpc::metrics {

// Label values in the order of the family's label names.
using LabelValues = std::vector<std::string>;

// A family of monotonically increasing counters, one per label-value combination.
class CounterFamily {
public:
    void increment(const LabelValues& labels = {}, double amount = 1);
    // Copies a count kept elsewhere (such as an informer's relists); it must only grow.
    void mirror(const LabelValues& labels, double total);
    double value(const LabelValues& labels = {}) const;
    std::map<LabelValues, double> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<LabelValues, double> values_;
};

// A family of gauges; set() replaces a value, clear() drops every series (for gauges
// recomputed as a whole, such as pods per pool and state).
class GaugeFamily {
public:
    void set(const LabelValues& labels, double value);
    void clear();
    std::map<LabelValues, double> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<LabelValues, double> values_;
};

// A family of histograms with fixed bucket upper bounds (in seconds for durations).
class HistogramFamily {
public:
    explicit HistogramFamily(std::vector<double> bounds) : bounds_(std::move(bounds)) {}
    void observe(const LabelValues& labels, double value);

    struct Series {
        std::vector<std::uint64_t> bucket_counts;  // cumulative is computed when rendering
        double sum = 0;
        std::uint64_t count = 0;
    };
    std::map<LabelValues, Series> snapshot() const;
    const std::vector<double>& bounds() const { return bounds_; }

private:
    std::vector<double> bounds_;
    mutable std::mutex mutex_;
    std::map<LabelValues, Series> series_;
};

// Every metric of the operator, rendered in the Prometheus text exposition format 0.0.4.
// Names carry the jibri_pod_controller_ prefix.
class Registry {
public:
    CounterFamily& counter(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
    GaugeFamily& gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names = {});
    HistogramFamily& histogram(const std::string& name, const std::string& help, std::vector<std::string> label_names,
                               std::vector<double> bounds);

    // Called at the start of render(), to refresh gauges computed from state.
    void on_collect(std::function<void()> collector);

    std::string render() const;

private:
    struct Entry {
        std::string name;
        std::string help;
        std::string type;
        std::vector<std::string> label_names;
        std::unique_ptr<CounterFamily> counter;
        std::unique_ptr<GaugeFamily> gauge;
        std::unique_ptr<HistogramFamily> histogram;
    };
    Entry& add(const std::string& name, const std::string& help, const std::string& type,
               std::vector<std::string> label_names);

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<Entry>> entries_;
    std::vector<std::function<void()>> collectors_;
};

// Bucket bounds in seconds for request and reconcile durations: 1 ms to 10 s.
std::vector<double> duration_buckets();

// The operator's metrics, registered once and shared by its components.
struct OperatorMetrics {
    explicit OperatorMetrics(Registry& registry);

    GaugeFamily& pods;                      // pool namespace, pool, state (idle, busy, expiring)
    CounterFamily& isolations;              // pool namespace, pool
    CounterFamily& deletions;               // pool namespace, pool, reason (expired, terminal)
    CounterFamily& scales;                  // pool namespace, pool
    CounterFamily& webhook_requests;        // code
    HistogramFamily& webhook_duration;      // (none)
    CounterFamily& webhook_pod_lookups;     // source (cache, api, remembered)
    HistogramFamily& reconcile_duration;    // result (success, error, requeue)
    CounterFamily& reconcile_errors;        // (none)
    HistogramFamily& sweep_duration;        // pool namespace, pool
    CounterFamily& health_check_failures;   // reason (timeout, connect, invalid)
    CounterFamily& sweep_recoveries;        // status (BUSY, EXPIRED): missed webhooks the sweep caught
    CounterFamily& watch_restarts;          // (none), mirrored from the informers
    CounterFamily& relists;                 // (none), mirrored from the informers
    CounterFamily& api_errors;              // code
    GaugeFamily& leader;                    // (none), 0 or 1
    GaugeFamily& build_info;                // version
    GaugeFamily& cached_pods;               // (none)
};

}  // namespace jpc::metrics
