#include "pool/membership.h"

#include <fmt/format.h>

namespace jpc::pool {

namespace {

// Returns whether the busy label (key, value) fails the selector whatever the pod's other
// labels are.
bool breaks_selector(const std::string& key, const std::string& value,
                     const LabelSelector& selector) {
    if (const auto it = selector.match_labels.find(key);
        it != selector.match_labels.end() && it->second != value) {
        return true;
    }
    for (const auto& requirement : selector.match_expressions) {
        if (requirement.key != key) {
            continue;
        }
        switch (requirement.op) {
        case SelectorOperator::in:
            if (!requirement.values.contains(value)) {
                return true;
            }
            break;
        case SelectorOperator::not_in:
            if (requirement.values.contains(value)) {
                return true;
            }
            break;
        case SelectorOperator::does_not_exist:
            return true;
        case SelectorOperator::exists:
            break;
        }
    }
    return false;
}

bool carries_all(const Labels& pod_labels, const Labels& required) {
    for (const auto& [key, value] : required) {
        const auto it = pod_labels.find(key);
        if (it == pod_labels.end() || it->second != value) {
            return false;
        }
    }
    return true;
}

}  // namespace

std::optional<std::string> check_busy_labels(const Labels& busy_labels,
                                             const LabelSelector& selector) {
    if (busy_labels.empty()) {
        return std::string("spec.busyLabels is empty, so a busy pod would stay in the "
                           "Deployment's selector; set at least one busy label");
    }
    for (const auto& [key, value] : busy_labels) {
        if (breaks_selector(key, value, selector)) {
            return std::nullopt;
        }
    }
    return fmt::format(
        "busy labels {{{}}} do not take a pod out of the Deployment's selector {{{}}}, so busy "
        "pods cannot be isolated; set a busy label whose key the selector requires with another "
        "value (matchLabels, or an In, NotIn or DoesNotExist expression)",
        to_query_string(busy_labels), to_query_string(selector));
}

Labels with_busy_labels(const Labels& pod_labels, const Labels& busy_labels) {
    Labels merged = pod_labels;
    for (const auto& [key, value] : busy_labels) {
        merged[key] = value;
    }
    return merged;
}

bool busy_labels_isolate(const Labels& pod_labels, const Labels& busy_labels,
                         const LabelSelector& selector) {
    return !selector.matches(with_busy_labels(pod_labels, busy_labels));
}

Labels shared_labels(const Labels& busy_labels, const LabelSelector& selector) {
    Labels shared;
    for (const auto& [key, value] : selector.match_labels) {
        if (!busy_labels.contains(key)) {
            shared.emplace(key, value);
        }
    }
    for (const auto& requirement : selector.match_expressions) {
        const bool single_value_in =
            requirement.op == SelectorOperator::in && requirement.values.size() == 1;
        if (single_value_in && !busy_labels.contains(requirement.key)) {
            // emplace keeps a matchLabels entry for the same key.
            shared.emplace(requirement.key, *requirement.values.begin());
        }
    }
    return shared;
}

bool isolated(const Pod& pod, const Labels& busy_labels, const LabelSelector& selector) {
    return !busy_labels.empty() && !selector.matches(pod.labels) &&
           carries_all(pod.labels, busy_labels) &&
           carries_all(pod.labels, shared_labels(busy_labels, selector));
}

bool pool_member(const Pod& pod, const Labels& busy_labels, const LabelSelector& selector) {
    return selector.matches(pod.labels) || isolated(pod, busy_labels, selector);
}

}  // namespace jpc::pool
