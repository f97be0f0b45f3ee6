#pragma once

#include "kube/client.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace jpc::kube {

// A line of a stream exceeded LineReader's maximum.
class LineTooLongError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Splits a byte stream that arrives in arbitrary chunks into '\n'-terminated lines. A
// line split across chunks, even inside a UTF-8 sequence, is passed whole; bytes are not
// decoded here. A trailing '\r' is removed. Not thread-safe.
class LineReader {
public:
    static constexpr std::size_t default_max_line_bytes = 16 * 1024 * 1024;

    explicit LineReader(std::size_t max_line_bytes = default_max_line_bytes);

    // Appends a chunk and calls on_line for each line it completes, in order. Throws
    // LineTooLongError as soon as the unfinished line grows past the maximum, so memory
    // stays bounded; the reader is then unusable.
    void feed(std::string_view chunk, const std::function<void(std::string_view)>& on_line);

    // Bytes of an unfinished last line, such as the tail of a cut connection.
    std::size_t pending_bytes() const { return buffer_.size(); }

private:
    std::size_t max_line_bytes_;
    std::string buffer_;
};

enum class WatchEventType { added, modified, deleted, bookmark, error };

struct WatchEvent {
    WatchEventType type = WatchEventType::added;
    // The object; for bookmark only apiVersion, kind and metadata.resourceVersion; for
    // error a Status.
    nlohmann::json object;
};

// Parses one line of a watch stream ({"type":"ADDED","object":{...}}). Throws
// std::invalid_argument for invalid JSON, a missing object or an unknown type.
WatchEvent parse_watch_event(std::string_view line);

struct WatchOptions {
    ListOptions list;  // label/field selector; resource_version to start after
    // Server-side duration of the watch; the server ends the stream after it.
    int timeout_seconds = 300;
    bool allow_watch_bookmarks = true;
    std::size_t max_line_bytes = LineReader::default_max_line_bytes;
};

// How a watch call ended without an exception.
enum class WatchEnd {
    closed,   // the server ended the stream (timeout_seconds passed, or it shut down cleanly)
    stopped,  // the handler returned false
};

struct WatchResult {
    WatchEnd end = WatchEnd::closed;
    // metadata.resourceVersion of the last ADDED/MODIFIED/DELETED/BOOKMARK event, or the
    // starting resource_version when none came; the place to resume from.
    std::string resource_version;
    std::size_t events = 0;  // events passed to the handler, bookmarks included
};

// Called for every ADDED, MODIFIED, DELETED and BOOKMARK event, in stream order, on the
// calling thread. Returns false to end the watch.
using WatchHandler = std::function<bool(const WatchEvent&)>;

// Opens one watch (watch=1, allowWatchBookmarks, timeoutSeconds, resourceVersion) and
// streams its events to `handler` until the stream ends. An ERROR event throws the
// ApiError it carries (410 Gone / reason Expired for a too-old resourceVersion, which
// ApiError::is_gone() reports); a 410 response to the request throws the same way. Throws
// TransportError when the connection fails or cancellation->cancel() is called from
// another thread, LineTooLongError for an oversized event, std::invalid_argument for a
// malformed one. This is a single watch; reconnecting and relisting are the informer's work.
WatchResult watch(const Client& client, const ResourceType& type, const std::string& ns,
                  const WatchOptions& options, const WatchHandler& handler,
                  const Cancellation* cancellation = nullptr);

}  // namespace jpc::kube
