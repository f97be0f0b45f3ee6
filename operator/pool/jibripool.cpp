#include "pool/jibripool.h"

#include "jibri/names.h"
#include "jibri/text.h"
#include "pool/json_fields.h"

#include <fmt/format.h>

#include <limits>
#include <vector>

namespace jpc::pool {

namespace {

using detail::find_member;
using detail::integer_member;
using detail::string_member;
using jibri::fail;
using jibri::quote;

constexpr std::int64_t kInt32Max = std::numeric_limits<std::int32_t>::max();

// Renders a JSON value for a message, shortened like jibri::quote.
std::string show(const nlohmann::json& value) {
    const std::string text = value.dump();
    return text.size() <= 80 ? text : text.substr(0, 80) + "...";
}

// Collects every problem of one object, so a user fixes them in one edit.
class FieldErrors {
public:
    void add(std::string error) { errors_.push_back(std::move(error)); }
    bool empty() const { return errors_.empty(); }
    std::string joined() const { return fmt::format("{}", fmt::join(errors_, "; ")); }

    // Reads an integer member within [min, max]. Returns nullopt, after recording an error
    // when the member is present but invalid or required but absent.
    std::optional<std::int32_t> integer(const nlohmann::json& object, const char* key,
                                        std::string_view field, std::int64_t min,
                                        std::int64_t max, bool required) {
        const std::string range = max == kInt32Max
                                      ? fmt::format("a whole number >= {}", min)
                                      : fmt::format("a whole number from {} to {}", min, max);
        const auto* member = find_member(object, key);
        if (member == nullptr) {
            if (required) {
                add(fmt::format("{}: missing; set {}", field, range));
            }
            return std::nullopt;
        }
        const auto value = integer_member(object, key);
        if (!value) {
            add(fmt::format("{}: expected an integer, got {} {}; set {}", field,
                            member->type_name(), show(*member), range));
            return std::nullopt;
        }
        if (*value < min || *value > max) {
            add(fmt::format("{}: invalid value {}; set {}", field, *value, range));
            return std::nullopt;
        }
        return static_cast<std::int32_t>(*value);
    }

