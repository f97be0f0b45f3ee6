// Fuzzes the watch stream reader: LineReader reassembles newline-delimited events from
// chunks, and each line is decoded as watch() decodes it (parse_watch_event, then
// make_watch_error for an ERROR event or resource_version_of for the others).
//
// The lines LineReader passes on are compared with a plain split of the whole stream, so
// a chunk boundary that changes the lines is a finding. LineTooLongError and
// std::invalid_argument are the documented errors; any other exception is a finding.
//
// Input: a header, then the stream.
//   byte 0        maximum line length: 1 + 64 * byte (1 to 16321 bytes)
//   byte 1        number of cuts: byte % 16
//   2 bytes each  the cut positions, big-endian, modulo (stream size + 1)
// A header cut short by the end of the input leaves the missing values at 0.

#include "fuzz_support.h"

#include "kube/errors.h"
#include "kube/resource.h"
#include "kube/watch.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace {

using jpc::fuzz::check;
using namespace jpc::kube;

constexpr std::size_t max_cuts = 15;

struct Input {
    std::size_t max_line_bytes = 1;
    std::vector<std::size_t> cuts;  // sorted positions in `stream`
    std::string_view stream;
};

// Reads the header byte at `position`, or 0 past the end.
std::size_t header_byte(std::string_view input, std::size_t position) {
    return position < input.size() ? static_cast<unsigned char>(input[position]) : 0;
}

Input decode_input(std::string_view input) {
    Input decoded;
    decoded.max_line_bytes = 1 + 64 * header_byte(input, 0);
    const std::size_t cut_count = header_byte(input, 1) % (max_cuts + 1);
    const std::size_t header_size = std::min(input.size(), 2 + 2 * cut_count);
    decoded.stream = input.substr(header_size);

    for (std::size_t i = 0; i < cut_count; ++i) {
        const std::size_t value = header_byte(input, 2 + 2 * i) << 8 | header_byte(input, 3 + 2 * i);
        decoded.cuts.push_back(value % (decoded.stream.size() + 1));
    }
    std::sort(decoded.cuts.begin(), decoded.cuts.end());
    return decoded;
}

// What LineReader must produce for `stream`, however it is cut into chunks.
struct ExpectedLines {
    std::vector<std::string_view> lines;
    bool too_long = false;     // a line exceeds the maximum, so feed throws LineTooLongError
    std::size_t pending = 0;   // bytes after the last newline, when nothing was too long
};

ExpectedLines split_stream(std::string_view stream, std::size_t max_line_bytes) {
    ExpectedLines expected;
    while (true) {
        const std::size_t newline = stream.find('\n');
        std::string_view line = stream.substr(0, newline);
        // The maximum applies to the bytes before the newline, '\r' included.
        if (line.size() > max_line_bytes) {
            expected.too_long = true;
            return expected;
        }
        if (newline == std::string_view::npos) {
            expected.pending = line.size();
            return expected;
        }
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        expected.lines.push_back(line);
        stream.remove_prefix(newline + 1);
    }
}

// Decodes one line the way watch() does. An invalid line ends a real watch with
// std::invalid_argument; here the next line is still decoded, for coverage.
void decode_line(std::string_view line) {
    if (line.empty()) {
        return;
    }
    std::optional<WatchEvent> event;
    try {
        event = parse_watch_event(line);
    } catch (const std::invalid_argument&) {
        return;
    }
    if (event->type == WatchEventType::error) {
        const ApiError error = make_watch_error(event->object, "GET", "/api/v1/namespaces/jibri/pods?watch=1");
        check(std::string_view(error.what()).starts_with("GET /api/v1/namespaces/jibri/pods?watch=1: "),
              "a watch error names the request");
        return;
    }
    static_cast<void>(resource_version_of(event->object));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const Input input = decode_input(jpc::fuzz::as_text(data, size));
    const ExpectedLines expected = split_stream(input.stream, input.max_line_bytes);

    LineReader reader(input.max_line_bytes);
    std::vector<std::string> lines;
    auto on_line = [&](std::string_view line) {
        lines.emplace_back(line);
        decode_line(line);
    };

    bool too_long = false;
    std::size_t start = 0;
    std::vector<std::size_t> ends = input.cuts;
    ends.push_back(input.stream.size());
    for (const std::size_t end : ends) {
        try {
            reader.feed(input.stream.substr(start, end - start), on_line);
        } catch (const LineTooLongError&) {
            too_long = true;
            break;
        }
        start = end;
    }

    check(too_long == expected.too_long, "LineTooLongError exactly when a line exceeds the maximum");
    check(lines.size() == expected.lines.size(), "as many lines as a plain split of the stream");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        check(lines[i] == expected.lines[i], "each line equals the plain split of the stream");
    }
    if (too_long) {
        check(reader.pending_bytes() == 0, "the buffer is released after LineTooLongError");
    } else {
        check(reader.pending_bytes() == expected.pending, "pending bytes are the unfinished last line");
    }
    return 0;
}
