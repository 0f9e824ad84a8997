// ferry proxy end to end: faithful HTTP/1.1 proxying, hostile input, and
// upstreams that fail in every way. Real backends, real sockets.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <utility>
#include <vector>

#include "proxy_harness.h"

namespace proxytest {
namespace {

TEST(ProxyProtocol, ForwardsHeadersHostAndAddsForwardedFor) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  const std::string r = round_trip(proxy.port(),
                                   "GET /echo?x=1 HTTP/1.1\r\nHost: Shop.Example:8080\r\n"
                                   "X-Forwarded-For: 203.0.113.9\r\nConnection: close, X-Secret\r\n"
                                   "X-Secret: hop\r\nKeep-Alive: timeout=5\r\nX-Kept: yes\r\n\r\n");
  EXPECT_EQ(status_of(r), 200) << r;
  const std::string b = body_of(r);
  EXPECT_NE(b.find("[\"Host\", \"Shop.Example:8080\"]"), std::string::npos) << b;
  EXPECT_NE(b.find("[\"X-Forwarded-For\", \"203.0.113.9, 127.0.0.1\"]"), std::string::npos) << b;
  EXPECT_NE(b.find("[\"X-Forwarded-Proto\", \"http\"]"), std::string::npos) << b;
  EXPECT_NE(b.find("[\"X-Kept\", \"yes\"]"), std::string::npos) << b;
  EXPECT_EQ(b.find("X-Secret"), std::string::npos) << b;
  EXPECT_EQ(b.find("Keep-Alive"), std::string::npos) << b;
  EXPECT_NE(b.find("\"target\": \"/echo?x=1\""), std::string::npos) << b;
  EXPECT_EQ(header_of(r, "X-Backend"), "app");
  EXPECT_EQ(header_of(r, "Connection"), "close");
}

TEST(ProxyProtocol, PipelinedRequestsAreAnsweredInOrder) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  RawClient c(proxy.port());
  std::string burst;
  for (int i = 0; i < 20; ++i)
    burst += "GET /echo/" + std::to_string(i) + " HTTP/1.1\r\nHost: s\r\n\r\n";
  c.send(burst);
  const std::string all = c.read(10s, "\"body_sha256\"", 20);
  size_t at = 0;
  for (int i = 0; i < 20; ++i) {
    const size_t next = all.find("\"target\": \"/echo/" + std::to_string(i) + "\"", at);
    ASSERT_NE(next, std::string::npos) << "response " << i << " missing or out of order";
    at = next;
  }
}

