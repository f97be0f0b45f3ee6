#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace jpc::jibri {

// Kubernetes object-name rules (apimachinery validation).
//
// A DNS-1123 label is at most 63 characters of lowercase ASCII letters, digits and '-',
// starting and ending with a letter or digit; namespaces and Services use it.
// A DNS-1123 subdomain is at most 253 characters of dot-separated labels; pods and
// Deployments use it.
//
// Each function returns nullopt when the name is valid, or a one-line reason naming the value.
std::optional<std::string> validate_dns1123_label(std::string_view name);
std::optional<std::string> validate_dns1123_subdomain(std::string_view name);

}  // namespace jpc::jibri
