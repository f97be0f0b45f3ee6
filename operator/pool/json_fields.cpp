#include "pool/json_fields.h"

namespace jpc::pool::detail {

const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key) {
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        return nullptr;
    }
    return &*it;
}

std::string string_member(const nlohmann::json& object, std::string_view key) {
    const auto* member = find_member(object, key);
    return member != nullptr && member->is_string() ? member->get<std::string>() : std::string();
}

std::optional<std::int64_t> integer_member(const nlohmann::json& object, std::string_view key) {
    const auto* member = find_member(object, key);
    if (member == nullptr || !member->is_number_integer()) {
        return std::nullopt;
    }
    if (member->is_number_unsigned()) {
        const auto value = member->get<std::uint64_t>();
        if (value > static_cast<std::uint64_t>(INT64_MAX)) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(value);
    }
    return member->get<std::int64_t>();
}

Labels string_map_member(const nlohmann::json& object, std::string_view key) {
    Labels result;
    const auto* member = find_member(object, key);
    if (member == nullptr || !member->is_object()) {
        return result;
    }
    for (const auto& [entry_key, value] : member->items()) {
        if (value.is_string()) {
            result.emplace(entry_key, value.get<std::string>());
        }
    }
    return result;
}

}  // namespace jpc::pool::detail
