#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace jpc::kube {

// A REST resource of the API: where its objects live and whether they belong to namespaces.
struct ResourceType {
    std::string group;    // "" for the core group
    std::string version;  // "v1", "v1alpha1"
    std::string plural;   // "pods"
    bool namespaced = true;
    std::string kind;     // "Pod"; used by helpers that fill in apiVersion and kind

    // "v1" for core, "group/version" otherwise.
    std::string api_version() const;
};

namespace resources {
extern const ResourceType pods;             // core/v1
extern const ResourceType namespaces;       // core/v1, cluster-scoped
extern const ResourceType serviceaccounts;  // core/v1
extern const ResourceType events;           // core/v1 (not events.k8s.io)
extern const ResourceType deployments;      // apps/v1
extern const ResourceType leases;           // coordination.k8s.io/v1
extern const ResourceType jibripools;       // jibri.dev/v1alpha1
extern const ResourceType customresourcedefinitions;  // apiextensions.k8s.io/v1, cluster-scoped
}  // namespace resources

// Percent-encodes every byte outside RFC 3986's unreserved set (A-Z a-z 0-9 - . _ ~), so
// the result is safe as one path segment or one query value.
std::string url_encode(std::string_view text);

// Builds the path of a collection or object:
//   /api/v1/namespaces/{ns}/pods/{name}/{subresource}
//   /apis/{group}/{version}/{plural}/{name}           (cluster-scoped)
//   /apis/{group}/{version}/{plural}                  (namespaced type, ns empty: all namespaces)
// Namespace, name and subresource are URL-encoded. Throws std::invalid_argument for a
// namespaced object without namespace, a cluster-scoped type with a namespace, or a
// subresource without name.
std::string resource_path(const ResourceType& type, std::string_view ns,
                          std::string_view name = {}, std::string_view subresource = {});

// Query parameters of list and watch calls. Empty or unset fields are left out.
struct ListOptions {
    std::string label_selector;  // "app=jibri,tier in (a,b)"
    std::string field_selector;  // "metadata.name=x"
    std::int64_t limit = 0;      // page size; 0: no limit
    std::string continue_token;  // from the previous page's metadata.continue
    std::string resource_version;
    // list: "Exact" or "NotOlderThan" (needs resource_version); empty: server default.
    std::string resource_version_match;
    std::optional<int> timeout_seconds;
    bool allow_watch_bookmarks = false;
};

// "?labelSelector=...&limit=1" (URL-encoded), or "" when no option is set. For watch calls
// the caller appends "watch=1" itself (see watch.h).
std::string list_query(const ListOptions& options);

// Body of a DELETE. Preconditions make the server refuse (409 Conflict) to delete an
// object whose uid or resourceVersion differs from the one given.
struct DeleteOptions {
    std::optional<std::string> uid;
    std::optional<std::string> resource_version;
    std::string propagation_policy;  // "Foreground", "Background", "Orphan" or "" (server default)
    std::optional<std::int64_t> grace_period_seconds;

    // The JSON body with the fields that are set; null when none is set.
    nlohmann::json to_json() const;
};

// Reads metadata.namespace / metadata.name / ... of an object; "" when absent.
std::string namespace_of(const nlohmann::json& object);
std::string name_of(const nlohmann::json& object);
std::string uid_of(const nlohmann::json& object);
std::string resource_version_of(const nlohmann::json& object);
// "namespace/name" or "name" for cluster-scoped objects, the key of informer stores.
std::string key_of(const nlohmann::json& object);

}  // namespace jpc::kube
