#pragma once

// Helpers shared by the libFuzzer targets in this folder.

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace jpc::fuzz {

// Prints a violated property and aborts. libFuzzer reports the abort as a crash and saves
// the input that caused it.
[[noreturn]] inline void fail(std::string_view property) {
    std::fprintf(stderr, "fuzz finding: %.*s\n", static_cast<int>(property.size()), property.data());
    std::abort();
}

inline void check(bool condition, std::string_view property) {
    if (!condition) {
        fail(property);
    }
}

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace jpc::fuzz
