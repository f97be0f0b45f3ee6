#pragma once

// Lenient readers for Kubernetes objects that the API server already validated.

#include "pool/labels.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jpc::pool::detail {

// Returns the member, or nullptr when `object` is not an object, lacks it, or it is null.
const nlohmann::json* find_member(const nlohmann::json& object, std::string_view key);

// Returns the member when it is a string, or "" otherwise.
std::string string_member(const nlohmann::json& object, std::string_view key);

// Returns the member when it is an integer, or nullopt otherwise.
std::optional<std::int64_t> integer_member(const nlohmann::json& object, std::string_view key);

// Returns the string-valued entries of an object member; other entries are skipped.
Labels string_map_member(const nlohmann::json& object, std::string_view key);

}  // namespace jpc::pool::detail
