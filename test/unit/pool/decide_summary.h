#pragma once

// Renders decide() output as short strings, so tables compare whole action lists.

#include "pool/decide.h"

#include <string>
#include <vector>

namespace jpc::test {

// "isolate <pod>", "delete <pod>", "scale <from>-><to>" or "event <Type> <Reason>".
inline std::string summarize(const pool::Action& action) {
    struct Summary {
        std::string operator()(const pool::IsolatePod& a) const { return "isolate " + a.pod.name; }
        std::string operator()(const pool::DeletePod& a) const { return "delete " + a.pod.name; }
        std::string operator()(const pool::ScaleDeployment& a) const {
            return "scale " + std::to_string(a.from) + "->" + std::to_string(a.to);
        }
        std::string operator()(const pool::RecordEvent& a) const {
            return "event " + std::string(pool::to_string(a.event.type)) + " " + a.event.reason;
        }
    };
    return std::visit(Summary{}, action);
}

inline std::vector<std::string> summarize(const std::vector<pool::Action>& actions) {
    std::vector<std::string> result;
    for (const auto& action : actions) {
        result.push_back(summarize(action));
    }
    return result;
}

}  // namespace jpc::test
