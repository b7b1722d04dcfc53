// btest/pro/web/server.hpp — the btest-pro dashboard: pages, JSON API, /metrics
// and /healthz over HTTP (cpp-httplib), next to the btest listener.
//
// Isolation from the tests it reports on (STYLE: control plane vs data plane):
// the HTTP side has its own threads (a bounded pool: when it is full, accept()
// waits, so a flood of requests queues in the kernel, not in memory) and its
// own two database connections; it reads the data plane only through the
// Monitor's atomics and the writer's pending-usage map. A hammered dashboard
// therefore slows itself, never a login, an admission or a transfer.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "btest/pro/monitor.hpp"
#include "btest/pro/pro_server.hpp"
#include "btest/pro/store.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro::web {

struct WebContext {
  const ServeConfig& cfg;  // web_listen, limits and btest settings shown
  /// --admin-token, or the first line of --admin-token-file; empty = admin access off.
  std::string admin_token;
  uint16_t btest_port = 0;
  Monitor& monitor;
  /// Usage the writer has counted but not yet committed (Writer::pending).
  std::function<UsageByWindow(const Principal&, const WindowStarts&)> pending;
  /// The calendar clock of the quota windows.
  std::function<std::chrono::system_clock::time_point()> now;
};

class WebServer {
 public:
  /// Open the database connections, bind cfg.web_listen and start serving.
  /// Errors name what failed (a bad address, a port in use, the database).
  static core::Result<std::unique_ptr<WebServer>> start(WebContext ctx);
  ~WebServer();  // stops and joins
  WebServer(const WebServer&) = delete;
  WebServer& operator=(const WebServer&) = delete;

  [[nodiscard]] uint16_t port() const;
  /// "127.0.0.1:8080" / "[::1]:8080"
  [[nodiscard]] std::string address() const;

  struct Impl;

 private:
  explicit WebServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace linerate::btest::pro::web
