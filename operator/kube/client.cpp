#include "kube/client.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <random>
#include <thread>

namespace jpc::kube {

namespace {

constexpr std::int64_t default_page_size = 500;

std::string with_query(std::string path, const std::string& query) { return path + query; }

Request make_request(std::string verb, std::string path, std::string body = {}, std::string content_type = {}) {
    Request request;
    request.verb = std::move(verb);
    request.path = std::move(path);
    request.body = std::move(body);
    request.content_type = std::move(content_type);
    return request;
}

std::string field_manager_query(const std::string& field_manager, bool force = false) {
    std::string query;
    if (!field_manager.empty()) query = "?fieldManager=" + url_encode(field_manager);
    if (force) query += query.empty() ? "?force=true" : "&force=true";
    return query;
}

nlohmann::json decode_body(const Response& response, const Request& request) {
    if (response.body.empty()) return nullptr;
    try {
        return nlohmann::json::parse(response.body);
    } catch (const nlohmann::json::parse_error& error) {
        throw ApiError(response.status, "InvalidResponse",
                       fmt::format("the {} response is not JSON: {}", response.status, error.what()),
                       request.verb, request.path);
    }
}

// A name suffix for Events, unique enough that two replicas never collide in practice.
std::string event_suffix() {
    static thread_local std::mt19937_64 engine{std::random_device{}()};
    auto nanoseconds = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::system_clock::now().time_since_epoch());
    return fmt::format("{:x}{:04x}", nanoseconds.count(), engine() & 0xFFFF);
}

std::string rfc3339_now() {
    auto now = std::chrono::system_clock::now();
    return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", std::chrono::floor<std::chrono::seconds>(now));
}

}  // namespace

nlohmann::json object_reference(const nlohmann::json& object) {
    nlohmann::json reference = nlohmann::json::object();
    if (object.contains("apiVersion")) reference["apiVersion"] = object["apiVersion"];
    if (object.contains("kind")) reference["kind"] = object["kind"];
    for (const char* key : {"namespace", "name", "uid", "resourceVersion"}) {
        std::string value = object.contains("metadata") && object["metadata"].contains(key) &&
                                    object["metadata"][key].is_string()
                                ? object["metadata"][key].get<std::string>()
                                : std::string();
        if (!value.empty()) reference[key] = value;
    }
    return reference;
}

Client::Client(const Config& config, ClientOptions options, TransportOptions transport_options)
    : transport_(std::make_shared<Transport>(config, transport_options)),
      default_namespace_(config.default_namespace),
      options_(std::move(options)) {}

Client::Client(std::shared_ptr<Transport> transport, std::string default_namespace, ClientOptions options)
    : transport_(std::move(transport)), default_namespace_(std::move(default_namespace)), options_(std::move(options)) {}

Client Client::with_options(ClientOptions options) const { return Client(transport_, default_namespace_, std::move(options)); }

nlohmann::json Client::call(Request request, const Cancellation* cancellation) const {
    if (request.timeout.count() == 0) request.timeout = options_.request_timeout;
    const auto& retry = options_.retry;
    Backoff backoff = retry.make_backoff();
    for (int attempt = 1;; ++attempt) {
        std::exception_ptr failure;
        try {
            Response response = transport_->send(request, cancellation);
            if (response.status >= 200 && response.status <= 299) return decode_body(response, request);
            throw make_api_error(response.status, response.body, request.verb, request.path, response.retry_after);
        } catch (const ApiError&) {
            failure = std::current_exception();
        } catch (const TransportError&) {
            failure = std::current_exception();
        }

        if (attempt >= retry.max_attempts || !retry.is_retryable(failure, request.verb)) {
            std::rethrow_exception(failure);
        }
        auto delay = retry.delay(failure, backoff);
        if (delay > retry.max_retry_after) std::rethrow_exception(failure);
        try {
            std::rethrow_exception(failure);
        } catch (const std::exception& error) {
            spdlog::warn("{}; try {} of {} in {} ms", error.what(), attempt + 1, retry.max_attempts, delay.count());
        }
        if (cancellation == nullptr) {
            std::this_thread::sleep_for(delay);
        } else if (cancellation->wait_for(delay)) {
            throw TransportError(TransportError::Kind::cancelled, request.verb, request.path,
                                 "cancelled while waiting to try again");
        }
    }
}

nlohmann::json Client::get(const ResourceType& type, const std::string& ns, const std::string& name,
                           const std::string& subresource) const {
    return call(make_request("GET", resource_path(type, ns, name, subresource)));
}

nlohmann::json Client::list(const ResourceType& type, const std::string& ns, const ListOptions& options,
                            const Cancellation* cancellation) const {
    return call(make_request("GET", with_query(resource_path(type, ns), list_query(options))), cancellation);
}

