// ferry proxy's circuit breaker end to end: a pool that starts failing is
// cut off and its traffic goes to the fallback pool (or gets 503), then it
// is probed and taken back. Real backends (tests/http_backend.py, told to
// fail through $BACKEND_FAIL_FILE), the real binary with several worker
// threads, a real client; every wait polls against a deadline.
#include <gtest/gtest.h>

#include <fstream>

#include "proxy_harness.h"

namespace proxytest {
namespace {

std::string breaker_of_modern(const Proxy& proxy) {
  const std::string state = body_of(proxy.admin("GET", "/admin/state"));
  const size_t modern = state.find("\"name\": \"modern\"");
  const size_t breaker = state.find("\"breaker\"", modern == std::string::npos ? 0 : modern);
  return breaker == std::string::npos ? ""
                                      : state.substr(breaker, state.find('}', breaker) - breaker);
}

std::string metrics(const Proxy& proxy) { return body_of(proxy.admin("GET", "/metrics")); }

constexpr const char* kThreads = "threads: 4\n";

TEST(ProxyBreaker, OpensToTheFallbackAndClosesWhenTheProbesSucceed) {
  FailSwitch modern_fails;
  Backend legacy("legacy"), modern("modern", modern_fails.env());
  // Four worker threads, one connection per request: the kernel spreads them
  // over the workers, and the breaker must still see all of them.
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
                  "] }\n"
                  "  modern:\n    endpoints: [" +
                  modern.address() +
                  "]\n    eject: { consecutive_failures: 0 }\n"
                  "    breaker: { window: 10s, min_requests: 10, failure_rate: 50%, "
                  "open_for: 3s, half_open_requests: 3, fallback: legacy }\n"
                  "routes: [ { name: all, to: modern } ]\n",
              kThreads);
  for (int i = 0; i < 5; ++i) {
    const std::string r = proxy.get("/echo/warm");
    ASSERT_EQ(status_of(r), 200) << r;
    ASSERT_EQ(backend_of(r), "modern");
  }
  EXPECT_NE(breaker_of_modern(proxy).find("\"state\": \"closed\""), std::string::npos)
      << breaker_of_modern(proxy);

  // modern answers 500. With the 5 successes already in the window, the 5th
  // failure makes 10 requests (min_requests) at 50%: that one opens it.
  modern_fails.fail("500");
  int failures_seen = 0;
  std::string r;
  for (int i = 0; i < 100; ++i) {
    r = proxy.get("/echo/while-failing");
    if (backend_of(r) == "legacy") break;
    ASSERT_EQ(status_of(r), 500) << r;
    ++failures_seen;
  }
  ASSERT_EQ(backend_of(r), "legacy") << "the breaker never opened";
  EXPECT_EQ(failures_seen, 5) << "the whole process's outcomes count, whatever thread had them";
  EXPECT_NE(breaker_of_modern(proxy).find("\"state\": \"open\""), std::string::npos)
      << breaker_of_modern(proxy);
  const std::string m = metrics(proxy);
  EXPECT_EQ(metric_value(m, "ferry_breaker_state{pool=\"modern\"}"), 1) << m;
  EXPECT_EQ(metric_value(m, "ferry_breaker_transitions_total{pool=\"modern\",to=\"open\"}"), 1);

  // While open: every answer is a fallback success.
  int from_legacy = 0;
  for (int i = 0; i < 20; ++i) {
    r = proxy.get("/echo/while-open");
    EXPECT_EQ(status_of(r), 200) << r;
    if (status_of(r) == 200 && backend_of(r) == "legacy") ++from_legacy;
  }
  EXPECT_EQ(from_legacy, 20);

  // modern recovers; after open_for the probes go to it and close the breaker.
  modern_fails.heal();
  int from_modern = 0;
  const bool closed = eventually(
      [&] {
        r = proxy.get("/echo/recovering");
        EXPECT_EQ(status_of(r), 200) << r;
        if (backend_of(r) == "modern") ++from_modern;
        return breaker_of_modern(proxy).find("\"state\": \"closed\"") != std::string::npos;
      },
      15s);
  ASSERT_TRUE(closed) << breaker_of_modern(proxy);
  EXPECT_EQ(from_modern, 3) << "the half-open probes";
  for (int i = 0; i < 10; ++i) EXPECT_EQ(backend_of(proxy.get("/echo/after")), "modern");
  const std::string after = metrics(proxy);
  EXPECT_EQ(metric_value(after, "ferry_breaker_state{pool=\"modern\"}"), 0);
  EXPECT_EQ(
      metric_value(after, "ferry_breaker_transitions_total{pool=\"modern\",to=\"half_open\"}"), 1);
  EXPECT_EQ(metric_value(after, "ferry_breaker_transitions_total{pool=\"modern\",to=\"closed\"}"),
            1);

  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("event=breaker_opened pool=modern reason=failure_rate requests=10 "
                         "failures=5 failure_rate=0.50 threshold=0.5 window=10s open_for=3s "
                         "fallback=legacy"),
            std::string::npos)
      << end.err;
  EXPECT_EQ(occurrences(end.err, "event=breaker_opened"), 1u) << end.err;
  EXPECT_NE(end.err.find("event=breaker_half_open pool=modern open_for=3s probes=3"),
            std::string::npos)
      << end.err;
  EXPECT_NE(end.err.find("event=breaker_closed pool=modern probes=3 succeeded=3"),
            std::string::npos)
      << end.err;
}

