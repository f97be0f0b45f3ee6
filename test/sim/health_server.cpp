#include "sim/health_server.h"

#include "sim/health_loop.h"
#include "sim/loopback.h"

#include <fmt/format.h>

#include <stdexcept>

namespace jpc::sim {

std::string_view to_string(HealthBehaviour behaviour) {
    switch (behaviour) {
        case HealthBehaviour::Respond:
            return "Respond";
        case HealthBehaviour::Hang:
            return "Hang";
        case HealthBehaviour::Refuse:
            return "Refuse";
        case HealthBehaviour::Garbage:
            return "Garbage";
        case HealthBehaviour::Error:
            return "Error";
    }
    return "Unknown";
}

HealthServer::HealthServer(HealthServerOptions options) : port_(options.port) {
    if (options.port == 0) {
        throw std::invalid_argument(
            "health server port 0 is not supported: every jibri listens on the same fixed port");
    }
    if (options.path.empty() || options.path.front() != '/') {
        throw std::invalid_argument(
            fmt::format("invalid health path \"{}\": it must start with '/'", options.path));
    }
    loop_ = std::make_unique<Loop>(std::move(options));
}

HealthServer::~HealthServer() = default;

void HealthServer::add(std::string_view address, JibriStatus status, HealthBehaviour behaviour) {
    std::uint32_t value = parse_loopback_address(address);
    loop_->call([&] { loop_->add_jibri(value, status, behaviour); });
}

void HealthServer::remove(std::string_view address) {
    std::uint32_t value = parse_loopback_address(address);
    loop_->call([&] { loop_->remove_jibri(value); });
}

void HealthServer::set_status(std::string_view address, JibriStatus status) {
    std::uint32_t value = parse_loopback_address(address);
    loop_->call([&] { loop_->find(value).status = status; });
}

void HealthServer::set_behaviour(std::string_view address, HealthBehaviour behaviour) {
    std::uint32_t value = parse_loopback_address(address);
    loop_->call([&] { loop_->set_behaviour(value, behaviour); });
}

JibriStatus HealthServer::status(std::string_view address) const {
    std::uint32_t value = parse_loopback_address(address);
    return loop_->call([&] { return loop_->find(value).status; });
}

HealthBehaviour HealthServer::behaviour(std::string_view address) const {
    std::uint32_t value = parse_loopback_address(address);
    return loop_->call([&] { return loop_->find(value).behaviour; });
}

std::uint64_t HealthServer::request_count(std::string_view address) const {
    std::uint32_t value = parse_loopback_address(address);
    return loop_->call([&] { return loop_->find(value).requests; });
}

std::size_t HealthServer::connection_count(std::string_view address) const {
    std::uint32_t value = parse_loopback_address(address);
    return loop_->call([&] { return loop_->find(value).connections.size(); });
}

std::size_t HealthServer::size() const {
    return loop_->call([&] { return loop_->size(); });
}

void HealthServer::stop() {
    loop_->stop();
}

}  // namespace jpc::sim
