#include "jibri/time.h"

#include <fmt/format.h>

#include <cstdint>

namespace jpc::jibri {

namespace {

struct CivilTime {
    int year;
    unsigned month;
    unsigned day;
    std::int64_t hours;
    std::int64_t minutes;
    std::int64_t seconds;
    std::int64_t microseconds;
};

CivilTime to_civil(Timestamp time) {
    using namespace std::chrono;
    const auto day_start = floor<days>(time);
    const year_month_day date{day_start};
    const hh_mm_ss clock{time - day_start};
    return CivilTime{
        static_cast<int>(date.year()),
        static_cast<unsigned>(date.month()),
        static_cast<unsigned>(date.day()),
        clock.hours().count(),
        clock.minutes().count(),
        clock.seconds().count(),
        clock.subseconds().count(),
    };
}

// Reads exactly `count` decimal digits at `pos`, advancing it.
std::optional<int> read_digits(std::string_view text, std::size_t& pos, std::size_t count) {
    if (pos + count > text.size()) {
        return std::nullopt;
    }
    int value = 0;
    for (std::size_t i = 0; i < count; ++i) {
        const char c = text[pos + i];
        if (c < '0' || c > '9') {
            return std::nullopt;
        }
        value = value * 10 + (c - '0');
    }
    pos += count;
    return value;
}

bool read_char(std::string_view text, std::size_t& pos, char expected) {
    if (pos >= text.size() || text[pos] != expected) {
        return false;
    }
    ++pos;
    return true;
}

}  // namespace

std::string format_rfc3339_micro(Timestamp time) {
    const CivilTime t = to_civil(time);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", t.year, t.month, t.day,
                       t.hours, t.minutes, t.seconds, t.microseconds);
}

std::string format_rfc3339(Timestamp time) {
    const CivilTime t = to_civil(time);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", t.year, t.month, t.day, t.hours,
                       t.minutes, t.seconds);
}

Timestamp truncate_to_seconds(Timestamp time) {
    return std::chrono::floor<std::chrono::seconds>(time);
}

std::optional<Timestamp> parse_rfc3339(std::string_view text) {
    using namespace std::chrono;
    std::size_t pos = 0;

    const auto year = read_digits(text, pos, 4);
    if (!year || !read_char(text, pos, '-')) {
        return std::nullopt;
    }
    const auto month = read_digits(text, pos, 2);
    if (!month || !read_char(text, pos, '-')) {
        return std::nullopt;
    }
    const auto day = read_digits(text, pos, 2);
    if (!day || !(read_char(text, pos, 'T') || read_char(text, pos, 't'))) {
        return std::nullopt;
    }
    const auto hour = read_digits(text, pos, 2);
    if (!hour || !read_char(text, pos, ':')) {
        return std::nullopt;
    }
    const auto minute = read_digits(text, pos, 2);
    if (!minute || !read_char(text, pos, ':')) {
        return std::nullopt;
    }
    const auto second = read_digits(text, pos, 2);
    if (!second) {
        return std::nullopt;
    }

    const year_month_day date{std::chrono::year{*year},
                              std::chrono::month{static_cast<unsigned>(*month)},
                              std::chrono::day{static_cast<unsigned>(*day)}};
    // NOTE: a leap second (second 60) is rejected; Kubernetes never writes one.
    if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) {
        return std::nullopt;
    }

    std::int64_t micros = 0;
    if (read_char(text, pos, '.')) {
        std::size_t digits = 0;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
            if (digits < 6) {
                micros = micros * 10 + (text[pos] - '0');
            }
            ++digits;
            ++pos;
        }
        if (digits == 0 || digits > 9) {
            return std::nullopt;
        }
        for (std::size_t i = digits; i < 6; ++i) {
            micros *= 10;
        }
    }

    std::int64_t offset_minutes = 0;
    if (read_char(text, pos, 'Z') || read_char(text, pos, 'z')) {
        offset_minutes = 0;
    } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
        const int sign = text[pos] == '-' ? -1 : 1;
        ++pos;
        const auto offset_hours = read_digits(text, pos, 2);
        if (!offset_hours || !read_char(text, pos, ':')) {
            return std::nullopt;
        }
        const auto offset_mins = read_digits(text, pos, 2);
        if (!offset_mins || *offset_hours > 23 || *offset_mins > 59) {
            return std::nullopt;
        }
        offset_minutes = sign * (*offset_hours * 60 + *offset_mins);
    } else {
        return std::nullopt;
    }
    if (pos != text.size()) {
        return std::nullopt;
    }

    const auto local = sys_days{date} + hours{*hour} + minutes{*minute} + seconds{*second} +
                       microseconds{micros};
    return Timestamp{local - minutes{offset_minutes}};
}

}  // namespace jpc::jibri