TEST(ProxyProtocol, LargeBodiesStreamBothWays) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  // 64 MiB down: every byte arrives (the proxy holds 16 KiB at a time).
  const Outcome down = run({"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                            "http://127.0.0.1:" + std::to_string(proxy.port()) + "/big/67108864"});
  EXPECT_EQ(down.out, "200 67108864") << down.err;
  // 32 MiB up, chunked by curl: the backend sees the same bytes.
  const Outcome up =
      run({"sh", "-c",
           "head -c 33554432 /dev/urandom | tee /tmp/ferry_up_$$ | curl -sS -H "
           "'Transfer-Encoding: chunked' --data-binary @- http://127.0.0.1:" +
               std::to_string(proxy.port()) +
               "/echo && echo && sha256sum /tmp/ferry_up_$$ && rm /tmp/ferry_up_$$"});
  ASSERT_EQ(up.status, 0) << up.err;
  const std::string sha = up.out.substr(up.out.rfind('\n', up.out.size() - 2) + 1, 64);
  EXPECT_NE(up.out.find("\"body_bytes\": 33554432"), std::string::npos) << up.out;
  EXPECT_NE(up.out.find("\"body_sha256\": \"" + sha + "\""), std::string::npos) << up.out;
  // Streamed, not buffered: the proxy's peak memory stayed far below either body.
  EXPECT_LT(peak_rss_kib(proxy.pid()), 32 * 1024);
}

TEST(ProxyProtocol, ChunkedResponsesWithTrailersAndUntilClose) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  const Outcome chunked =
      run({"curl", "-sS", "--raw", "-D", "-",
           "http://127.0.0.1:" + std::to_string(proxy.port()) + "/chunked/50/1000"});
  EXPECT_NE(chunked.out.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(chunked.out.find("X-Sum: done"), std::string::npos)
      << chunked.out.substr(chunked.out.size() - 100);
  const Outcome plain =
      run({"curl", "-sS", "-w", " %{size_download}",
           "http://127.0.0.1:" + std::to_string(proxy.port()) + "/until-close/100000"});
  EXPECT_NE(plain.out.find(" 100000"), std::string::npos) << plain.err;
}

TEST(ProxyProtocol, HeadAnd204And304HaveNoBody) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  RawClient c(proxy.port());
  c.send(
      "HEAD /echo HTTP/1.1\r\nHost: s\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: s\r\n\r\n"
      "GET /status/304 HTTP/1.1\r\nHost: s\r\n\r\nGET /echo/last HTTP/1.1\r\nHost: s\r\n\r\n");
  const std::string all = c.read(5s, "/echo/last");
  EXPECT_NE(all.find("HTTP/1.1 200"), std::string::npos);
  EXPECT_NE(all.find("HTTP/1.1 204"), std::string::npos);
  EXPECT_NE(all.find("HTTP/1.1 304"), std::string::npos);
  // Had any body leaked, the last response would not parse where it is.
  const size_t last = all.rfind("HTTP/1.1 200");
  EXPECT_NE(all.find("/echo/last", last), std::string::npos) << all;
  EXPECT_EQ(all.find("status body"), std::string::npos) << all;
}

TEST(ProxyProtocol, UpstreamConnectionsAreKeptAliveAndReused) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  std::set<std::string> ports;
  // Ten clients, one after another, each on a connection of its own.
  for (int i = 0; i < 10; ++i) ports.insert(json_field(body_of(proxy.get("/echo")), "peer_port"));
  EXPECT_EQ(ports.size(), 1u) << "each request opened an upstream connection";
  EXPECT_EQ(metric_value(body_of(proxy.admin("GET", "/metrics")),
                         "ferry_proxy_upstream_idle_connections{pool=\"app\",endpoint=\"" +
                             app.address() + "\"}"),
            1);
}

TEST(ProxyProtocol, ExpectContinueIsRelayed) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  RawClient c(proxy.port());
  c.send("POST /continue HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  const std::string interim = c.read(5s, "\r\n\r\n");
  EXPECT_EQ(interim.rfind("HTTP/1.1 100 Continue\r\n", 0), 0u) << interim;
  c.send("hello");
  const std::string final = c.read(5s, "}");
  EXPECT_NE(final.find("\"body_bytes\": 5"), std::string::npos) << final;
}

