#pragma once

#include "jibri/result.h"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace jpc::pool {

using Labels = std::map<std::string, std::string>;

enum class SelectorOperator { in, not_in, exists, does_not_exist };

// Spelling in a metav1.LabelSelector: "In", "NotIn", "Exists", "DoesNotExist".
std::string_view to_string(SelectorOperator op);

// One entry of matchExpressions.
struct SelectorRequirement {
    std::string key;
    SelectorOperator op = SelectorOperator::exists;
    // Non-empty for In and NotIn, empty for Exists and DoesNotExist.
    std::set<std::string> values;

    bool operator==(const SelectorRequirement&) const = default;
};

// A metav1.LabelSelector. Its matchLabels and matchExpressions are ANDed, and an empty
// selector matches every label set.
struct LabelSelector {
    Labels match_labels;
    std::vector<SelectorRequirement> match_expressions;

    bool empty() const { return match_labels.empty() && match_expressions.empty(); }

    // Kubernetes semantics: In requires the key with a listed value; NotIn is satisfied by
    // a missing key or an unlisted value; Exists and DoesNotExist test the key only.
    bool matches(const Labels& labels) const;

    bool operator==(const LabelSelector&) const = default;
};

// Parses a metav1.LabelSelector object. Errors name the field and value, for example
// `matchExpressions[1].operator: invalid value "Equals"; use In, NotIn, Exists or
// DoesNotExist`. A null or absent selector is the caller's concern; pass the object.
jibri::Result<LabelSelector, std::string> parse_label_selector(const nlohmann::json& selector);

// Renders the selector in the syntax of the API's labelSelector query parameter,
// "a=b,c in (x,y),d notin (z),e,!f": matchLabels in key order, then matchExpressions in
// their order with sorted values. The caller percent-encodes it into the URL. An empty
// selector renders as "".
std::string to_query_string(const LabelSelector& selector);

// Renders equality requirements "a=b,c=d" for a labelSelector query.
std::string to_query_string(const Labels& labels);

// Label syntax (apimachinery validation). A key is an optional DNS-1123 subdomain prefix
// and '/', then a name of at most 63 characters of [A-Za-z0-9._-] starting and ending
// alphanumeric. A value is empty or such a name. Each returns nullopt when valid, or
// a reason naming the value.
std::optional<std::string> validate_label_key(std::string_view key);
std::optional<std::string> validate_label_value(std::string_view value);

}  // namespace jpc::pool
