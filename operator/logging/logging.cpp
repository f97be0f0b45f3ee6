#include "logging/logging.h"

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>

namespace jpc::logging {

namespace {

std::string utc_time(spdlog::log_clock::time_point time) {
    auto seconds = std::chrono::system_clock::to_time_t(time);
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(time.time_since_epoch()).count() % 1000000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<long long>(micros));
    return buffer;
}

// Writes each message as one JSON object, escaping it properly (a pattern cannot).
class JsonFormatter final : public spdlog::formatter {
public:
    void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& destination) override {
        auto level = spdlog::level::to_string_view(message.level);
        auto line = format_json_line(utc_time(message.time), std::string(level.data(), level.size()),
                                     std::string(message.payload.data(), message.payload.size()));
        destination.append(line.data(), line.data() + line.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

}  // namespace

std::string format_json_line(const std::string& time, const std::string& level, const std::string& message) {
    nlohmann::json line = {{"time", time}, {"level", level}, {"message", message}};
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void configure(const std::string& level, const std::string& format) {
    auto logger = std::make_shared<spdlog::logger>("jibri-pod-controller",
                                                   std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (format == "json") {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%fZ %^%-5l%$ %v", spdlog::pattern_time_type::utc);
    }
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

}  // namespace jpc::logging
