// ferry run ui PLAN end to end: the real binary serves a run's dashboard
// from a journal written here through the library (as the engine writes
// it), next to a real `ferry proxy` with real backends, and real HTTP
// clients on loopback read it: the snapshot, the event stream as the
// journal changes, commands queued for the engine (seen by `ferry run
// status`), tokens, and a proxy that does not answer.
#include "run_dashboard_harness.h"

namespace {

using namespace dashboardtest;

using RunDashboard = RunScenario;

TEST_F(RunDashboard, ServesTheSnapshotAndStreamsEachChange) {
  Backend legacy("legacy"), modern("modern");
  Proxy proxy("pools:\n  legacy: { endpoints: [" + legacy.address() +
              "] }\n  modern: { endpoints: [" + modern.address() +
              "] }\nroutes:\n  - name: users\n"
              "    split: [ { pool: legacy, weight: 90 }, { pool: modern, weight: 10 } ]\n");
  for (int i = 0; i < 20; ++i) proxy.get("/users/" + std::to_string(i));
  const ferry::run::Plan plan = start_run(proxy.admin_port());
  Dashboard ui(plan_file_);
  ASSERT_NE(ui.port(), 0) << ui.wait().err;

  const std::string status = ui.request("GET", "/api/status");
  ASSERT_EQ(status_of(status), 200) << status;
  EXPECT_EQ(header_of(status, "Content-Type"), "application/json");
  const ferry::YamlNode doc = json(body_of(status));
  EXPECT_EQ(doc.find("name")->scalar(), "shop-users");
  EXPECT_EQ(doc.find("state")->scalar(), "waiting");
  ASSERT_EQ(doc.find("steps")->size(), 4u);
  EXPECT_EQ((*doc.find("steps"))[0].find("detail")->scalar(), "36 tables, 250048 rows");
  EXPECT_NE((*doc.find("steps"))[0].find("started_at")->scalar(), "");
  EXPECT_EQ((*doc.find("databases"))[0].find("state")->scalar(), "none");
  const ferry::YamlNode& p = *doc.find("proxy");
  EXPECT_EQ(p.find("ok")->scalar(), "true") << p.find("error")->scalar();
  const ferry::YamlNode& users = (*p.find("routes"))[0];
  EXPECT_EQ(users.find("name")->scalar(), "users");
  EXPECT_EQ((*users.find("pools"))[0].find("weight")->scalar(), "90");
  EXPECT_EQ((*users.find("pools"))[1].find("pool")->scalar(), "modern");

  // The page: one document, no resource from elsewhere.
  const std::string page = ui.request("GET", "/");
  EXPECT_EQ(status_of(page), 200);
  EXPECT_NE(header_of(page, "Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(header_of(page, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(body_of(page).find("src=\"http"), std::string::npos);
  EXPECT_EQ(body_of(page).find("href=\"http"), std::string::npos);

  // The event stream: a snapshot at once, another when the journal changes.
  RawClient events(ui.port());
  events.send("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  std::string stream = events.read(5s, "event: snapshot", 1);
  EXPECT_EQ(header_of(stream, "Content-Type"), "text/event-stream");
  EXPECT_EQ(last_snapshot(stream).find("state")->scalar(), "waiting");
  {
    auto journal = ferry::run::RunJournal::open_existing(plan);
    ASSERT_TRUE(journal);
    set_step(*journal, plan, 2, ferry::run::StepState::kDone, "approve by alice");
    set_step(*journal, plan, 3, ferry::run::StepState::kRunning, "");
    ASSERT_TRUE(journal->event("command", "command=approve who=alice result=applied"));
  }
  const bool changed = eventually(
      [&] {
        stream += events.read(200ms);
        const ferry::YamlNode* state = last_snapshot(stream).find("state");
        return state && state->scalar() == "running";
      },
      5s);
  EXPECT_TRUE(changed) << stream;
  const ferry::YamlNode latest = last_snapshot(stream);
  EXPECT_EQ((*latest.find("steps"))[3].find("state")->scalar(), "running");
  EXPECT_EQ((*latest.find("events"))[1].find("detail")->scalar(),
            "command=approve who=alice result=applied");

  // Stopped by a signal: cleanly, with the stream closed.
  Outcome stopped = ui.stop();
  EXPECT_EQ(stopped.status, 0) << stopped.err;
  EXPECT_NE(stopped.err.find("run: dashboard stopped"), std::string::npos) << stopped.err;
}

TEST_F(RunDashboard, ACommandIsQueuedForTheEngineWithWhoGaveIt) {
  start_run(free_port());
  Dashboard ui(plan_file_);
  ASSERT_NE(ui.port(), 0) << ui.wait().err;
  const std::string json_body = "Content-Type: application/json\r\n";

  // What a form on another site could send: no X-Ferry header.
  EXPECT_EQ(status_of(ui.request("POST", "/api/approve", json_body, "{}")), 403);
  EXPECT_EQ(
      status_of(ui.request("POST", "/api/approve",
                           json_body + "X-Ferry: 1\r\nOrigin: http://evil.example\r\n", "{}")),
      403);
  EXPECT_EQ(status_of(ui.request("GET", "/api/approve")), 405);
  EXPECT_EQ(status_of(ui.request("POST", "/api/approve", json_body + "X-Ferry: 1\r\n",
                                 "{\"who\": \"\"}")),
            400);

  const std::string approved =
      ui.request("POST", "/api/approve", json_body + "X-Ferry: 1\r\n", "{\"who\": \"alice\"}");
  ASSERT_EQ(status_of(approved), 200) << approved;
  EXPECT_EQ(json(body_of(approved)).find("who")->scalar(), "alice");
  EXPECT_EQ(status_of(ui.request("POST", "/api/abort", "X-Ferry: 1\r\n")), 200);

  Outcome status = run({FERRY_BINARY, "run", "status", plan_file_, "-f", "json"});
  ASSERT_EQ(status.status, 0) << status.err;
  const ferry::YamlNode doc = json(status.out);
  const ferry::YamlNode& queued = *doc.find("queued");
  ASSERT_EQ(queued.size(), 2u) << status.out;
  EXPECT_EQ(queued[0].find("command")->scalar(), "approve");
  EXPECT_EQ(queued[0].find("who")->scalar(), "alice");
  EXPECT_EQ(queued[1].find("command")->scalar(), "abort");
  EXPECT_EQ(queued[1].find("who")->scalar(), "dashboard");
  Outcome text = run({FERRY_BINARY, "run", "status", plan_file_});
  EXPECT_NE(text.out.find("approve by alice"), std::string::npos) << text.out;
  // And the dashboard shows them too.
  EXPECT_TRUE(eventually(
      [&] { return json(body_of(ui.request("GET", "/api/status"))).find("queued")->size() == 2; },
      3s));
}

TEST_F(RunDashboard, BeyondLoopbackATokenIsRequiredAndThenAskedOfEveryRequest) {
  start_run(free_port());
  Dashboard open(plan_file_, {"--listen", "0.0.0.0:0"});
  Outcome refused = open.wait();
  EXPECT_EQ(refused.status, 3) << refused.err;
  EXPECT_NE(refused.err.find("not a loopback address, so a token is required"), std::string::npos)
      << refused.err;

  const std::string token_file = (dir_ / "token").string();
  std::ofstream(token_file) << "s3cret\n";
  Dashboard ui(plan_file_, {"--listen", "0.0.0.0:0", "--token-file", token_file});
  ASSERT_NE(ui.port(), 0) << ui.wait().err;
  EXPECT_EQ(status_of(ui.request("GET", "/")), 200);  // the page: no data
  EXPECT_EQ(status_of(ui.request("GET", "/api/status")), 401);
  EXPECT_EQ(status_of(ui.request("GET", "/api/status", "Authorization: Bearer wrong\r\n")), 401);
  EXPECT_EQ(status_of(ui.request("GET", "/api/status", "Authorization: Bearer s3cret\r\n")), 200);
  EXPECT_EQ(status_of(ui.request("GET", "/events?token=wrong")), 401);
  RawClient events(ui.port());
  events.send("GET /events?token=s3cret HTTP/1.1\r\nHost: 10.0.0.1\r\n\r\n");
  EXPECT_EQ(status_of(events.read(5s, "event: snapshot")), 200);
  EXPECT_EQ(status_of(ui.request("POST", "/api/pause", "X-Ferry: 1\r\n")), 401);
  EXPECT_EQ(
      status_of(ui.request("POST", "/api/pause", "X-Ferry: 1\r\nAuthorization: Bearer s3cret\r\n")),
      200);
}

TEST_F(RunDashboard, AProxyThatDoesNotAnswerIsReportedWithoutHoldingThePage) {
  // A listener that never accepts: connections open, no answer ever comes.
  const int port = free_port();
  const int silent = socket(AF_INET, SOCK_STREAM, 0);
  const sockaddr_in a = loopback_address(port);
  ASSERT_EQ(bind(silent, reinterpret_cast<const sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(silent, 64), 0);
  start_run(port);
  Dashboard ui(plan_file_);
  ASSERT_NE(ui.port(), 0) << ui.wait().err;
  for (int i = 0; i < 3; ++i) {
    const auto before = std::chrono::steady_clock::now();
    const std::string status = ui.request("GET", "/api/status");
    EXPECT_LT(std::chrono::steady_clock::now() - before, 300ms);
    const ferry::YamlNode doc = json(body_of(status));
    EXPECT_EQ(doc.find("state")->scalar(), "waiting");
    EXPECT_EQ(doc.find("proxy")->find("ok")->scalar(), "false");
    // Whichever deadline fires first says so: the call's or the socket's.
    const std::string error = doc.find("proxy")->find("error")->scalar();
    EXPECT_NE(error.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << error;
    EXPECT_TRUE(error.find("no answer within") != std::string::npos ||
                error.find("timeout") != std::string::npos)
        << error;
    std::this_thread::sleep_for(400ms);
  }
  close(silent);
}

TEST_F(RunDashboard, NoRunNoDashboard) {
  write_plan(free_port());
  Dashboard ui(plan_file_);
  Outcome o = ui.wait();
  EXPECT_EQ(o.status, 4);
  EXPECT_NE(o.err.find("no run of plan 'shop-users' has started here"), std::string::npos) << o.err;
}

}  // namespace
