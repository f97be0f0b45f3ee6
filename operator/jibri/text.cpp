#include "jibri/text.h"

#include <fmt/format.h>

namespace jpc::jibri {

std::string quote(std::string_view value, std::size_t max_chars) {
    std::string out = "\"";
    const std::size_t shown = value.size() < max_chars ? value.size() : max_chars;
    for (std::size_t i = 0; i < shown; ++i) {
        const auto byte = static_cast<unsigned char>(value[i]);
        if (byte == '"' || byte == '\\') {
            out += '\\';
            out += static_cast<char>(byte);
        } else if (byte < 0x20 || byte > 0x7e) {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += static_cast<char>(byte);
        }
    }
    out += '"';
    if (shown < value.size()) {
        out += "...";
    }
    return out;
}

}  // namespace jpc::jibri
