// ferry proxy run the way Kubernetes runs it (deploy/kubernetes/): the config
// in a ConfigMap volume, which the kubelet updates by a symlink swap, and the
// admin token from a Secret through FERRY_ADMIN_TOKEN. Real backends
// (tests/http_backend.py), the real binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include "proxy_harness.h"

namespace proxytest {
namespace {

// A directory laid out as the kubelet lays out a ConfigMap volume:
//   ..2026_01_01_00_00_00.1/proxy.yaml   the data, in a timestamped directory
//   ..data -> ..2026_01_01_00_00_00.1    the current version
//   proxy.yaml -> ..data/proxy.yaml      what the container is given
// An update (the kubelet's AtomicWriter) writes a new timestamped directory,
// points a new symlink ..data_tmp at it, renames ..data_tmp over ..data (one
// atomic step) and removes the old directory. proxy.yaml itself never changes.
class ConfigMapVolume {
 public:
  ConfigMapVolume() : dir_(scratch_dir() / ("configmap_" + std::to_string(++count_))) {
    fs::create_directories(dir_);
  }
  fs::path file() const { return dir_ / "proxy.yaml"; }

  void publish(const std::string& text) {
    const std::string version = "..2026_01_01_00_00_0" + std::to_string(++versions_) + ".1";
    fs::create_directories(dir_ / version);
    std::ofstream(dir_ / version / "proxy.yaml") << text;
    const fs::path old = fs::is_symlink(dir_ / "..data") ? fs::read_symlink(dir_ / "..data") : "";
    fs::create_symlink(version, dir_ / "..data_tmp");
    fs::rename(dir_ / "..data_tmp", dir_ / "..data");
    if (!fs::exists(dir_ / "proxy.yaml", ignored_))
      fs::create_symlink("..data/proxy.yaml", dir_ / "proxy.yaml");
    if (!old.empty()) fs::remove_all(dir_ / old);
  }

 private:
  static inline int count_ = 0;
  fs::path dir_;
  int versions_ = 0;
  std::error_code ignored_;
};

std::string config(int port, int admin, const Backend& legacy, const Backend& modern,
                   const std::string& pool) {
  return "listen: 127.0.0.1:" + std::to_string(port) +
         "\nadmin: { listen: 127.0.0.1:" + std::to_string(admin) +
         " }\npools:\n  legacy: { endpoints: [" + legacy.address() +
         "] }\n  modern: { endpoints: [" + modern.address() +
         "] }\nroutes: [ { name: all, to: " + pool + " } ]\n";
}

std::string get(int port) {
  return round_trip(port, "GET /echo HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n");
}

// Polls until a request lands on `backend`, for up to `limit`.
bool lands_on(int port, const std::string& backend, std::chrono::milliseconds limit = 10s) {
  return eventually([&] { return backend_of(get(port)) == backend; }, limit, 50ms);
}

TEST(ProxyConfigMap, ASymlinkSwapOfTheVolumeIsReloaded) {
  Backend legacy("legacy"), modern("modern");
  const int port = free_port(), admin = free_port();
  ConfigMapVolume volume;
  volume.publish(config(port, admin, legacy, modern, "legacy"));
  Child ferry({FERRY_BINARY, "proxy", "--config", volume.file().string()}, output_prefix());
  ASSERT_TRUE(wait_for_port(port)) << ferry.wait().err;
  EXPECT_EQ(backend_of(get(port)), "legacy");
  // "legacy" and "modern" have the same length: the file's size does not
  // change, only what ..data points at.
  volume.publish(config(port, admin, legacy, modern, "modern"));
  EXPECT_TRUE(lands_on(port, "modern"));
  // And back, as a rollback through the ConfigMap would.
  volume.publish(config(port, admin, legacy, modern, "legacy"));
  EXPECT_TRUE(lands_on(port, "legacy"));
  ferry.signal(SIGTERM);
  const Outcome end = ferry.wait();
  EXPECT_EQ(end.status, 0) << end.err;
  EXPECT_EQ(occurrences(end.err, "event=reloaded trigger=\"file change\""), 2u) << end.err;
}

// The token from a Secret guards the admin API; the kubelet's probes need none.
TEST(ProxyConfigMap, TheAdminTokenComesFromTheEnvironment) {
  Backend legacy("legacy"), modern("modern");
  const int port = free_port(), admin = free_port();
  ConfigMapVolume volume;
  volume.publish(config(port, admin, legacy, modern, "legacy"));
  Child ferry({FERRY_BINARY, "proxy", "--config", volume.file().string()}, output_prefix(),
              {{"FERRY_ADMIN_TOKEN", "from-a-secret\n"}});
  ASSERT_TRUE(wait_for_port(admin)) << ferry.wait().err;
  auto call = [admin](const std::string& path, const std::string& headers = "") {
    return status_of(round_trip(
        admin, "GET " + path + " HTTP/1.1\r\nHost: a\r\n" + headers + "Connection: close\r\n\r\n"));
  };
  EXPECT_EQ(call("/admin/state"), 401);
  EXPECT_EQ(call("/metrics", "Authorization: Bearer wrong\r\n"), 401);
  EXPECT_EQ(call("/metrics", "Authorization: Bearer from-a-secret\r\n"), 200);
  EXPECT_EQ(call("/healthz"), 200);
  EXPECT_EQ(call("/readyz"), 200);
  // The environment is read once, at start: a reload keeps the token.
  volume.publish(config(port, admin, legacy, modern, "modern"));
  EXPECT_TRUE(lands_on(port, "modern"));
  EXPECT_EQ(call("/admin/state", "Authorization: Bearer from-a-secret\r\n"), 200);
  // A token in the file as well is refused, with where it is.
  std::ofstream(scratch_dir() / "both.yaml")
      << "listen: 127.0.0.1:1\nadmin: { listen: 127.0.0.1:2, token: t }\n"
         "pools: { a: { endpoints: [127.0.0.1:3] } }\nroutes: [ { name: r, to: a } ]\n";
  const Outcome both =
      run({FERRY_BINARY, "proxy", "--check", "--config", (scratch_dir() / "both.yaml").string()},
          {{"FERRY_ADMIN_TOKEN", "x"}});
  EXPECT_EQ(both.status, 3);
  EXPECT_NE(both.err.find("both.yaml:2:38: error: admin.token: the environment gives one too"),
            std::string::npos)
      << both.err;
  ferry.signal(SIGTERM);
  EXPECT_EQ(ferry.wait().status, 0);
}

}  // namespace
}  // namespace proxytest
