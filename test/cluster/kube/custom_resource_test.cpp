#include "kube_cluster.h"

#include "support/cluster.h"
#include "support/process.h"

#include <catch2/catch.hpp>

using namespace jpc::kube;
using namespace jpc::kube::testing;
using jpc::test::TestNamespace;
using jpc::test::wait_until;
using namespace std::chrono_literals;

namespace {

// A CustomResourceDefinition in a group of its own, deleted with the object.
class TestCrd {
public:
    explicit TestCrd(Client client) : client_(std::move(client)), group_("t" + jpc::test::random_suffix() + ".test.jibri.dev") {
        type_ = ResourceType{group_, "v1", "widgets", true, "Widget"};
        nlohmann::json open_object = {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}};
        nlohmann::json crd = {
            {"apiVersion", "apiextensions.k8s.io/v1"},
            {"kind", "CustomResourceDefinition"},
            {"metadata", {{"name", "widgets." + group_}}},
            {"spec",
             {{"group", group_},
              {"scope", "Namespaced"},
              {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}, {"listKind", "WidgetList"}}},
              {"versions",
               {{{"name", "v1"},
                 {"served", true},
                 {"storage", true},
                 {"schema",
                  {{"openAPIV3Schema",
                    {{"type", "object"},
                     {"properties",
                      {{"spec",
                        {{"type", "object"},
                         {"properties", {{"replicas", {{"type", "integer"}}}, {"color", {{"type", "string"}}}}}}},
                       {"status", open_object}}}}}}},
                 {"subresources",
                  {{"status", nlohmann::json::object()},
                   {"scale", {{"specReplicasPath", ".spec.replicas"}, {"statusReplicasPath", ".status.replicas"}}}}}}}}}},
        };
        client_.create(resources::customresourcedefinitions, "", crd);
        bool established = wait_until(
            [&] {
                auto current = client_.get(resources::customresourcedefinitions, "", "widgets." + group_);
                for (const auto& condition : current["status"].value("conditions", nlohmann::json::array())) {
                    if (condition.value("type", "") == "Established" && condition.value("status", "") == "True") {
                        return true;
                    }
                }
                return false;
            },
            30s);
        if (!established) throw std::runtime_error("CRD widgets." + group_ + " not established after 30 s");
    }
    ~TestCrd() {
        try {
            client_.remove(resources::customresourcedefinitions, "", "widgets." + group_);
        } catch (const std::exception&) {
            // Best effort: the namespace and control plane are discarded after the run.
        }
    }
    const ResourceType& type() const { return type_; }

private:
    Client client_;
    std::string group_;
    ResourceType type_;
};

nlohmann::json widget(const ResourceType& type, const std::string& name, int replicas) {
    return {{"apiVersion", type.api_version()},
            {"kind", "Widget"},
            {"metadata", {{"name", name}, {"labels", {{"app", "jibri"}}}}},
            {"spec", {{"replicas", replicas}, {"color", "blue"}}}};
}

}  // namespace

TEST_CASE("custom resource CRUD", "[cluster][crd]") {
    TestNamespace ns("kube-crd");
    Client client = admin_client();
    TestCrd crd(client);
    const auto& type = crd.type();

    auto created = client.create(type, ns.name(), widget(type, "w1", 1));
    CHECK(created["spec"]["color"] == "blue");
    CHECK(client.get(type, ns.name(), "w1")["metadata"]["uid"] == created["metadata"]["uid"]);

    auto patched = client.merge_patch(type, ns.name(), "w1", {{"spec", {{"color", "red"}}}});
    CHECK(patched["spec"]["color"] == "red");
    CHECK(patched["spec"]["replicas"] == 1);

    // Custom resources have no strategic merge patch.
    try {
        client.strategic_merge_patch(type, ns.name(), "w1", {{"spec", {{"color", "green"}}}});
        FAIL("strategic merge patch was accepted");
    } catch (const ApiError& error) {
        CHECK(error.code() == 415);
    }

    auto stale = created;
    stale["spec"]["color"] = "green";
    CHECK_THROWS_MATCHES(client.replace(type, ns.name(), "w1", stale), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_conflict(); }));

    // With the status subresource, status changes through the main resource are dropped.
    auto ignored = client.merge_patch(type, ns.name(), "w1", {{"status", {{"replicas", 5}}}});
    CHECK_FALSE(ignored.contains("status"));
    auto with_status = client.merge_patch(type, ns.name(), "w1", {{"status", {{"replicas", 1}, {"ready", true}}}}, "status");
    CHECK(with_status["status"]["replicas"] == 1);

    auto scale = client.get_scale(type, ns.name(), "w1");
    CHECK(scale["spec"]["replicas"] == 1);
    CHECK(scale["status"]["replicas"] == 1);
    client.patch_scale(type, ns.name(), "w1", 4);
    CHECK(client.get(type, ns.name(), "w1")["spec"]["replicas"] == 4);

    auto applied = client.apply(type, ns.name(), "w2", widget(type, "w2", 2), "jpc-test");
    CHECK(applied["spec"]["replicas"] == 2);
    ListOptions selected;
    selected.label_selector = "app=jibri";
    selected.limit = 1;
    CHECK(client.list_all(type, ns.name(), selected)["items"].size() == 2);

    DeleteOptions wrong_uid;
    wrong_uid.uid = "not-the-uid";
    CHECK_THROWS_MATCHES(client.remove(type, ns.name(), "w1", wrong_uid), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_conflict(); }));
    client.remove(type, ns.name(), "w1");
    CHECK_THROWS_MATCHES(client.get(type, ns.name(), "w1"), ApiError,
                         Catch::Predicate<ApiError>([](const ApiError& error) { return error.is_not_found(); }));
}
