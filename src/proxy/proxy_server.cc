#include "proxy/proxy_server.h"

#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <thread>

#include "core/log.h"
#include "proxy/access_log.h"
#include "proxy/admin_api.h"
#include "proxy/health_checker.h"
#include "proxy/hold_controller.h"
#include "proxy/rollout_controller.h"
#include "proxy/worker.h"

namespace ferry::proxy {

namespace {

namespace asio = boost::asio;
using error_code = boost::system::error_code;

constexpr auto kWatchInterval = std::chrono::seconds(1);
constexpr auto kFlushInterval = std::chrono::milliseconds(200);

// What identifies a version of the config file: a rewrite in place changes
// the time and size, an editor's save-by-rename changes the inode.
struct FileStamp {
  int64_t mtime_ns = 0;
  int64_t size = -1;
  uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stamp_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size,
          st.st_ino};
}

std::string summary_of(const ProxyConfig& c) {
  size_t endpoints = 0;
  for (const auto& p : c.pools) endpoints += p.endpoints.size();
  return fmt::format("{} route{}, {} pool{}, {} endpoint{}", c.routes.size(),
                     c.routes.size() == 1 ? "" : "s", c.pools.size(),
                     c.pools.size() == 1 ? "" : "s", endpoints, endpoints == 1 ? "" : "s");
}

// Settings a running proxy cannot change; a reload says so instead of
// pretending it applied them.
std::string restart_notes(const ProxyConfig& running, const ProxyConfig& next) {
  std::string notes;
  auto note = [&](bool changed, const char* what) {
    if (changed) notes += fmt::format("; {} changed: takes effect after a restart", what);
  };
  note(running.listen.text != next.listen.text, "listen");
  note(running.threads != next.threads, "threads");
  note((running.admin.listen ? running.admin.listen->text : "") !=
               (next.admin.listen ? next.admin.listen->text : "") ||
           running.admin.token != next.admin.token,
       "admin");
  note(running.access_log != next.access_log, "access_log");
  note(running.state_dir != next.state_dir, "state_dir");
  return notes;
}

class ProxyServer {
 public:
  ProxyServer(const ProxyRunOptions& options, ProxyConfig config, std::unique_ptr<ProxyState> state,
              std::unique_ptr<AccessLog> log, std::unique_ptr<RolloutStore> rollout_store)
      : options_(options),
        started_config_(std::move(config)),
        state_(std::move(state)),
        access_log_(std::move(log)),
        signals_(control_, SIGINT, SIGTERM, SIGHUP),
        watch_timer_(control_),
        flush_timer_(control_),
        health_(control_, *state_),
        rollouts_(control_, *state_, std::move(rollout_store)),
        holds_(control_, *state_, workers_) {}

  Result<void> run() {
    // 0. The rollouts, continuing from their stored state: weights are set
    //    before the first request.
    if (auto ok = rollouts_.restore(); !ok) return ok;
    // 1. Workers bind the listen address (port 0 picks one, shared by all).
    HostPort listen = started_config_.listen;
    for (int i = 0; i < started_config_.threads; ++i) {
      workers_.push_back(std::make_unique<Worker>(*state_, access_log_.get(), i));
      if (auto ok = workers_.back()->listen(listen); !ok) return ok;
      listen.port = workers_.front()->bound_port();
    }
    // 2. The admin API.
    std::string admin_text = "no admin API";
    if (started_config_.admin.listen) {
      admin_ = std::make_unique<AdminApi>(
          control_, *state_, started_config_.admin.token, [this] { return reload("admin API"); },
          &rollouts_, &holds_);
      if (auto ok = admin_->listen(*started_config_.admin.listen); !ok) return ok;
      admin_text = fmt::format("admin on {}:{}",
                               started_config_.admin.listen->host.empty()
                                   ? "127.0.0.1"
                                   : started_config_.admin.listen->host,
                               admin_->bound_port());
    }
    // 3. Health checks, the rollouts' timer, reload triggers, signals.
    health_.start();
    rollouts_.run();
    stamp_ = stamp_of(options_.config_path);
    if (options_.watch_file) watch();
    if (access_log_) flush();
    wait_for_signal();
    // 4. The workers, one thread each.
    std::vector<std::thread> threads;
    for (auto& w : workers_) threads.emplace_back([&w] { w->run(); });
    log_info(fmt::format("proxy: listening on {}:{} with {} thread{}; {}; {} (config {})",
                         listen.host.empty() ? "0.0.0.0" : listen.host, listen.port,
                         workers_.size(), workers_.size() == 1 ? "" : "s", admin_text,
                         summary_of(started_config_), options_.config_path));
    control_.run();
    // 5. Shut down: the workers drained (or were cut off) and returned.
    for (auto& t : threads) t.join();
    if (access_log_) access_log_->flush();
    log_info("proxy: stopped");
    return {};
  }