nlohmann::json Client::list_all(const ResourceType& type, const std::string& ns, ListOptions options,
                                const Cancellation* cancellation) const {
    if (options.limit <= 0) options.limit = default_page_size;
    options.continue_token.clear();

    nlohmann::json result;
    nlohmann::json items = nlohmann::json::array();
    while (true) {
        nlohmann::json page;
        try {
            page = list(type, ns, options, cancellation);
        } catch (const ApiError& error) {
            if (!error.is_gone() || options.continue_token.empty()) throw;
            // The snapshot behind the continue token was compacted away. One unpaged list
            // is the only way to get a consistent result now.
            spdlog::info("{}; listing {} again without pages", error.what(), type.plural);
            options.limit = 0;
            options.continue_token.clear();
            items = nlohmann::json::array();
            result = nullptr;
            continue;
        }
        if (result.is_null()) {
            result = page;
            result.erase("items");
        }
        if (page.contains("items") && page["items"].is_array()) {
            for (auto& item : page["items"]) items.push_back(std::move(item));
        }
        std::string next;
        if (page.contains("metadata") && page["metadata"].contains("continue") &&
            page["metadata"]["continue"].is_string()) {
            next = page["metadata"]["continue"].get<std::string>();
        }
        if (next.empty()) break;
        options.continue_token = next;
    }
    if (result.contains("metadata")) {
        result["metadata"].erase("continue");
        result["metadata"].erase("remainingItemCount");
    }
    result["items"] = std::move(items);
    return result;
}

nlohmann::json Client::create(const ResourceType& type, const std::string& ns, const nlohmann::json& object) const {
    Request request = make_request("POST", resource_path(type, ns) + field_manager_query(options_.field_manager), object.dump(),
                    "application/json");
    return call(std::move(request));
}

nlohmann::json Client::replace(const ResourceType& type, const std::string& ns, const std::string& name,
                               const nlohmann::json& object, const std::string& subresource) const {
    Request request = make_request("PUT", resource_path(type, ns, name, subresource) + field_manager_query(options_.field_manager),
                    object.dump(), "application/json");
    return call(std::move(request));
}

nlohmann::json Client::merge_patch(const ResourceType& type, const std::string& ns, const std::string& name,
                                   const nlohmann::json& patch, const std::string& subresource) const {
    Request request = make_request("PATCH",
                    resource_path(type, ns, name, subresource) + field_manager_query(options_.field_manager),
                    patch.dump(), "application/merge-patch+json");
    return call(std::move(request));
}

nlohmann::json Client::strategic_merge_patch(const ResourceType& type, const std::string& ns,
                                             const std::string& name, const nlohmann::json& patch,
                                             const std::string& subresource) const {
    Request request = make_request("PATCH",
                    resource_path(type, ns, name, subresource) + field_manager_query(options_.field_manager),
                    patch.dump(), "application/strategic-merge-patch+json");
    return call(std::move(request));
}

nlohmann::json Client::apply(const ResourceType& type, const std::string& ns, const std::string& name,
                             const nlohmann::json& object, const std::string& field_manager, bool force,
                             const std::string& subresource) const {
    if (field_manager.empty()) throw std::invalid_argument("server-side apply needs a field manager");
    Request request = make_request("PATCH", resource_path(type, ns, name, subresource) + field_manager_query(field_manager, force),
                    object.dump(), "application/apply-patch+yaml");
    return call(std::move(request));
}

nlohmann::json Client::remove(const ResourceType& type, const std::string& ns, const std::string& name,
                              const DeleteOptions& options) const {
    Request request = make_request("DELETE", resource_path(type, ns, name));
    auto body = options.to_json();
    if (!body.is_null()) {
        request.body = body.dump();
        request.content_type = "application/json";
    }
    return call(std::move(request));
}

nlohmann::json Client::get_scale(const ResourceType& type, const std::string& ns, const std::string& name) const {
    return get(type, ns, name, "scale");
}

nlohmann::json Client::patch_scale(const ResourceType& type, const std::string& ns, const std::string& name,
                                   std::int32_t replicas) const {
    return merge_patch(type, ns, name, {{"spec", {{"replicas", replicas}}}}, "scale");
}

nlohmann::json Client::create_event(const EventRecord& event) const {
    const auto& involved = event.involved_object;
    std::string ns = involved.value("namespace", "");
    if (ns.empty()) ns = default_namespace_;
    std::string involved_name = involved.value("name", "object");
    std::string now = rfc3339_now();

    nlohmann::json body = {
        {"apiVersion", "v1"},
        {"kind", "Event"},
        {"metadata", {{"name", involved_name + "." + event_suffix()}, {"namespace", ns}}},
        {"involvedObject", involved},
        {"type", event.type},
        {"reason", event.reason},
        {"message", event.message},
        {"source", {{"component", event.component}}},
        {"reportingComponent", event.component},
        {"reportingInstance", event.instance},
        {"firstTimestamp", now},
        {"lastTimestamp", now},
        {"count", 1},
    };
    if (!event.instance.empty()) body["source"]["host"] = event.instance;
    return create(resources::events, ns, body);
}

}  // namespace jpc::kube
