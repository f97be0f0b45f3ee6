#include "pool/objects.h"

#include "pool/json_fields.h"

#include <fmt/format.h>

#include <limits>

namespace jpc::pool {

namespace {

using detail::find_member;
using detail::integer_member;
using detail::string_map_member;
using detail::string_member;
using jibri::fail;

struct Metadata {
    std::string name;
    std::string namespace_name;
    std::string uid;
    std::string resource_version;
};

jibri::Result<Metadata, std::string> read_metadata(const nlohmann::json& object,
                                                   std::string_view kind) {
    if (!object.is_object()) {
        return fail(fmt::format("{}: expected a JSON object, got {}", kind, object.type_name()));
    }
    const auto* metadata = find_member(object, "metadata");
    if (metadata == nullptr || !metadata->is_object()) {
        return fail(fmt::format("{}: missing metadata", kind));
    }
    Metadata result{string_member(*metadata, "name"), string_member(*metadata, "namespace"),
                    string_member(*metadata, "uid"), string_member(*metadata, "resourceVersion")};
    if (result.name.empty()) {
        return fail(fmt::format("{}: missing metadata.name", kind));
    }
    if (result.namespace_name.empty()) {
        return fail(fmt::format("{} {}: missing metadata.namespace", kind, result.name));
    }
    if (result.uid.empty()) {
        return fail(fmt::format("{} {}/{}: missing metadata.uid", kind, result.namespace_name,
                                result.name));
    }
    return result;
}

}  // namespace

jibri::Result<Pod, std::string> parse_pod(const nlohmann::json& object) {
    auto metadata = read_metadata(object, "Pod");
    if (!metadata) {
        return fail(metadata.error());
    }

    Pod pod;
    pod.name = std::move(metadata.value().name);
    pod.namespace_name = std::move(metadata.value().namespace_name);
    pod.uid = std::move(metadata.value().uid);
    pod.resource_version = std::move(metadata.value().resource_version);

    const auto& meta = object["metadata"];
    pod.labels = string_map_member(meta, "labels");
    pod.annotations = string_map_member(meta, "annotations");
    if (const auto* deletion = find_member(meta, "deletionTimestamp")) {
        // An unreadable timestamp still marks the pod as being deleted.
        const auto parsed =
            deletion->is_string() ? jibri::parse_rfc3339(deletion->get<std::string>()) : std::nullopt;
        pod.deletion_timestamp = parsed.value_or(jibri::Timestamp{});
    }

    if (const auto* status = find_member(object, "status")) {
        pod.phase = string_member(*status, "phase");
        pod.pod_ip = string_member(*status, "podIP");
    }
    return pod;
}

jibri::Result<Deployment, std::string> parse_deployment(const nlohmann::json& object) {
    auto metadata = read_metadata(object, "Deployment");
    if (!metadata) {
        return fail(metadata.error());
    }

    Deployment deployment;
    deployment.name = std::move(metadata.value().name);
    deployment.namespace_name = std::move(metadata.value().namespace_name);
    deployment.uid = std::move(metadata.value().uid);
    deployment.resource_version = std::move(metadata.value().resource_version);
    deployment.generation = integer_member(object["metadata"], "generation").value_or(0);

    const nlohmann::json empty = nlohmann::json::object();
    const auto* spec_member = find_member(object, "spec");
    const nlohmann::json& spec = spec_member != nullptr ? *spec_member : empty;

    if (const auto replicas = integer_member(spec, "replicas")) {
        if (*replicas < 0 || *replicas > std::numeric_limits<std::int32_t>::max()) {
            return fail(fmt::format("Deployment {}/{}: spec.replicas {} is out of range",
                                    deployment.namespace_name, deployment.name, *replicas));
        }
        deployment.replicas = static_cast<std::int32_t>(*replicas);
    }

    const auto* selector = find_member(spec, "selector");
    if (selector == nullptr) {
        deployment.selector_error = "spec.selector is missing";
        return deployment;
    }
    auto parsed = parse_label_selector(*selector);
    if (!parsed) {
        deployment.selector_error = "spec.selector: " + parsed.error();
        return deployment;
    }
    deployment.selector = std::move(parsed).value();
    return deployment;
}

}  // namespace jpc::pool
