#include "sim/webhook_sender.h"

#include <fmt/format.h>

namespace jpc::sim {

WebhookSender::WebhookSender(std::chrono::milliseconds connect_timeout,
                             std::chrono::milliseconds read_timeout)
    : connect_timeout_(connect_timeout), read_timeout_(read_timeout) {}

HttpResult WebhookSender::post_status(std::string_view source_address, std::string_view url,
                                      std::string_view json_body) const {
    LoopbackUrl parsed = parse_loopback_url(url);
    std::string request = fmt::format(
        "POST {} HTTP/1.1\r\n"
        "Host: {}:{}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: {}\r\n"
        "Connection: close\r\n"
        "\r\n"
        "{}",
        parsed.target, parsed.host, parsed.port, json_body.size(), json_body);
    return exchange(source_address, parsed, request, connect_timeout_, read_timeout_);
}

HttpResult WebhookSender::send_raw(std::string_view source_address, std::string_view url,
                                   std::string_view bytes, bool half_close) const {
    LoopbackUrl parsed = parse_loopback_url(url);
    return exchange(source_address, parsed, bytes, connect_timeout_, read_timeout_, half_close);
}

}  // namespace jpc::sim
