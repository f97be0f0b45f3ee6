#pragma once

// Sends Jibri's status webhook to the operator from a simulated jibri's pod IP. The
// operator accepts a webhook only when the request's peer address equals the pod's podIP,
// so each POST leaves from a socket bound to that address.

#include "sim/http_client.h"

#include <chrono>
#include <string>
#include <string_view>

namespace jpc::sim {

class WebhookSender {
public:
    // connect_timeout bounds the TCP handshake. read_timeout bounds sending the request
    // and then reading the whole response.
    explicit WebhookSender(std::chrono::milliseconds connect_timeout = std::chrono::seconds(2),
                           std::chrono::milliseconds read_timeout = std::chrono::seconds(5));

    // POSTs json_body to url with Content-Type: application/json, as Jibri does, from
    // source_address, once and without retrying. url is the full URL including /v1/status
    // (Jibri appends /v1/status to its subscriber URL), for example
    // http://127.0.0.1:8080/webhook/jibri-0/v1/status. Returns the status code or what
    // failed. Throws std::invalid_argument when source_address or the URL's host is outside
    // 127.0.0.0/8, and std::system_error when the source address cannot be bound.
    HttpResult post_status(std::string_view source_address, std::string_view url,
                           std::string_view json_body) const;

    // Sends `bytes` unchanged to the host and port of url (its path is ignored) and reads
    // one response, for requests no well-behaved client sends: a body longer or shorter than
    // its Content-Length, a body that never ends, a wrong method. With half_close the
    // socket sends FIN after the bytes. Without it the connection stays open, so a server
    // waiting for more body bytes has to time out or respond early. Throws as post_status.
    HttpResult send_raw(std::string_view source_address, std::string_view url,
                        std::string_view bytes, bool half_close = false) const;

    std::chrono::milliseconds connect_timeout() const { return connect_timeout_; }
    std::chrono::milliseconds read_timeout() const { return read_timeout_; }

private:
    std::chrono::milliseconds connect_timeout_;
    std::chrono::milliseconds read_timeout_;
};

}  // namespace jpc::sim
