#include "pool/status.h"

#include "pool/json_fields.h"

#include <limits>

namespace jpc::pool {

namespace {

using detail::find_member;
using detail::integer_member;
using detail::string_member;

std::int32_t count_member(const nlohmann::json& status, std::string_view key) {
    const auto value = integer_member(status, key);
    if (!value || *value < 0 || *value > std::numeric_limits<std::int32_t>::max()) {
        return 0;
    }
    return static_cast<std::int32_t>(*value);
}

Condition parse_condition(const nlohmann::json& object) {
    Condition condition;
    condition.type = string_member(object, "type");
    condition.status = string_member(object, "status");
    condition.reason = string_member(object, "reason");
    condition.message = string_member(object, "message");
    condition.observed_generation = integer_member(object, "observedGeneration").value_or(0);
    if (const auto time = jibri::parse_rfc3339(string_member(object, "lastTransitionTime"))) {
        condition.last_transition_time = jibri::truncate_to_seconds(*time);
    }
    return condition;
}

nlohmann::json condition_to_json(const Condition& condition) {
    return nlohmann::json{
        {"type", condition.type},
        {"status", condition.status},
        {"reason", condition.reason},
        {"message", condition.message},
        {"lastTransitionTime", jibri::format_rfc3339(condition.last_transition_time)},
        {"observedGeneration", condition.observed_generation},
    };
}

}  // namespace

const Condition* PoolStatus::find_condition(std::string_view type) const {
    for (const auto& condition : conditions) {
        if (condition.type == type) {
            return &condition;
        }
    }
    return nullptr;
}

std::vector<Condition> merge_conditions(const std::vector<Condition>& previous,
                                        std::vector<Condition> desired, jibri::Timestamp now) {
    const auto now_seconds = jibri::truncate_to_seconds(now);
    for (auto& condition : desired) {
        condition.last_transition_time = now_seconds;
        for (const auto& old : previous) {
            if (old.type == condition.type && old.status == condition.status) {
                condition.last_transition_time = old.last_transition_time;
                break;
            }
        }
    }
    return desired;
}

PoolStatus parse_pool_status(const nlohmann::json& status) {
    PoolStatus result;
    if (!status.is_object()) {
        return result;
    }
    result.observed_generation = integer_member(status, "observedGeneration").value_or(0);
    result.replicas = count_member(status, "replicas");
    result.idle = count_member(status, "idle");
    result.busy = count_member(status, "busy");
    result.expiring = count_member(status, "expiring");
    if (const auto* conditions = find_member(status, "conditions");
        conditions != nullptr && conditions->is_array()) {
        for (const auto& condition : *conditions) {
            if (condition.is_object()) {
                result.conditions.push_back(parse_condition(condition));
            }
        }
    }
    if (const auto* sweep = find_member(status, "lastSweepTime");
        sweep != nullptr && sweep->is_string()) {
        if (const auto time = jibri::parse_rfc3339(sweep->get<std::string>())) {
            result.last_sweep_time = jibri::truncate_to_seconds(*time);
        }
    }
    return result;
}

nlohmann::json to_json(const PoolStatus& status) {
    nlohmann::json conditions = nlohmann::json::array();
    for (const auto& condition : status.conditions) {
        conditions.push_back(condition_to_json(condition));
    }
    nlohmann::json result{
        {"observedGeneration", status.observed_generation},
        {"replicas", status.replicas},
        {"idle", status.idle},
        {"busy", status.busy},
        {"expiring", status.expiring},
        {"conditions", std::move(conditions)},
    };
    if (status.last_sweep_time) {
        result["lastSweepTime"] = jibri::format_rfc3339(*status.last_sweep_time);
    }
    return result;
}

nlohmann::json build_status_patch(const PoolStatus& status) {
    nlohmann::json body = to_json(status);
    body.erase("lastSweepTime");
    return nlohmann::json{{"status", std::move(body)}};
}

nlohmann::json build_sweep_time_patch(jibri::Timestamp swept_at) {
    return nlohmann::json{{"status", {{"lastSweepTime", jibri::format_rfc3339(swept_at)}}}};
}

}  // namespace jpc::pool