    // Returns the member when it is an object (or absent: nullptr), recording an error otherwise.
    const nlohmann::json* object(const nlohmann::json& parent, const char* key,
                                 std::string_view field) {
        const auto* member = find_member(parent, key);
        if (member != nullptr && !member->is_object()) {
            add(fmt::format("{}: expected an object, got {} {}", field, member->type_name(),
                            show(*member)));
            return nullptr;
        }
        return member;
    }

private:
    std::vector<std::string> errors_;
};

void read_deployment_name(const nlohmann::json& spec, PoolSpec& out, FieldErrors& errors) {
    const auto* member = find_member(spec, "deploymentName");
    if (member == nullptr) {
        errors.add("spec.deploymentName: missing; set it to the name of the jibri Deployment in "
                   "the pool's namespace");
        return;
    }
    if (!member->is_string()) {
        errors.add(fmt::format("spec.deploymentName: expected a string, got {} {}",
                               member->type_name(), show(*member)));
        return;
    }
    out.deployment_name = member->get<std::string>();
    if (auto error = jibri::validate_dns1123_subdomain(out.deployment_name)) {
        errors.add(fmt::format("spec.deploymentName: {}; set the name of an existing Deployment",
                               *error));
    }
}

void read_busy_labels(const nlohmann::json& spec, PoolSpec& out, FieldErrors& errors) {
    const auto* member = find_member(spec, "busyLabels");
    constexpr std::string_view hint =
        "set labels that take a pod out of the Deployment's selector, for example "
        "{\"jibri.dev/state\": \"busy\"} with matchLabels {\"jibri.dev/state\": \"idle\"}";
    if (member == nullptr) {
        errors.add(fmt::format("spec.busyLabels: missing; {}", hint));
        return;
    }
    if (!member->is_object() || member->empty()) {
        errors.add(fmt::format("spec.busyLabels: expected a non-empty object, got {}; {}",
                               show(*member), hint));
        return;
    }
    for (const auto& [key, value] : member->items()) {
        if (!value.is_string()) {
            errors.add(fmt::format("spec.busyLabels.{}: expected a string, got {} {}", key,
                                   value.type_name(), show(value)));
            continue;
        }
        if (auto error = validate_label_key(key)) {
            errors.add(fmt::format("spec.busyLabels: {}", *error));
            continue;
        }
        if (auto error = validate_label_value(value.get_ref<const std::string&>())) {
            errors.add(fmt::format("spec.busyLabels.{}: {}", key, *error));
            continue;
        }
        out.busy_labels.emplace(key, value.get<std::string>());
    }
}

void read_health(const nlohmann::json& spec, PoolSpec& out, FieldErrors& errors) {
    const auto* health = errors.object(spec, "health", "spec.health");
    if (health == nullptr) {
        return;
    }
    if (auto port = errors.integer(*health, "port", "spec.health.port", 1, 65535, false)) {
        out.health.port = *port;
    }
    if (auto timeout = errors.integer(*health, "timeoutSeconds", "spec.health.timeoutSeconds", 1,
                                      kInt32Max, false)) {
        out.health.timeout_seconds = *timeout;
    }
    if (const auto* path = find_member(*health, "path")) {
        const bool valid = path->is_string() && !path->get_ref<const std::string&>().empty() &&
                           path->get_ref<const std::string&>().front() == '/';
        if (valid) {
            out.health.path = path->get<std::string>();
        } else {
            errors.add(fmt::format("spec.health.path: invalid value {}; set an absolute path "
                                   "such as \"/jibri/api/v1.0/health\"",
                                   show(*path)));
        }
    }
}

void read_webhook(const nlohmann::json& spec, PoolSpec& out, FieldErrors& errors) {
    const auto* webhook = errors.object(spec, "webhook", "spec.webhook");
    if (webhook == nullptr) {
        return;
    }
    if (const auto* verify = find_member(*webhook, "verifySourceIP")) {
        if (verify->is_boolean()) {
            out.webhook.verify_source_ip = verify->get<bool>();
        } else {
            errors.add(fmt::format("spec.webhook.verifySourceIP: expected true or false, got {}",
                                   show(*verify)));
        }
    }
}

}  // namespace

jibri::Result<JibriPool, std::string> parse_jibri_pool(const nlohmann::json& object) {
    if (!object.is_object()) {
        return fail(fmt::format("JibriPool: expected a JSON object, got {}", object.type_name()));
    }
    JibriPool pool;
    FieldErrors errors;

    const auto* metadata = find_member(object, "metadata");
    if (metadata == nullptr) {
        return fail(std::string("JibriPool: missing metadata"));
    }
    pool.name = string_member(*metadata, "name");
    pool.namespace_name = string_member(*metadata, "namespace");
    pool.uid = string_member(*metadata, "uid");
    pool.resource_version = string_member(*metadata, "resourceVersion");
    pool.generation = integer_member(*metadata, "generation").value_or(0);
    if (pool.name.empty() || pool.namespace_name.empty()) {
        return fail(std::string("JibriPool: missing metadata.name or metadata.namespace"));
    }

    const std::string prefix = fmt::format("JibriPool {}/{}: ", pool.namespace_name, pool.name);
    const auto* spec = find_member(object, "spec");
    if (spec == nullptr || !spec->is_object()) {
        return fail(prefix + "spec: missing; set deploymentName, spare and busyLabels");
    }

    read_deployment_name(*spec, pool.spec, errors);
    if (auto spare = errors.integer(*spec, "spare", "spec.spare", 0, kInt32Max, true)) {
        pool.spec.spare = *spare;
    }
    pool.spec.max_pods = errors.integer(*spec, "maxPods", "spec.maxPods", 0, kInt32Max, false);
    read_busy_labels(*spec, pool.spec, errors);
    if (auto interval = errors.integer(*spec, "sweepIntervalSeconds", "spec.sweepIntervalSeconds",
                                       5, kInt32Max, false)) {
        pool.spec.sweep_interval_seconds = *interval;
    }
    read_health(*spec, pool.spec, errors);
    read_webhook(*spec, pool.spec, errors);

    if (!errors.empty()) {
        return fail(prefix + errors.joined());
    }
    if (const auto* status = find_member(object, "status")) {
        pool.status = parse_pool_status(*status);
    }
    return pool;
}

}  // namespace jpc::pool
