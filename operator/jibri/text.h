#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace jpc::jibri {

// Quotes a value for a one-line message: double quotes around it, backslash escapes for
// quotes, backslashes and bytes outside printable ASCII (as \xNN), and at most `max_chars`
// input characters followed by "..." when longer.
std::string quote(std::string_view value, std::size_t max_chars = 80);

}  // namespace jpc::jibri
