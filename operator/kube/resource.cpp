#include "kube/resource.h"

#include <fmt/format.h>

#include <stdexcept>

namespace jpc::kube {

std::string ResourceType::api_version() const { return group.empty() ? version : group + "/" + version; }

namespace resources {
const ResourceType pods{"", "v1", "pods", true, "Pod"};
const ResourceType namespaces{"", "v1", "namespaces", false, "Namespace"};
const ResourceType serviceaccounts{"", "v1", "serviceaccounts", true, "ServiceAccount"};
const ResourceType events{"", "v1", "events", true, "Event"};
const ResourceType deployments{"apps", "v1", "deployments", true, "Deployment"};
const ResourceType leases{"coordination.k8s.io", "v1", "leases", true, "Lease"};
const ResourceType jibripools{"jibri.dev", "v1alpha1", "jibripools", true, "JibriPool"};
const ResourceType customresourcedefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                             false, "CustomResourceDefinition"};
}  // namespace resources

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                          (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' || byte == '_' ||
                          byte == '~';
        if (unreserved) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(hex[byte >> 4]);
            out.push_back(hex[byte & 0x0F]);
        }
    }
    return out;
}

std::string resource_path(const ResourceType& type, std::string_view ns, std::string_view name,
                          std::string_view subresource) {
    if (type.plural.empty() || type.version.empty()) {
        throw std::invalid_argument("resource type without plural or version");
    }
    if (!type.namespaced && !ns.empty()) {
        throw std::invalid_argument(
            fmt::format("{} are cluster-scoped, but namespace \"{}\" was given", type.plural, ns));
    }
    if (type.namespaced && ns.empty() && !name.empty()) {
        throw std::invalid_argument(
            fmt::format("{} \"{}\": a namespace is required for a namespaced object", type.plural, name));
    }
    if (!subresource.empty() && name.empty()) {
        throw std::invalid_argument(
            fmt::format("{}: subresource \"{}\" needs an object name", type.plural, subresource));
    }
    // "." and ".." are not names, and as path segments they would change the path.
    if (name == "." || name == ".." || ns == "." || ns == "..") {
        throw std::invalid_argument(fmt::format("{}: \"{}\" is not a valid name", type.plural,
                                                name == "." || name == ".." ? name : ns));
    }

    // Appending piece by piece; GCC 12 at -O3 reports a false -Wrestrict for
    // "literal" + std::string temporaries.
    std::string path;
    if (type.group.empty()) {
        path.append("/api/");
    } else {
        path.append("/apis/").append(type.group).append("/");
    }
    path.append(type.version);
    if (!ns.empty()) path.append("/namespaces/").append(url_encode(ns));
    path.append("/").append(type.plural);
    if (!name.empty()) path.append("/").append(url_encode(name));
    if (!subresource.empty()) path.append("/").append(url_encode(subresource));
    return path;
}

std::string list_query(const ListOptions& options) {
    std::string query;
    auto add = [&query](std::string_view key, std::string_view value) {
        query += query.empty() ? '?' : '&';
        query += key;
        query += '=';
        query += url_encode(value);
    };
    if (!options.label_selector.empty()) add("labelSelector", options.label_selector);
    if (!options.field_selector.empty()) add("fieldSelector", options.field_selector);
    if (options.limit > 0) add("limit", std::to_string(options.limit));
    if (!options.continue_token.empty()) add("continue", options.continue_token);
    if (!options.resource_version.empty()) add("resourceVersion", options.resource_version);
    if (!options.resource_version_match.empty()) add("resourceVersionMatch", options.resource_version_match);
    if (options.timeout_seconds) add("timeoutSeconds", std::to_string(*options.timeout_seconds));
    if (options.allow_watch_bookmarks) add("allowWatchBookmarks", "true");
    return query;
}

nlohmann::json DeleteOptions::to_json() const {
    nlohmann::json body = nlohmann::json::object();
    if (uid || resource_version) {
        auto& preconditions = body["preconditions"];
        if (uid) preconditions["uid"] = *uid;
        if (resource_version) preconditions["resourceVersion"] = *resource_version;
    }
    if (!propagation_policy.empty()) body["propagationPolicy"] = propagation_policy;
    if (grace_period_seconds) body["gracePeriodSeconds"] = *grace_period_seconds;
    if (body.empty()) return nullptr;
    return body;
}

namespace {

std::string metadata_field(const nlohmann::json& object, const char* key) {
    if (!object.is_object()) return {};
    auto metadata = object.find("metadata");
    if (metadata == object.end() || !metadata->is_object()) return {};
    auto value = metadata->find(key);
    if (value == metadata->end() || !value->is_string()) return {};
    return value->get<std::string>();
}

}  // namespace

std::string namespace_of(const nlohmann::json& object) { return metadata_field(object, "namespace"); }
std::string name_of(const nlohmann::json& object) { return metadata_field(object, "name"); }
std::string uid_of(const nlohmann::json& object) { return metadata_field(object, "uid"); }
std::string resource_version_of(const nlohmann::json& object) {
    return metadata_field(object, "resourceVersion");
}

std::string key_of(const nlohmann::json& object) {
    std::string ns = namespace_of(object);
    return ns.empty() ? name_of(object) : ns + "/" + name_of(object);
}

}  // namespace jpc::kube
