#include "metrics/metrics.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace jpc::metrics {

namespace {

constexpr const char* kPrefix = "jibri_pod_controller_";

std::string escape_label_value(const std::string& value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string escape_help(const std::string& help) {
    std::string out;
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string format_value(double value) {
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (std::isnan(value)) return "NaN";
    std::ostringstream out;
    out.precision(17);
    out << value;
    return out.str();
}

std::string label_text(const std::vector<std::string>& names, const LabelValues& values,
                       const std::string& extra_name = {}, const std::string& extra_value = {}) {
    std::string text;
    for (std::size_t i = 0; i < names.size() && i < values.size(); ++i) {
        text += text.empty() ? "{" : ",";
        text += names[i] + "=\"" + escape_label_value(values[i]) + "\"";
    }
    if (!extra_name.empty()) {
        text += text.empty() ? "{" : ",";
        text += extra_name + "=\"" + extra_value + "\"";
    }
    if (!text.empty()) text += "}";
    return text;
}

}  // namespace

void CounterFamily::increment(const LabelValues& labels, double amount) {
    std::lock_guard lock(mutex_);
    values_[labels] += amount;
}

void CounterFamily::mirror(const LabelValues& labels, double total) {
    std::lock_guard lock(mutex_);
    values_[labels] = total;
}

double CounterFamily::value(const LabelValues& labels) const {
    std::lock_guard lock(mutex_);
    auto found = values_.find(labels);
    return found == values_.end() ? 0 : found->second;
}

std::map<LabelValues, double> CounterFamily::snapshot() const {
    std::lock_guard lock(mutex_);
    return values_;
}

void GaugeFamily::set(const LabelValues& labels, double value) {
    std::lock_guard lock(mutex_);
    values_[labels] = value;
}

void GaugeFamily::clear() {
    std::lock_guard lock(mutex_);
    values_.clear();
}

std::map<LabelValues, double> GaugeFamily::snapshot() const {
    std::lock_guard lock(mutex_);
    return values_;
}

void HistogramFamily::observe(const LabelValues& labels, double value) {
    std::lock_guard lock(mutex_);
    auto& series = series_[labels];
    if (series.bucket_counts.empty()) series.bucket_counts.assign(bounds_.size(), 0);
    for (std::size_t i = 0; i < bounds_.size(); ++i) {
        if (value <= bounds_[i]) {
            ++series.bucket_counts[i];
            break;
        }
    }
    series.sum += value;
    ++series.count;
}

std::map<LabelValues, HistogramFamily::Series> HistogramFamily::snapshot() const {
    std::lock_guard lock(mutex_);
    return series_;
}

Registry::Entry& Registry::add(const std::string& name, const std::string& help, const std::string& type,
                               std::vector<std::string> label_names) {
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_) {
        if (entry->name == kPrefix + name) throw std::logic_error("metric " + name + " registered twice");
    }
    auto entry = std::make_unique<Entry>();
    entry->name = kPrefix + name;
    entry->help = help;
    entry->type = type;
    entry->label_names = std::move(label_names);
    entries_.push_back(std::move(entry));
    return *entries_.back();
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
    auto& entry = add(name, help, "counter", std::move(label_names));
    entry.counter = std::make_unique<CounterFamily>();
    return *entry.counter;
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help, std::vector<std::string> label_names) {
    auto& entry = add(name, help, "gauge", std::move(label_names));
    entry.gauge = std::make_unique<GaugeFamily>();
    return *entry.gauge;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<std::string> label_names, std::vector<double> bounds) {
    auto& entry = add(name, help, "histogram", std::move(label_names));
    entry.histogram = std::make_unique<HistogramFamily>(std::move(bounds));
    return *entry.histogram;
}

void Registry::on_collect(std::function<void()> collector) {
    std::lock_guard lock(mutex_);
    collectors_.push_back(std::move(collector));
}

std::string Registry::render() const {
    std::vector<std::function<void()>> collectors;
    {
        std::lock_guard lock(mutex_);
        collectors = collectors_;
    }
    for (const auto& collect : collectors) collect();

    std::string out;
    std::lock_guard lock(mutex_);
    for (const auto& entry : entries_) {
        out += "# HELP " + entry->name + " " + escape_help(entry->help) + "\n";
        out += "# TYPE " + entry->name + " " + entry->type + "\n";
        if (entry->counter) {
            for (const auto& [labels, value] : entry->counter->snapshot()) {
                out += entry->name + label_text(entry->label_names, labels) + " " + format_value(value) + "\n";
            }
        } else if (entry->gauge) {
            for (const auto& [labels, value] : entry->gauge->snapshot()) {
                out += entry->name + label_text(entry->label_names, labels) + " " + format_value(value) + "\n";
            }
        } else if (entry->histogram) {
            const auto& bounds = entry->histogram->bounds();
            for (const auto& [labels, series] : entry->histogram->snapshot()) {
                std::uint64_t cumulative = 0;
                for (std::size_t i = 0; i < bounds.size(); ++i) {
                    cumulative += series.bucket_counts[i];
                    out += entry->name + "_bucket" +
                           label_text(entry->label_names, labels, "le", format_value(bounds[i])) + " " +
                           std::to_string(cumulative) + "\n";
                }
                out += entry->name + "_bucket" + label_text(entry->label_names, labels, "le", "+Inf") + " " +
                       std::to_string(series.count) + "\n";
                out += entry->name + "_sum" + label_text(entry->label_names, labels) + " " + format_value(series.sum) + "\n";
                out += entry->name + "_count" + label_text(entry->label_names, labels) + " " +
                       std::to_string(series.count) + "\n";
            }
        }
    }
    return out;
}

std::vector<double> duration_buckets() {
    return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

OperatorMetrics::OperatorMetrics(Registry& registry)
    : pods(registry.gauge("pods", "Pods of each pool by state at the last reconcile.", {"namespace", "pool", "state"})),
      isolations(registry.counter("isolations_total", "BUSY pods moved out of their Deployment.", {"namespace", "pool"})),
      deletions(registry.counter("deletions_total", "Pods deleted, by reason (expired: jibri reported EXPIRED; "
                                                    "terminal: an isolated pod whose containers exited).",
                                 {"namespace", "pool", "reason"})),
      scales(registry.counter("scales_total", "Changes of a Deployment's replicas.", {"namespace", "pool"})),
      webhook_requests(registry.counter("webhook_requests_total", "Webhook requests by HTTP status code.", {"code"})),
      webhook_duration(registry.histogram("webhook_duration_seconds", "Time to answer a webhook request.", {},
                                          duration_buckets())),
      webhook_pod_lookups(registry.counter(
          "webhook_pod_lookups_total",
          "Pods the webhook looked up, by where the answer came from: the informer cache, a GET to the API "
          "server, or the memory of names the API server reported as not found within the last second.",
          {"source"})),
      reconcile_duration(registry.histogram("reconcile_duration_seconds", "Time of one reconcile of a pool.",
                                            {"result"}, duration_buckets())),
      reconcile_errors(registry.counter("reconcile_errors_total", "Reconciles that failed and were retried.")),
      sweep_duration(registry.histogram("sweep_duration_seconds", "Time of one health sweep of a pool.",
                                        {"namespace", "pool"}, duration_buckets())),
      health_check_failures(registry.counter("health_check_failures_total",
                                             "Health requests to jibris that failed, by reason.", {"reason"})),
      sweep_recoveries(registry.counter("sweep_recoveries_total",
                                        "Statuses the sweep found that no webhook had reported.", {"status"})),
      watch_restarts(registry.counter("watch_restarts_total", "Watches reopened after the first one, over all informers.")),
      relists(registry.counter("relists_total", "Full lists by the informers, the first ones included.")),
      api_errors(registry.counter("api_errors_total", "Failed Kubernetes API requests by HTTP status code.", {"code"})),
      leader(registry.gauge("leader", "1 while this replica is the leader, else 0.")),
      build_info(registry.gauge("build_info", "Always 1; the version label names the build.", {"version"})),
      cached_pods(registry.gauge("cached_pods", "Pods held in the informer caches.")) {}

}  // namespace jpc::metrics
