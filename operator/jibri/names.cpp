#include "jibri/names.h"

#include "jibri/text.h"

#include <fmt/format.h>

namespace jpc::jibri {

namespace {

constexpr std::size_t kMaxLabelLength = 63;
constexpr std::size_t kMaxSubdomainLength = 253;

bool lower_alphanumeric(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

// Checks the characters of one label, without its length limit. `kind` names the rule
// in the message.
std::optional<std::string> check_label_characters(std::string_view name, std::string_view part,
                                                  std::string_view kind) {
    if (part.empty()) {
        return fmt::format("{} is not a valid {}: it contains an empty part", quote(name), kind);
    }
    for (const char c : part) {
        if (!lower_alphanumeric(c) && c != '-') {
            return fmt::format(
                "{} is not a valid {}: character {} is not allowed; use lowercase letters, "
                "digits and '-'",
                quote(name), kind, quote(std::string_view(&c, 1)));
        }
    }
    if (!lower_alphanumeric(part.front()) || !lower_alphanumeric(part.back())) {
        return fmt::format("{} is not a valid {}: each part must start and end with a lowercase "
                           "letter or digit",
                           quote(name), kind);
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> validate_dns1123_label(std::string_view name) {
    constexpr std::string_view kind = "DNS-1123 label";
    if (name.empty()) {
        return std::string("name is empty; a DNS-1123 label needs 1 to 63 characters");
    }
    if (name.size() > kMaxLabelLength) {
        return fmt::format("{} is not a valid {}: {} characters, at most {} are allowed",
                           quote(name), kind, name.size(), kMaxLabelLength);
    }
    return check_label_characters(name, name, kind);
}

std::optional<std::string> validate_dns1123_subdomain(std::string_view name) {
    constexpr std::string_view kind = "DNS-1123 subdomain";
    if (name.empty()) {
        return std::string("name is empty; a DNS-1123 subdomain needs 1 to 253 characters");
    }
    if (name.size() > kMaxSubdomainLength) {
        return fmt::format("{} is not a valid {}: {} characters, at most {} are allowed",
                           quote(name), kind, name.size(), kMaxSubdomainLength);
    }
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = name.find('.', start);
        const std::string_view part =
            name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (auto error = check_label_characters(name, part, kind)) {
            return error;
        }
        if (dot == std::string_view::npos) {
            return std::nullopt;
        }
        start = dot + 1;
    }
}

}  // namespace jpc::jibri
