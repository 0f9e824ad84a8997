#include "proxy/message_rewrite.h"

#include <charconv>

namespace ferry::proxy {

namespace {

// Hop-by-hop headers, never forwarded as they are. Trailer is not one
// (RFC 9110 6.6.2): the trailers it announces travel with the chunked body,
// which is relayed as it is.
bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection", "keep-alive",         "proxy-connection",   "te",
      "upgrade",    "proxy-authenticate", "proxy-authorization"};
  for (std::string_view n : kNames) {
    if (equals_ignore_case(name, n)) return true;
  }
  return false;
}

// The Connection header's value: the headers it names are hop-by-hop too
// ("Connection: close, X-Foo"). Several Connection headers are rare; all count.
class ConnectionTokens {
 public:
  explicit ConnectionTokens(const std::vector<HeaderField>& headers) {
    for (const auto& h : headers) {
      if (!equals_ignore_case(h.name, "connection")) continue;
      if (count_ < kMax) values_[count_++] = h.value;
    }
  }
  bool names(std::string_view header) const {
    for (size_t i = 0; i < count_; ++i) {
      if (has_token(values_[i], header)) return true;
    }
    return false;
  }

 private:
  static constexpr size_t kMax = 4;
  std::string_view values_[kMax];
  size_t count_ = 0;
};

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, uint64_t n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), n);
  (void)ec;
  out.append(buf, end);
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 417:
      return "Expectation Failed";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

void build_upstream_request(const RequestHead& request, const UpstreamRequestOptions& options,
                            std::string& out) {
  const bool absolute_form = request.target.front() != '/' && request.target != "*";
  out.append(request.method).append(" ");
  if (!absolute_form) {
    out.append(request.target);
  } else {
    // Absolute form: the upstream gets the origin form and the authority as Host.
    out.append(request.path);
    if (!request.query.empty()) out.append("?").append(request.query);
  }
  out.append(request.minor_version == 0 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
  // Every X-Forwarded-For the client sent, in order, as one list: the
  // first is used as it is, later ones are joined (rare, so the copy is too).
  std::string_view forwarded_for;
  std::string forwarded_joined;
  bool host_sent = false;
  const ConnectionTokens connection(request.headers);
  for (const auto& h : request.headers) {
    if (is_hop_by_hop(h.name) || connection.names(h.name)) continue;
    if (equals_ignore_case(h.name, "x-forwarded-for")) {
      if (forwarded_for.empty()) {
        forwarded_for = h.value;
      } else if (!h.value.empty()) {
        if (forwarded_joined.empty()) forwarded_joined = forwarded_for;
        forwarded_joined.append(", ").append(h.value);
        forwarded_for = forwarded_joined;
      }
      continue;
    }
    if (equals_ignore_case(h.name, "x-forwarded-proto")) continue;
    if (equals_ignore_case(h.name, "host")) {
      host_sent = true;
      if (absolute_form) {
        append_header(out, "Host", request.host);
        continue;
      }
    }
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (!host_sent)
    append_header(out, "Host", request.host.empty() ? options.default_host : request.host);
  out.append("X-Forwarded-For: ");
  if (!forwarded_for.empty()) out.append(forwarded_for).append(", ");
  out.append(options.client_ip).append("\r\n");
  out.append("X-Forwarded-Proto: http\r\n");
  if (request.upgrade) {
    append_header(out, "Connection", "upgrade");
    append_header(out, "Upgrade", request.header("upgrade"));
  } else if (request.minor_version == 0) {
    append_header(out, "Connection", "close");
  }
  out.append("\r\n");
}

void build_client_response(const ResponseHead& response, int client_minor_version,
                           bool close_client, std::string& out) {
  out.append(client_minor_version == 0 ? "HTTP/1.0 " : "HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(response.status));
  out.append(" ").append(response.reason.empty() ? reason_phrase(response.status)
                                                 : response.reason);
  out.append("\r\n");
  const bool switching = response.status == 101;
  const ConnectionTokens connection(response.headers);
  for (const auto& h : response.headers) {
    if (is_hop_by_hop(h.name) || connection.names(h.name)) continue;
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  }
  if (switching) {
    append_header(out, "Connection", "upgrade");
    append_header(out, "Upgrade", response.header("upgrade"));
  } else if (close_client) {
    append_header(out, "Connection", "close");
  } else if (client_minor_version == 0) {
    append_header(out, "Connection", "keep-alive");
  }
  out.append("\r\n");
}

void build_error_response(int status, std::string_view detail, bool close_client, bool head_request,
                          std::string& out, int64_t retry_after_s) {
  const std::string_view reason = reason_phrase(status);
  out.append("HTTP/1.1 ");
  append_number(out, static_cast<uint64_t>(status));
  out.append(" ").append(reason).append("\r\nContent-Type: text/plain\r\nContent-Length: ");
  // Body: "502 Bad Gateway: upstream reset the connection\n"
  const size_t body_size = 3 + 1 + reason.size() + (detail.empty() ? 0 : 2 + detail.size()) + 1;
  append_number(out, body_size);
  out.append("\r\nCache-Control: no-store\r\n");
  if (retry_after_s > 0) {
    out.append("Retry-After: ");
    append_number(out, static_cast<uint64_t>(retry_after_s));
    out.append("\r\n");
  }
  if (close_client) out.append("Connection: close\r\n");
  out.append("\r\n");
  if (head_request) return;
  append_number(out, static_cast<uint64_t>(status));
  out.append(" ").append(reason);
  if (!detail.empty()) out.append(": ").append(detail);
  out.append("\n");
}

}  // namespace ferry::proxy
