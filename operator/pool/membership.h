#pragma once

#include "pool/jibripool.h"
#include "pool/labels.h"
#include "pool/objects.h"

#include <optional>
#include <string>

namespace jpc::pool {

// Checks statically that the busy labels take every pod out of the selector, whatever its
// other labels. That is true when at least one busy label (k, v) makes the selector fail
// in one of four ways. matchLabels has k with a value other than v, an In expression on k
// does not list v, a NotIn expression on k lists v, or a DoesNotExist expression names k.
// Returns nullopt when it holds, or a message for the Degraded condition saying why not
// and what to change.
std::optional<std::string> check_busy_labels(const Labels& busy_labels,
                                             const LabelSelector& selector);

// Returns the pod's labels with the busy labels written over them.
Labels with_busy_labels(const Labels& pod_labels, const Labels& busy_labels);

// Per-pod check: the pod's labels with the busy labels applied no longer match the selector.
bool busy_labels_isolate(const Labels& pod_labels, const Labels& busy_labels,
                         const LabelSelector& selector);

// Returns the labels that both idle and busy pods of the pool carry: the selector's
// matchLabels and single-value In expressions whose keys the busy labels do not set.
// The pod informer filters on them server-side with to_query_string(Labels).
// NOTE: empty when the selector has no such entry; the informer then lists every pod in
// the namespace and pool_member() does all of the filtering.
Labels shared_labels(const Labels& busy_labels, const LabelSelector& selector);

// Returns whether the pod belongs to the pool: it matches the Deployment's selector
// (an idle or not yet isolated pod), or it carries every busy label and every shared
// label (an isolated pod).
bool pool_member(const Pod& pod, const Labels& busy_labels, const LabelSelector& selector);

// Returns whether the pod was isolated: outside the selector, carrying every busy label
// and every shared label.
bool isolated(const Pod& pod, const Labels& busy_labels, const LabelSelector& selector);

}  // namespace jpc::pool
