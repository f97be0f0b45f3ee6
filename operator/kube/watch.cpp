#include "kube/watch.h"

#include <fmt/format.h>

namespace jpc::kube {

LineReader::LineReader(std::size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

void LineReader::feed(std::string_view chunk, const std::function<void(std::string_view)>& on_line) {
    while (!chunk.empty()) {
        auto newline = chunk.find('\n');
        std::string_view piece = newline == std::string_view::npos ? chunk : chunk.substr(0, newline);
        if (buffer_.size() + piece.size() > max_line_bytes_) {
            std::size_t seen = buffer_.size() + piece.size();
            buffer_.clear();
            buffer_.shrink_to_fit();
            throw LineTooLongError(fmt::format("a line of the stream exceeds the maximum of {} bytes "
                                               "({} bytes without a newline so far)",
                                               max_line_bytes_, seen));
        }
        if (newline == std::string_view::npos) {
            buffer_.append(piece);
            return;
        }
        chunk.remove_prefix(newline + 1);

        std::string_view line = piece;
        if (!buffer_.empty()) {
            buffer_.append(piece);
            line = buffer_;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        on_line(line);
        buffer_.clear();
    }
}

WatchEvent parse_watch_event(std::string_view line) {
    auto parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
        throw std::invalid_argument(fmt::format("watch event is not valid JSON: {:.200}", line));
    }
    if (!parsed.is_object() || !parsed.contains("type") || !parsed["type"].is_string()) {
        throw std::invalid_argument(fmt::format("watch event has no type: {:.200}", line));
    }
    if (!parsed.contains("object") || !parsed["object"].is_object()) {
        throw std::invalid_argument(fmt::format("watch event has no object: {:.200}", line));
    }

    WatchEvent event;
    const auto& type = parsed["type"].get_ref<const std::string&>();
    if (type == "ADDED") event.type = WatchEventType::added;
    else if (type == "MODIFIED") event.type = WatchEventType::modified;
    else if (type == "DELETED") event.type = WatchEventType::deleted;
    else if (type == "BOOKMARK") event.type = WatchEventType::bookmark;
    else if (type == "ERROR") event.type = WatchEventType::error;
    else throw std::invalid_argument(fmt::format("watch event has the unknown type \"{}\"", type));
    event.object = std::move(parsed["object"]);
    return event;
}

WatchResult watch(const Client& client, const ResourceType& type, const std::string& ns,
                  const WatchOptions& options, const WatchHandler& handler, const Cancellation* cancellation) {
    ListOptions list = options.list;
    list.limit = 0;
    list.continue_token.clear();
    list.resource_version_match.clear();
    list.timeout_seconds = options.timeout_seconds;
    list.allow_watch_bookmarks = options.allow_watch_bookmarks;

    Request request;
    request.verb = "GET";
    std::string query = list_query(list);
    request.path = resource_path(type, ns) + (query.empty() ? "?watch=1" : query + "&watch=1");
    // The server ends the stream after timeout_seconds; a connection that stays silent
    // well beyond that is dead.
    request.timeout = std::chrono::seconds(options.timeout_seconds + 30);

    WatchResult result;
    result.resource_version = options.list.resource_version;
    LineReader reader(options.max_line_bytes);
    bool stopped = false;

    auto on_line = [&](std::string_view line) {
        if (stopped || line.empty()) return;
        WatchEvent event = parse_watch_event(line);
        if (event.type == WatchEventType::error) {
            throw make_watch_error(event.object, request.verb, request.path);
        }
        std::string version = resource_version_of(event.object);
        if (!version.empty()) result.resource_version = version;
        ++result.events;
        if (!handler(event)) stopped = true;
    };

    client.transport()->stream(
        request,
        [&](std::string_view chunk) {
            reader.feed(chunk, on_line);
            return !stopped;
        },
        cancellation);

    result.end = stopped ? WatchEnd::stopped : WatchEnd::closed;
    return result;
}

}  // namespace jpc::kube
