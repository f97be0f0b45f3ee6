#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jpc::jibri {

// Kubernetes object-name rules, as apimachinery validates them.
//
// A DNS-1123 label has 1 to 63 lowercase ASCII letters, digits and '-', and starts and
// ends with a letter or digit. Namespaces use it.
// A DNS-1123 subdomain has at most 253 characters in dot-separated parts of that form.
// Pods and Deployments use it.
//
// Each function returns nullopt when the name is valid, or a one-line reason naming the value.
std::optional<std::string> validate_dns1123_label(std::string_view name);
std::optional<std::string> validate_dns1123_subdomain(std::string_view name);

}  // namespace jpc::jibri