// After the 100 Continue the client uploads at its own pace: that is timed
// by timeouts.client_body, not by the pool's response_timeout.
TEST(ProxyProtocol, AnUploadAfter100ContinueIsNotTimedAsTheResponse) {
  Backend app("app");
  Proxy proxy(one_pool(app, ", response_timeout: 300ms, retries: 0"));
  RawClient c(proxy.port());
  c.send("POST /continue HTTP/1.1\r\nHost: s\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(status_of(c.read(5s, "\r\n\r\n")), 100);
  for (const char* piece : {"h", "e", "l", "l", "o"}) {
    std::this_thread::sleep_for(250ms);  // 1.25 s in all: four response timeouts
    c.send(piece);
  }
  const std::string final = c.read(5s, "}");
  EXPECT_EQ(status_of(final), 200) << final;
  EXPECT_NE(final.find("\"body_bytes\": 5"), std::string::npos) << final;
}

TEST(ProxyProtocol, WebSocketUpgradeIsTunnelled) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  RawClient c(proxy.port());
  c.send(
      "GET /ws HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  const std::string head = c.read(5s, "\r\n\r\n");
  EXPECT_EQ(status_of(head), 101) << head;
  EXPECT_EQ(header_of(head, "Upgrade"), "websocket");
  for (int i = 0; i < 3; ++i) {
    const std::string frame = "frame-" + std::to_string(i) + std::string(10000, 'x');
    c.send(frame);
    EXPECT_EQ(c.read(5s, frame), frame);
  }
}

// A client that half-closes its side of a tunnel still gets everything the
// upstream sends afterwards: the half-close is passed on, not turned into a
// close of both directions. (The upstream's half-close takes the same path
// the other way, tunnel_side_done.)
TEST(ProxyProtocol, TunnelHalfCloseFromTheClientIsPassedOn) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  RawClient c(proxy.port());
  c.send("GET /ws HTTP/1.1\r\nHost: s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  ASSERT_EQ(status_of(c.read(5s, "\r\n\r\n")), 101);
  c.send("last words");
  ASSERT_EQ(::shutdown(c.fd(), SHUT_WR), 0);
  // The echo, then what the backend sends 200 ms after it saw the half-close,
  // then the end of the stream once the backend closes its side too.
  EXPECT_EQ(c.read(5s), "last wordsend of tunnel");
  EXPECT_TRUE(c.closed());
}

TEST(ProxyHostile, SmugglingAndMalformedRequestsGet400AndNeverReachUpstream) {
  Backend app("app");
  Proxy proxy(one_pool(app));
  const char* bad[] = {
      "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 4\r\nTransfer-Encoding: "
      "chunked\r\n\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde",
      "POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      "POST /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
      "GET /echo HTTP/1.1\r\nHost: s\r\nX-A: 1\r\n folded\r\n\r\n",
      "GET /echo HTTP/1.1\nHost: s\n\n",
      "GET /echo HTTP/1.1\r\nHost: s\r\nTransfer-Encoding : chunked\r\n\r\n",
      "GET /echo HTTP/1.1\r\n\r\n",
  };
  for (const char* request : bad) {
    const std::string r = round_trip(proxy.port(), request);
    EXPECT_EQ(status_of(r), 400) << request << "\n=> " << r;
    EXPECT_EQ(header_of(r, "Connection"), "close");
    EXPECT_EQ(r.find("\"backend\""), std::string::npos) << request;
  }
}

TEST(ProxyHostile, LimitsGive413And414And431) {
  Backend app("app");
  Proxy proxy(one_pool(app),
              "limits: { head_bytes: 8KiB, headers: 20, uri_bytes: 1KiB, body_bytes: 1MiB }\n");
  EXPECT_EQ(status_of(proxy.get("/" + std::string(2000, 'a'))), 414);
  std::string many;
  for (int i = 0; i < 25; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
  EXPECT_EQ(status_of(proxy.get("/", many)), 431);
  EXPECT_EQ(status_of(proxy.get("/", "X-Big: " + std::string(9000, 'b') + "\r\n")), 431);
  EXPECT_EQ(status_of(round_trip(proxy.port(),
                                 "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: "
                                 "2000000\r\n\r\n")),
            413);
  // A chunked body is counted as it streams.
  const Outcome chunked = run({"sh", "-c",
                               "head -c 3000000 /dev/zero | curl -sS -o /dev/null -w "
                               "'%{http_code}' -H 'Transfer-Encoding: chunked' "
                               "--data-binary @- http://127.0.0.1:" +
                                   std::to_string(proxy.port()) + "/echo"});
  EXPECT_EQ(chunked.out, "413") << chunked.err;
}

TEST(ProxyHostile, SlowClientsAreTimedOut) {
  Backend app("app");
  Proxy proxy(one_pool(app),
              "timeouts: { client_head: 300ms, client_idle: 500ms, client_body: 300ms }\n");
  RawClient partial(proxy.port());
  partial.send("GET /echo HTTP/1.1\r\nHost:");
  const std::string r = partial.read(3s);
  EXPECT_EQ(status_of(r), 408) << r;
  EXPECT_TRUE(partial.closed());
  RawClient idle(proxy.port());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(idle.read(3s), "");
  EXPECT_TRUE(idle.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  RawClient body(proxy.port());
  body.send("POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(status_of(body.read(3s)), 408);
}

// A client that stops reading holds the response up, not the upstream: it is
// cut off after timeouts.client_send, and the endpoint is not blamed for it
// (before, the pool's response_timeout fired and ejected a healthy endpoint).
TEST(ProxyHostile, AClientThatStopsReadingIsCutOffWithoutBlamingTheUpstream) {
  Backend app("app");
  Proxy proxy(one_pool(app,
                       ", response_timeout: 300ms, retries: 0, "
                       "eject: { consecutive_failures: 1, duration: 30s }"),
              "timeouts: { client_send: 3s }\n");
  // 50 MB: more than the socket buffers on both sides hold, so the proxy
  // has to wait for the client.
  RawClient stalled(proxy.port());
  stalled.send("GET /big/50000000 HTTP/1.1\r\nHost: s\r\n\r\n");
  std::this_thread::sleep_for(900ms);  // three response timeouts, not yet client_send
  EXPECT_EQ(body_of(proxy.admin("GET", "/admin/state")).find("\"ejected\": true"),
            std::string::npos);
  EXPECT_EQ(status_of(proxy.get("/echo")), 200);
  // Still open: the head (and the start of the body) is there to read.
  EXPECT_EQ(status_of(stalled.read(5s, "\r\n\r\n")), 200);
  EXPECT_FALSE(stalled.closed());
  std::this_thread::sleep_for(5s);  // well past client_send
  const std::string rest = stalled.read(10s);
  EXPECT_TRUE(stalled.closed());
  EXPECT_LT(rest.size(), 50'000'000u);
  EXPECT_EQ(body_of(proxy.admin("GET", "/admin/state")).find("\"ejected\": true"),
            std::string::npos);
  EXPECT_EQ(status_of(proxy.get("/echo")), 200);
}

// A client that pauses for longer than the pool's response_timeout, but less
// than client_send, and then reads on gets the whole response: the upstream's
// clock stops while the client holds the response up.
TEST(ProxyHostile, AClientThatPausesAndResumesGetsTheWholeResponse) {
  Backend app("app");
  Proxy proxy(one_pool(app, ", response_timeout: 1s, retries: 0"),
              "timeouts: { client_send: 10s }\n");
  RawClient paused(proxy.port());
  paused.send("GET /big/50000000 HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(2500ms);
  const std::string got = paused.read(20s);
  EXPECT_TRUE(paused.closed());
  EXPECT_EQ(status_of(got), 200);
  EXPECT_EQ(body_of(got).size(), 50'000'000u);
}

TEST(ProxyFailures, UpstreamResetCloseMidResponseAndSilenceGive502And504) {
  Backend app("app");
  Proxy proxy(one_pool(app, ", response_timeout: 500ms, retries: 0"));
  EXPECT_EQ(status_of(proxy.get("/reset")), 502);
  const std::string mid = proxy.get("/close-mid");
  EXPECT_EQ(status_of(mid), 200);
  EXPECT_LT(body_of(mid).size(), 1000u);  // cut off, not padded: the client sees it was truncated
  const std::string silent = proxy.get("/never");
  EXPECT_EQ(status_of(silent), 504) << silent;
  EXPECT_EQ(status_of(proxy.get("/echo")), 200);  // and the proxy is fine
}

// A response head that is not HTTP, that frames its body two ways, or that
// does not end within the head limit is the upstream's fault: 502, and the
// connection it came on is not reused.
TEST(ProxyFailures, GarbageFromTheUpstreamGives502) {
  Backend app("app");
  Proxy proxy(one_pool(app, ", retries: 0"));
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"not-http", "malformed status line"},
      {"two-lengths", "more than one Content-Length"},
      {"huge-head", "response head too large"}};
  const auto echo_port = [&] {
    const std::string r = proxy.get("/echo");
    EXPECT_EQ(status_of(r), 200) << r;
    return json_field(body_of(r), "peer_port");
  };
  for (const auto& [kind, reason] : garbage) {
    // The pool's one idle connection (from this port) carries the garbage.
    const std::string before = echo_port();
    const std::string r = proxy.get("/garbage/" + kind);
    EXPECT_EQ(status_of(r), 502) << kind << "\n=> " << r.substr(0, 300);
    EXPECT_EQ(r.find("abcdef"), std::string::npos) << kind;
    EXPECT_NE(echo_port(), before) << "the connection that carried " << kind << " was reused";
  }
  const Outcome log = proxy.stop();
  EXPECT_EQ(occurrences(log.err, "event=upstream_failure"), 3u) << log.err;
  for (const auto& [kind, reason] : garbage)
    EXPECT_NE(log.err.find("detail=\"" + reason + "\""), std::string::npos)
        << kind << ": " << log.err;
}

TEST(ProxyFailures, RetriesOnAnotherEndpointOnlyWhenSafe) {
  Backend up("up");
  const int dead = free_port();
  Proxy proxy("pools:\n  app: { endpoints: [127.0.0.1:" + std::to_string(dead) + ", " +
              up.address() +
              "], retries: 1, eject: { consecutive_failures: 1000 } }\nroutes: [ { name: all, to: "
              "app } ]\n");
  // Connection refused: never sent, so every request is retried, POST too.
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(backend_of(round_trip(proxy.port(),
                                    "POST /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 2\r\n"
                                    "Connection: close\r\n\r\nhi")),
              "up");
  }
}

TEST(ProxyFailures, NonIdempotentRequestsAreNotRetriedAfterTheUpstreamSawThem) {
  Backend a("a"), b("b");
  Proxy proxy("pools:\n  app: { endpoints: [" + a.address() + ", " + b.address() +
              "], retries: 1, eject: { consecutive_failures: 1000 } }\nroutes: [ { name: all, to: "
              "app } ]\n");
  int gets_502 = 0, posts_502 = 0;
  for (int i = 0; i < 4; ++i) {
    // /reset resets on both: a GET is retried once (and fails on both), a POST is not retried.
    gets_502 += status_of(proxy.get("/reset")) == 502;
    posts_502 += status_of(round_trip(proxy.port(),
                                      "POST /reset HTTP/1.1\r\nHost: s\r\nContent-Length: 0\r\n"
                                      "Connection: close\r\n\r\n")) == 502;
  }
  EXPECT_EQ(gets_502, 4);
  EXPECT_EQ(posts_502, 4);
  // 4 GETs x 2 attempts + 4 POSTs x 1 attempt reached the backends.
  const Outcome log = proxy.stop();
  EXPECT_EQ(occurrences(log.err, "event=upstream_failure"), 12u) << log.err;
}

// least_requests sends a request to the endpoint with the fewest in flight:
// while one slow request holds an endpoint, every other request goes to the
// other one (round robin would alternate).
TEST(ProxyPools, LeastRequestsAvoidsTheBusyEndpoint) {
  Backend a("a"), b("b");
  Proxy proxy("pools:\n  app: { endpoints: [" + a.address() + ", " + b.address() +
              "], balance: least_requests }\nroutes: [ { name: all, to: app } ]\n");
  RawClient slow(proxy.port());
  slow.send("GET /slow/1500 HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(200ms);  // the slow request is at its endpoint
  std::set<std::string> quick;
  for (int i = 0; i < 8; ++i) quick.insert(backend_of(proxy.get("/echo")));
  const std::string busy = backend_of(slow.read(5s));
  ASSERT_TRUE(busy == "a" || busy == "b") << busy;
  EXPECT_EQ(quick, (std::set<std::string>{busy == "a" ? "b" : "a"}));
  // Once idle again, both endpoints take requests.
  std::set<std::string> after;
  for (int i = 0; i < 8; ++i) after.insert(backend_of(proxy.get("/echo")));
  EXPECT_EQ(after.size(), 2u);
}

TEST(ProxyPools, RoundRobinTakesTurns) {
  Backend a("a"), b("b"), c("c");
  Proxy proxy("pools:\n  app: { endpoints: [" + a.address() + ", " + b.address() + ", " +
              c.address() + "] }\nroutes: [ { name: all, to: app } ]\n");
  std::map<std::string, int> seen;
  for (int i = 0; i < 9; ++i) ++seen[backend_of(proxy.get("/echo"))];
  EXPECT_EQ(seen, (std::map<std::string, int>{{"a", 3}, {"b", 3}, {"c", 3}}));
}

// An endpoint that never completes the TCP handshake: a listener whose
// backlog is full, so the kernel drops further SYNs.
TEST(ProxyFailures, ConnectTimeoutGives504) {
  const int port = free_port();
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(listener, 0);
  const sockaddr_in addr = loopback_address(port);
  ASSERT_EQ(::bind(listener, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 0), 0);
  // Fill the accept queue with connections never accepted (non-blocking: a
  // blocking connect would itself wait for the handshake).
  std::vector<int> fill;
  for (int i = 0; i < 4; ++i) {
    fill.push_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ::connect(fill.back(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  }
  std::this_thread::sleep_for(100ms);
  Proxy proxy("pools:\n  app: { endpoints: [127.0.0.1:" + std::to_string(port) +
              "], connect_timeout: 300ms, retries: 0 }\nroutes: [ { name: all, to: app } ]\n");
  const auto start = std::chrono::steady_clock::now();
  const std::string r = proxy.get("/echo");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status_of(r), 504) << r;
  EXPECT_NE(r.find("connect timed out"), std::string::npos) << r;
  EXPECT_GE(took, 250ms);
  EXPECT_LT(took, 3s);
  for (int fd : fill) ::close(fd);
  ::close(listener);
}

TEST(ProxyFailures, FailingEndpointIsEjectedPassively) {
  Backend good("good"), bad("bad");
  bad.stop();
  Proxy proxy("pools:\n  app: { endpoints: [" + good.address() + ", " + bad.address() +
              "], retries: 0, eject: { consecutive_failures: 2, duration: 30s } }\n"
              "routes: [ { name: all, to: app } ]\n");
  int failed = 0;
  for (int i = 0; i < 20; ++i) failed += status_of(proxy.get("/echo")) != 200;
  EXPECT_LE(failed, 2);  // two strikes, then the dead endpoint is left out
  EXPECT_NE(body_of(proxy.admin("GET", "/admin/state")).find("\"ejected\": true"),
            std::string::npos);
}

// An ejected endpoint is tried again once eject.duration has passed.
TEST(ProxyFailures, AnEjectedEndpointComesBackAfterTheDuration) {
  Backend good("good");
  const int port = free_port();
  Proxy proxy("pools:\n  app: { endpoints: [" + good.address() +
              ", 127.0.0.1:" + std::to_string(port) +
              "], retries: 0, eject: { consecutive_failures: 1, duration: 700ms } }\n"
              "routes: [ { name: all, to: app } ]\n");
  for (int i = 0; i < 4; ++i) proxy.get("/echo");  // the missing one fails once, then is out
  EXPECT_NE(body_of(proxy.admin("GET", "/admin/state")).find("\"ejected\": true"),
            std::string::npos);
  Backend back("back", {}, port);
  std::this_thread::sleep_for(900ms);
  std::set<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.insert(backend_of(proxy.get("/echo")));
  EXPECT_EQ(seen, (std::set<std::string>{"good", "back"}));
}

TEST(ProxyFailures, ActiveHealthChecksTakeEndpointsOutAndBack) {
  const fs::path down = scratch_dir() / "b_down";
  Backend a("a"), b("b", {{"BACKEND_DOWN_FILE", down.string()}});
  Proxy proxy("pools:\n  app: { endpoints: [" + a.address() + ", " + b.address() +
              "], health: { path: /health, interval: 100ms, unhealthy_threshold: 2, "
              "healthy_threshold: 2 } }\nroutes: [ { name: all, to: app } ]\n");
  std::ofstream(down) << "down";
  std::this_thread::sleep_for(600ms);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(backend_of(proxy.get("/echo")), "a");
  // One endpoint of the pool still takes requests: the proxy is ready.
  EXPECT_EQ(status_of(proxy.admin("GET", "/readyz")), 200);
  fs::remove(down);
  std::this_thread::sleep_for(600ms);
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(backend_of(proxy.get("/echo")));
  EXPECT_EQ(seen, (std::set<std::string>{"a", "b"}));
}

// A health check that takes longer than health.timeout fails; an endpoint
// goes out only after unhealthy_threshold failures in a row.
TEST(ProxyFailures, HealthChecksTimeOutAndNeedThresholdFailuresInARow) {
  Backend app("app");
  const std::string health = ", health: { path: /slow/1000, interval: 100ms, timeout: 150ms, ";
  Proxy proxy("pools:\n  quick: { endpoints: [" + app.address() + "]" + health +
              "unhealthy_threshold: 2 } }\n  patient: { endpoints: [" + app.address() + "]" +
              health + "unhealthy_threshold: 100 } }\nroutes: [ { name: all, to: quick } ]\n");
  auto healthy = [&](const std::string& pool) {
    return metric_value(
        body_of(proxy.admin("GET", "/metrics")),
        "ferry_proxy_endpoint_healthy{pool=\"" + pool + "\",endpoint=\"" + app.address() + "\"}");
  };
  std::this_thread::sleep_for(1500ms);  // about 6 checks, each timed out
  EXPECT_EQ(healthy("quick"), 0);
  EXPECT_EQ(healthy("patient"), 1);
  EXPECT_EQ(status_of(proxy.get("/echo")), 503);
  // A pool without an endpoint that may take a request: not ready, and which.
  const std::string ready = proxy.admin("GET", "/readyz");
  EXPECT_EQ(status_of(ready), 503) << ready;
  const std::string listed = ready.substr(ready.find("pools_without_an_available_endpoint"));
  EXPECT_NE(listed.find("\"quick\""), std::string::npos) << ready;
  EXPECT_EQ(listed.find("\"patient\""), std::string::npos) << ready;
  EXPECT_EQ(status_of(proxy.admin("GET", "/healthz")), 200);
}

TEST(ProxyFailures, NoFileDescriptorLeaksAfterFailures) {
  Backend app("app");
  Proxy proxy(one_pool(app, ", response_timeout: 300ms, retries: 0"));
  proxy.get("/echo");
  std::this_thread::sleep_for(200ms);
  const size_t before = open_fds(proxy.pid());
  for (int i = 0; i < 30; ++i) {
    proxy.get("/reset");
    proxy.get("/close-mid");
    RawClient half(proxy.port());
    half.send("GET /echo HTTP/1.1\r\nHost: s\r\nContent-Length: 100\r\n\r\nab");
  }
  proxy.get("/never");
  // Upstream keep-alive connections may stay pooled; client sockets must all be gone.
  std::this_thread::sleep_for(1s);
  EXPECT_LE(open_fds(proxy.pid()), before + 2);
}

TEST(ProxyAccessLog, OneJsonLinePerRequest) {
  Backend app("app");
  const fs::path log = scratch_dir() / "access.log";
  fs::remove(log);
  Proxy proxy(one_pool(app), "access_log: " + log.string() + "\n");
  proxy.get("/echo?a=1");
  proxy.get("/status/503");
  proxy.stop();
  const std::string text = slurp(log);
  EXPECT_NE(text.find("\"method\":\"GET\",\"target\":\"/echo?a=1\",\"host\":\"shop.example\","
                      "\"status\":200,\"route\":\"all\",\"pool\":\"app\""),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"status\":503"), std::string::npos) << text;
}

}  // namespace
}  // namespace proxytest
