// The heads the proxy writes: the request it sends upstream and the response
// it sends back, each rebuilt from the parsed head with hop-by-hop headers
// (RFC 9110 7.6.1) handled here and nowhere else. Bodies are never touched.
#pragma once

#include <string>
#include <string_view>

#include "proxy/http_head.h"

namespace ferry::proxy {

struct UpstreamRequestOptions {
  std::string_view client_ip;
  // Host to send when the client sent none (HTTP/1.0); the endpoint's address.
  std::string_view default_host;
};

// Appends the request head to send upstream: origin-form target, HTTP/1.1
// (HTTP/1.0 for 1.0 clients, so the upstream never answers them chunked),
// end-to-end headers as sent, Host preserved, X-Forwarded-For extended and
// X-Forwarded-Proto set; Connection/Upgrade kept only for an upgrade.
void build_upstream_request(const RequestHead& request, const UpstreamRequestOptions& options,
                            std::string& out);

// Appends the response head for the client. `close_client` adds
// Connection: close (the proxy closes after this response); an HTTP/1.0
// client that keeps the connection gets Connection: keep-alive.
void build_client_response(const ResponseHead& response, int client_minor_version,
                           bool close_client, std::string& out);

// A complete response the proxy answers itself (400, 404, 502, 503, 504...),
// with a one-line plain-text body; HEAD requests get no body.
// `retry_after_s` > 0 adds Retry-After (a 503 of an open circuit breaker).
void build_error_response(int status, std::string_view detail, bool close_client, bool head_request,
                          std::string& out, int64_t retry_after_s = 0);

std::string_view reason_phrase(int status);

// Whether a method is idempotent (RFC 9110 9.2.2): only those are retried
// after an upstream may have seen them.
bool is_idempotent(std::string_view method);

}  // namespace ferry::proxy
