#include "pool/labels.h"

#include "jibri/names.h"
#include "jibri/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace jpc::pool {

namespace {

using jibri::fail;
using jibri::quote;

constexpr std::size_t kMaxNameLength = 63;

bool alphanumeric(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A qualified name's part after the optional prefix, or a non-empty label value.
std::optional<std::string> validate_qualified_name(std::string_view name, std::string_view what) {
    if (name.size() > kMaxNameLength) {
        return fmt::format("{} {} has {} characters, at most {} are allowed", what, quote(name),
                           name.size(), kMaxNameLength);
    }
    for (const char c : name) {
        if (!alphanumeric(c) && c != '-' && c != '_' && c != '.') {
            return fmt::format("{} {} contains {}; use letters, digits, '-', '_' and '.'", what,
                               quote(name), quote(std::string_view(&c, 1)));
        }
    }
    if (!alphanumeric(name.front()) || !alphanumeric(name.back())) {
        return fmt::format("{} {} must start and end with a letter or digit", what, quote(name));
    }
    return std::nullopt;
}

std::optional<SelectorOperator> parse_operator(std::string_view text) {
    if (text == "In") {
        return SelectorOperator::in;
    }
    if (text == "NotIn") {
        return SelectorOperator::not_in;
    }
    if (text == "Exists") {
        return SelectorOperator::exists;
    }
    if (text == "DoesNotExist") {
        return SelectorOperator::does_not_exist;
    }
    return std::nullopt;
}

jibri::Result<Labels, std::string> parse_match_labels(const nlohmann::json& object) {
    if (!object.is_object()) {
        return fail(fmt::format("matchLabels: expected an object, got {}", object.type_name()));
    }
    Labels labels;
    for (const auto& [key, value] : object.items()) {
        if (!value.is_string()) {
            return fail(fmt::format("matchLabels.{}: expected a string, got {}", key,
                                    value.type_name()));
        }
        if (auto error = validate_label_key(key)) {
            return fail(fmt::format("matchLabels: {}", *error));
        }
        const auto& text = value.get_ref<const std::string&>();
        if (auto error = validate_label_value(text)) {
            return fail(fmt::format("matchLabels.{}: {}", key, *error));
        }
        labels.emplace(key, text);
    }
    return labels;
}

jibri::Result<SelectorRequirement, std::string> parse_requirement(const nlohmann::json& object,
                                                                  std::string_view field) {
    if (!object.is_object()) {
        return fail(fmt::format("{}: expected an object, got {}", field, object.type_name()));
    }

    const auto key = object.find("key");
    if (key == object.end() || !key->is_string()) {
        return fail(fmt::format("{}.key: missing or not a string", field));
    }
    SelectorRequirement requirement;
    requirement.key = key->get<std::string>();
    if (auto error = validate_label_key(requirement.key)) {
        return fail(fmt::format("{}.key: {}", field, *error));
    }

    const auto op = object.find("operator");
    if (op == object.end() || !op->is_string()) {
        return fail(fmt::format("{}.operator: missing or not a string; use In, NotIn, Exists or "
                                "DoesNotExist",
                                field));
    }
    const auto parsed_op = parse_operator(op->get_ref<const std::string&>());
    if (!parsed_op) {
        return fail(fmt::format("{}.operator: invalid value {}; use In, NotIn, Exists or "
                                "DoesNotExist",
                                field, quote(op->get_ref<const std::string&>())));
    }
    requirement.op = *parsed_op;

    if (const auto values = object.find("values"); values != object.end() && !values->is_null()) {
        if (!values->is_array()) {
            return fail(fmt::format("{}.values: expected an array, got {}", field,
                                    values->type_name()));
        }
        for (const auto& value : *values) {
            if (!value.is_string()) {
                return fail(fmt::format("{}.values: expected strings, got {}", field,
                                        value.type_name()));
            }
            const auto& text = value.get_ref<const std::string&>();
            if (auto error = validate_label_value(text)) {
                return fail(fmt::format("{}.values: {}", field, *error));
            }
            requirement.values.insert(text);
        }
    }

    const bool needs_values =
        requirement.op == SelectorOperator::in || requirement.op == SelectorOperator::not_in;
    if (needs_values && requirement.values.empty()) {
        return fail(fmt::format("{}.values: operator {} needs at least one value", field,
                                to_string(requirement.op)));
    }
    if (!needs_values && !requirement.values.empty()) {
        return fail(fmt::format("{}.values: operator {} takes no values; remove them", field,
                                to_string(requirement.op)));
    }
    return requirement;
}

bool requirement_matches(const SelectorRequirement& requirement, const Labels& labels) {
    const auto it = labels.find(requirement.key);
    const bool present = it != labels.end();
    switch (requirement.op) {
    case SelectorOperator::in:
        return present && requirement.values.contains(it->second);
    case SelectorOperator::not_in:
        return !present || !requirement.values.contains(it->second);
    case SelectorOperator::exists:
        return present;
    case SelectorOperator::does_not_exist:
        return !present;
    }
    return false;
}

std::string join_values(const std::set<std::string>& values) {
    std::string out;
    for (const auto& value : values) {
        if (!out.empty()) {
            out += ',';
        }
        out += value;
    }
    return out;
}

}  // namespace

std::string_view to_string(SelectorOperator op) {
    switch (op) {
    case SelectorOperator::in:
        return "In";
    case SelectorOperator::not_in:
        return "NotIn";
    case SelectorOperator::exists:
        return "Exists";
    case SelectorOperator::does_not_exist:
        return "DoesNotExist";
    }
    return "Unknown";
}

bool LabelSelector::matches(const Labels& labels) const {
    for (const auto& [key, value] : match_labels) {
        const auto it = labels.find(key);
        if (it == labels.end() || it->second != value) {
            return false;
        }
    }
    return std::all_of(match_expressions.begin(), match_expressions.end(),
                       [&](const SelectorRequirement& requirement) {
                           return requirement_matches(requirement, labels);
                       });
}

jibri::Result<LabelSelector, std::string> parse_label_selector(const nlohmann::json& selector) {
    if (!selector.is_object()) {
        return fail(fmt::format("expected an object, got {}", selector.type_name()));
    }
    LabelSelector result;

    if (const auto labels = selector.find("matchLabels");
        labels != selector.end() && !labels->is_null()) {
        auto parsed = parse_match_labels(*labels);
        if (!parsed) {
            return fail(parsed.error());
        }
        result.match_labels = std::move(parsed).value();
    }

    if (const auto expressions = selector.find("matchExpressions");
        expressions != selector.end() && !expressions->is_null()) {
        if (!expressions->is_array()) {
            return fail(fmt::format("matchExpressions: expected an array, got {}",
                                    expressions->type_name()));
        }
        for (std::size_t i = 0; i < expressions->size(); ++i) {
            auto requirement =
                parse_requirement((*expressions)[i], fmt::format("matchExpressions[{}]", i));
            if (!requirement) {
                return fail(requirement.error());
            }
            result.match_expressions.push_back(std::move(requirement).value());
        }
    }
    return result;
}

std::string to_query_string(const LabelSelector& selector) {
    std::vector<std::string> parts;
    for (const auto& [key, value] : selector.match_labels) {
        parts.push_back(key + "=" + value);
    }
    for (const auto& requirement : selector.match_expressions) {
        switch (requirement.op) {
        case SelectorOperator::in:
            parts.push_back(fmt::format("{} in ({})", requirement.key,
                                        join_values(requirement.values)));
            break;
        case SelectorOperator::not_in:
            parts.push_back(fmt::format("{} notin ({})", requirement.key,
                                        join_values(requirement.values)));
            break;
        case SelectorOperator::exists:
            parts.push_back(requirement.key);
            break;
        case SelectorOperator::does_not_exist:
            parts.push_back("!" + requirement.key);
            break;
        }
    }
    return fmt::format("{}", fmt::join(parts, ","));
}

std::string to_query_string(const Labels& labels) {
    return to_query_string(LabelSelector{labels, {}});
}

std::optional<std::string> validate_label_key(std::string_view key) {
    if (key.empty()) {
        return std::string("label key is empty");
    }
    std::string_view name = key;
    if (const auto slash = key.find('/'); slash != std::string_view::npos) {
        const std::string_view prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (name.find('/') != std::string_view::npos) {
            return fmt::format("label key {} contains more than one '/'", quote(key));
        }
        if (auto error = jibri::validate_dns1123_subdomain(prefix)) {
            return fmt::format("label key {} has an invalid prefix: {}", quote(key), *error);
        }
        if (name.empty()) {
            return fmt::format("label key {} has an empty name after the prefix", quote(key));
        }
    }
    return validate_qualified_name(name, "label key name");
}

std::optional<std::string> validate_label_value(std::string_view value) {
    if (value.empty()) {
        return std::nullopt;
    }
    return validate_qualified_name(value, "label value");
}

}  // namespace jpc::pool