TEST(ProxyBreaker, WithoutAFallbackAnswers503WithRetryAfterAtOnce) {
  FailSwitch modern_fails;
  Backend modern("modern", modern_fails.env());
  Proxy proxy("pools:\n  modern:\n    endpoints: [" + modern.address() +
              "]\n    eject: { consecutive_failures: 0 }\n"
              "    breaker: { min_requests: 4, failure_rate: 75%, open_for: 30s }\n"
              "routes: [ { name: all, to: modern } ]\n");
  modern_fails.fail("503");
  for (int i = 0; i < 4; ++i) ASSERT_EQ(status_of(proxy.get("/echo/x")), 503);
  // Slow now: an answer that took the upstream's time would show it.
  modern_fails.fail("slow 3000");
  const auto start = std::chrono::steady_clock::now();
  const std::string r = proxy.get("/echo/while-open");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(status_of(r), 503) << r;
  EXPECT_NE(body_of(r).find("the circuit breaker of pool 'modern' is open"), std::string::npos)
      << r;
  const std::string retry_after = header_of(r, "Retry-After");
  ASSERT_FALSE(retry_after.empty()) << r;
  EXPECT_GE(std::stoi(retry_after), 1);
  EXPECT_LE(std::stoi(retry_after), 30);
  EXPECT_LT(took, 2s) << "answered without asking the upstream";
  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("event=breaker_opened pool=modern reason=failure_rate requests=4 "
                         "failures=4 failure_rate=1.00 threshold=0.75 window=10s open_for=30s "
                         "fallback=none answer=503"),
            std::string::npos)
      << end.err;
}

TEST(ProxyBreaker, ARequestIsRetriedOnTheFallbackOnlyWhenARetryIsSafe) {
  Backend legacy("legacy"), modern("modern");
  // modern's endpoints: one that refuses connections (never saw the
  // request: safe to retry) is left out here; the backend resets a POST
  // it has read (not safe: the upstream may have acted on it).
  const int refusing = free_port();
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
              "] }\n"
              "  modern:\n    endpoints: [127.0.0.1:" +
              std::to_string(refusing) +
              "]\n    eject: { consecutive_failures: 0 }\n"
              "    breaker: { min_requests: 3, failure_rate: 100%, open_for: 1m, fallback: legacy "
              "}\n"
              "  posts:\n    endpoints: [" +
              modern.address() +
              "]\n    eject: { consecutive_failures: 0 }\n"
              "    breaker: { min_requests: 2, failure_rate: 100%, open_for: 1m, fallback: legacy "
              "}\n"
              "routes:\n"
              "  - { name: posts, match: { method: POST }, to: posts }\n"
              "  - { name: all, to: modern }\n");
  // A connect error: the first two are answered 502 (the retry found no
  // other endpoint of modern); the third opens the breaker and its retry
  // goes to legacy.
  EXPECT_EQ(status_of(proxy.get("/echo/1")), 502);
  EXPECT_EQ(status_of(proxy.get("/echo/2")), 502);
  const std::string third = proxy.get("/echo/3");
  EXPECT_EQ(status_of(third), 200) << third;
  EXPECT_EQ(backend_of(third), "legacy");

  // A POST the upstream read and reset: the second opens the breaker, but
  // is not sent again anywhere.
  const std::string post =
      "POST /reset HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n"
      "Connection: close\r\n\r\nhi";
  EXPECT_EQ(status_of(round_trip(proxy.port(), post)), 502);
  EXPECT_EQ(status_of(round_trip(proxy.port(), post)), 502);
  const std::string next = round_trip(proxy.port(),
                                      "POST /echo HTTP/1.1\r\nHost: shop\r\nContent-Length: 2\r\n"
                                      "Connection: close\r\n\r\nhi");
  EXPECT_EQ(backend_of(next), "legacy") << next;
  const Outcome end = proxy.stop();
  EXPECT_EQ(occurrences(end.err, "event=breaker_opened"), 2u) << end.err;
}

TEST(ProxyBreaker, AReloadKeepsAnUnchangedBreakerAndRestartsAChangedOne) {
  FailSwitch modern_fails;
  Backend legacy("legacy"), modern("modern", modern_fails.env());
  const auto config = [&](const std::string& open_for) {
    return "pools:\n  legacy: { endpoints: [" + legacy.address() +
           "] }\n"
           "  modern:\n    endpoints: [" +
           modern.address() +
           "]\n    eject: { consecutive_failures: 0 }\n"
           "    breaker: { min_requests: 2, open_for: " +
           open_for +
           ", fallback: legacy }\n"
           "routes: [ { name: all, to: modern } ]\n";
  };
  Proxy proxy(config("1m"));
  modern_fails.fail("500");
  proxy.get("/echo/1");
  proxy.get("/echo/2");
  ASSERT_EQ(backend_of(proxy.get("/echo/3")), "legacy");
  modern_fails.heal();

  // The file touched, the breaker the same: still open. (The file watcher
  // may reload before the POST does; the log has the summary either way.)
  proxy.write_config(config("1m") + "# touched\n");
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/reload")), 200);
  EXPECT_EQ(backend_of(proxy.get("/echo/4")), "legacy");

  proxy.write_config(config("2m"));
  ASSERT_EQ(status_of(proxy.admin("POST", "/admin/reload")), 200);
  EXPECT_EQ(backend_of(proxy.get("/echo/5")), "modern");
  const Outcome end = proxy.stop();
  EXPECT_NE(end.err.find("breaker of 'modern' kept (open)"), std::string::npos) << end.err;
  EXPECT_NE(end.err.find("breaker of 'modern' starts closed (its config changed)"),
            std::string::npos)
      << end.err;
}

}  // namespace
}  // namespace proxytest