 private:
  void wait_for_signal() {
    signals_.async_wait([this](const error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        (void)reload("SIGHUP");
        wait_for_signal();
        return;
      }
      log_info(fmt::format("proxy: {} received; finishing requests in flight (up to {} ms)",
                           signal == SIGINT ? "SIGINT" : "SIGTERM", options_.drain_ms));
      for (auto& w : workers_) w->shutdown(options_.drain_ms);
      if (admin_) admin_->close();
      watch_timer_.cancel();
      flush_timer_.cancel();
      rollouts_.stop();
      signals_.cancel();
      // Health checks stop with the control loop.
      control_.stop();
    });
  }

  void watch() {
    watch_timer_.expires_after(kWatchInterval);
    watch_timer_.async_wait([this](const error_code& ec) {
      if (ec) return;
      const FileStamp now = stamp_of(options_.config_path);
      if (!(now == stamp_) && now.size >= 0) (void)reload("file change");
      watch();
    });
  }

  void flush() {
    flush_timer_.expires_after(kFlushInterval);
    flush_timer_.async_wait([this](const error_code& ec) {
      if (ec) return;
      access_log_->flush();
      flush();
    });
  }

  Result<std::string> reload(const char* trigger) {
    stamp_ = stamp_of(options_.config_path);
    auto config = load_proxy_config(options_.config_path, options_.secrets);
    if (config) {
      if (std::string why = rollouts_.refusal(*config); !why.empty()) {
        config = fail(ErrorCode::kInvalidInput, why);
      }
    }
    Result<std::string> summary =
        config ? state_->reload(*config) : Result<std::string>(tl::unexpected(config.error()));
    if (!summary) {
      state_->reload_failures.fetch_add(1);
      log_error(
          fmt::format("proxy: event=reload_refused trigger={} detail={}: the running config stays",
                      log_value(trigger), log_value(summary.error().to_string())));
      return summary;
    }
    for (const auto& w : config->warnings) log_warn(w);
    *summary += restart_notes(started_config_, *config);
    state_->reloads.fetch_add(1);
    health_.start();
    *summary += rollouts_.sync();
    *summary += holds_.sync();
    log_info(fmt::format("proxy: event=reloaded trigger={} {}", log_value(trigger), *summary));
    return summary;
  }

  const ProxyRunOptions& options_;
  ProxyConfig started_config_;
  std::unique_ptr<ProxyState> state_;
  std::unique_ptr<AccessLog> access_log_;
  asio::io_context control_{1};
  asio::signal_set signals_;
  asio::steady_timer watch_timer_;
  asio::steady_timer flush_timer_;
  HealthChecker health_;
  RolloutController rollouts_;
  std::unique_ptr<AdminApi> admin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  HoldController holds_;  // reaches the workers through workers_
  FileStamp stamp_;
};

// Every connection is a file descriptor (two while proxied), and the usual
// soft limit of 1,024 would refuse clients at about 500 proxied requests in
// flight. The hard limit is what the administrator allows; take all of it.
void raise_open_file_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  const rlim_t before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) == 0) {
    log_info(fmt::format("proxy: event=open_file_limit from={} to={}", before, limit.rlim_cur));
  }
}

}  // namespace

Result<std::string> check_proxy_config(const std::string& path, const ProxySecrets& secrets) {
  auto config = load_proxy_config(path, secrets);
  if (!config) return tl::unexpected(config.error());
  const std::string summary = summary_of(*config);
  auto state = ProxyState::create(*config);
  if (!state) return tl::unexpected(std::move(state.error()).with_context(path));
  std::string out = summary;
  for (const auto& w : config->warnings) out += "\n" + w;
  return out;
}

Result<void> run_proxy(const ProxyRunOptions& options) {
  auto config = load_proxy_config(options.config_path, options.secrets);
  if (!config) return tl::unexpected(config.error());
  for (const auto& w : config->warnings) log_warn(w);
  auto state = ProxyState::create(*config);
  if (!state) return tl::unexpected(std::move(state.error()).with_context(options.config_path));
  std::unique_ptr<AccessLog> log;
  if (!config->access_log.empty()) {
    auto opened = AccessLog::open(config->access_log);
    if (!opened) return tl::unexpected(opened.error());
    log = std::move(*opened);
  }
  std::unique_ptr<RolloutStore> rollout_store;
  if (!config->state_dir.empty()) {
    auto opened = RolloutStore::open(config->state_dir);
    if (!opened) return tl::unexpected(opened.error());
    rollout_store = std::make_unique<RolloutStore>(std::move(*opened));
  }
  // A client that disconnects must not kill the proxy with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  raise_open_file_limit();
  ProxyServer server(options, std::move(*config), std::move(*state), std::move(log),
                     std::move(rollout_store));
  return server.run();
}

}  // namespace ferry::proxy
