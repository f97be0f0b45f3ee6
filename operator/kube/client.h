#pragma once

#include "kube/errors.h"
#include "kube/resource.h"
#include "kube/transport.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace jpc::kube {

struct ClientOptions {
    RetryPolicy retry;
    // fieldManager for create, replace and patch calls (apply takes its own).
    std::string field_manager = "jibri-pod-controller";
    // Deadline of each try; zero: TransportOptions::timeout.
    std::chrono::milliseconds request_timeout{0};
};

// A core/v1 Event to record about an object.
struct EventRecord {
    nlohmann::json involved_object;  // an ObjectReference; see object_reference()
    std::string type = "Normal";     // "Normal" or "Warning"
    std::string reason;              // UpperCamelCase, such as "PodReleased"
    std::string message;
    std::string component = "jibri-pod-controller";  // source.component and reportingComponent
    std::string instance;            // reportingInstance and source.host, such as the pod name
};

// Builds an ObjectReference (apiVersion, kind, namespace, name, uid, resourceVersion) to
// an object read from the API.
nlohmann::json object_reference(const nlohmann::json& object);

// Synchronous calls to the Kubernetes API. Every method returns the decoded JSON response,
// throws ApiError for a non-2xx status and TransportError when there is no response, after
// the retries that ClientOptions::retry allows. Thread-safe: one Client may serve all
// threads; copies share the Transport and its connections.
//
// `ns` is the namespace; it must be empty for cluster-scoped types, and an empty `ns`
// with a namespaced type in list calls means all namespaces.
class Client {
public:
    explicit Client(const Config& config, ClientOptions options = {},
                    TransportOptions transport_options = {});
    Client(std::shared_ptr<Transport> transport, std::string default_namespace,
           ClientOptions options = {});

    // A client on the same connections with other options, for callers with their own
    // deadline such as leader election.
    Client with_options(ClientOptions options) const;

    const std::string& default_namespace() const { return default_namespace_; }
    const std::shared_ptr<Transport>& transport() const { return transport_; }
    const ClientOptions& options() const { return options_; }

    nlohmann::json get(const ResourceType& type, const std::string& ns, const std::string& name,
                       const std::string& subresource = {}) const;

    // Returns one page: the List object; its metadata.continue is set when more remain.
    nlohmann::json list(const ResourceType& type, const std::string& ns, const ListOptions& options = {},
                        const Cancellation* cancellation = nullptr) const;

    // Returns every object, following metadata.continue with pages of options.limit
    // (500 when 0). The result is one List whose metadata.resourceVersion is that of the
    // first page, which is the consistent snapshot the pages come from. When a continue
    // token expires (410) the listing starts over without a limit, as client-go's pager does.
    nlohmann::json list_all(const ResourceType& type, const std::string& ns, ListOptions options = {},
                            const Cancellation* cancellation = nullptr) const;

    nlohmann::json create(const ResourceType& type, const std::string& ns,
                          const nlohmann::json& object) const;

    // PUT: replaces the object (or its subresource, such as "status"). With
    // metadata.resourceVersion set, a stale version yields ApiError::is_conflict().
    nlohmann::json replace(const ResourceType& type, const std::string& ns, const std::string& name,
                           const nlohmann::json& object, const std::string& subresource = {}) const;

    // PATCH with application/merge-patch+json (RFC 7386).
    nlohmann::json merge_patch(const ResourceType& type, const std::string& ns,
                               const std::string& name, const nlohmann::json& patch,
                               const std::string& subresource = {}) const;

    // PATCH with application/strategic-merge-patch+json. Built-in types only: the API server
    // rejects it for custom resources (415).
    nlohmann::json strategic_merge_patch(const ResourceType& type, const std::string& ns,
                                         const std::string& name, const nlohmann::json& patch,
                                         const std::string& subresource = {}) const;

    // Server-side apply: PATCH with application/apply-patch+yaml (the body is JSON, which is
    // YAML), fieldManager=field_manager, and force=true to take over conflicting fields.
    // `object` must carry apiVersion, kind and metadata.name.
    nlohmann::json apply(const ResourceType& type, const std::string& ns, const std::string& name,
                         const nlohmann::json& object, const std::string& field_manager,
                         bool force = false, const std::string& subresource = {}) const;

    // DELETE. Returns the server's response: the object (with deletionTimestamp when
    // finalizers or foreground deletion delay it) or a Status.
    nlohmann::json remove(const ResourceType& type, const std::string& ns, const std::string& name,
                          const DeleteOptions& options = {}) const;

    // The scale subresource (autoscaling/v1 Scale).
    nlohmann::json get_scale(const ResourceType& type, const std::string& ns,
                             const std::string& name) const;
    // Sets spec.replicas through the scale subresource with a merge patch.
    nlohmann::json patch_scale(const ResourceType& type, const std::string& ns,
                               const std::string& name, std::int32_t replicas) const;

    // Creates a core/v1 Event in the involved object's namespace (the default namespace
    // for a cluster-scoped object), with count 1 and first/last timestamps set to now.
    nlohmann::json create_event(const EventRecord& event) const;

    // Sends a request with the retry policy and returns the decoded response; the methods
    // above are built on it. An empty 2xx body returns null. `cancellation` interrupts the
    // call and the wait between tries (TransportError::Kind::cancelled).
    nlohmann::json call(Request request, const Cancellation* cancellation = nullptr) const;

private:
    std::shared_ptr<Transport> transport_;
    std::string default_namespace_;
    ClientOptions options_;
};

}  // namespace jpc::kube
