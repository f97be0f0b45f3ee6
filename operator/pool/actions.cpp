#include "pool/actions.h"

#include <fmt/format.h>

namespace jpc::pool {

namespace {

std::string object_name(const ObjectRef& object) {
    return fmt::format("{}/{} (uid {})", object.namespace_name, object.name, object.uid);
}

}  // namespace

std::string_view to_string(EventType type) {
    return type == EventType::warning ? "Warning" : "Normal";
}

const Event& event_of(const Action& action) {
    return std::visit([](const auto& a) -> const Event& { return a.event; }, action);
}

std::string describe(const Action& action) {
    struct Describer {
        std::string operator()(const IsolatePod& a) const {
            return fmt::format("isolate pod {}: {}", object_name(a.pod), a.event.message);
        }
        std::string operator()(const DeletePod& a) const {
            return fmt::format("delete pod {} at resourceVersion {}: {}", object_name(a.pod),
                               a.resource_version, a.reason);
        }
        std::string operator()(const ScaleDeployment& a) const {
            return fmt::format("scale deployment {} from {} to {} replicas", object_name(a.deployment),
                               a.from, a.to);
        }
        std::string operator()(const RecordEvent& a) const {
            return fmt::format("record {} event {} on {} {}: {}", to_string(a.event.type),
                               a.event.reason, a.event.regarding.kind,
                               object_name(a.event.regarding), a.event.message);
        }
    };
    return std::visit(Describer{}, action);
}

}  // namespace jpc::pool
