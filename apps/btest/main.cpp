// apps/btest/main.cpp — btest entry point: parse (cli.cpp), run, map to an exit code.
// Exit codes: 0 ok, 1 runtime failure, 2 usage error, 3 authentication failed or required.
#include <malloc.h>
#include <pthread.h>
#include <cstdio>
#include <string>
#include <vector>

#include "btest/client.hpp"
#include "btest/server.hpp"
#include "cli.hpp"
#include "core/csv.hpp"
#include "core/interrupt.hpp"

namespace {

using namespace linerate;
using namespace linerate::btest::cli;

int run_server(ServerOptions opts, core::Interrupt& stop) {
  auto server = btest::Server::create(opts.config);
  if (!server && opts.default_listen) {
    // No IPv6 on this host: serve IPv4 alone rather than refuse to start.
    std::fprintf(stderr, "btest: IPv6 listener unavailable (%s); serving IPv4 only\n",
                 server.error().message().c_str());
    opts.config.listen = {"0.0.0.0"};
    server = btest::Server::create(opts.config);
  }
  if (!server) {
    std::fprintf(stderr, "btest: %s\n", server.error().message().c_str());
    return kExitFailure;
  }
  (*server)->run(stop);
  return kExitOk;
}

int run_client(const ClientOptions& opts, core::Interrupt& stop) {
  const auto& cfg = opts.config;
  std::optional<core::CsvAppender> csv;
  if (!opts.csv_path.empty()) {
    auto c = core::CsvAppender::open(opts.csv_path, btest::csv_header());
    if (!c) {
      std::fprintf(stderr, "btest: %s\n", c.error().message().c_str());
      return kExitFailure;
    }
    csv.emplace(std::move(*c));
  }
  const bool lines = !opts.quiet && !opts.json;
  if (lines) {
    char len_text[32];
    std::snprintf(len_text, sizeof(len_text), "%.1f s", static_cast<double>(cfg.duration.count()) / 1000.0);
    std::printf("Connecting to %s port %u: %s %s, %u connection%s, %s\n", cfg.host.c_str(), cfg.port,
                cfg.proto == btest::Proto::kUdp ? "UDP" : "TCP",
                std::string(btest::direction_name(cfg.direction)).c_str(), cfg.connections,
                cfg.connections == 1 ? "" : "s", cfg.duration.count() == 0 ? "until Ctrl-C" : len_text);
    std::fflush(stdout);
  }
  auto outcome = btest::run_client(cfg, stop, [&](const btest::TestRecord& r, const btest::IntervalSample& s) {
    if (lines) {
      std::printf("%s\n", btest::interval_line(r, s).c_str());
      std::fflush(stdout);
    }
  });
  for (const auto& w : outcome.warnings) {
    std::fprintf(stderr, "btest: warning: %s\n", w.c_str());
  }
  if (!outcome.started) {
    std::fprintf(stderr, "btest: %s\n", outcome.error.c_str());
    bool auth =
        outcome.failure == btest::ClientFailure::kAuthFailed || outcome.failure == btest::ClientFailure::kAuthRequired;
    return auth ? kExitAuth : kExitFailure;
  }
  const auto& rec = outcome.record;
  std::printf("%s", opts.json ? (btest::summary_json(rec) + "\n").c_str() : btest::summary_text(rec).c_str());
  if (csv) {
    if (auto r = csv->append(btest::csv_row(rec)); !r) {
      std::fprintf(stderr, "btest: %s\n", r.error().message().c_str());
      return kExitFailure;
    }
  }
  if (!rec.ok) {
    std::fprintf(stderr, "btest: %s\n", rec.end_reason.c_str());
  }
  return rec.ok ? kExitOk : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  Parsed parsed = parse_cli(args);
  switch (parsed.action) {
    case Parsed::Action::kPrint:
      std::fputs(parsed.text.c_str(), stdout);
      return parsed.exit_code;
    case Parsed::Action::kUsageError:
      std::fprintf(stderr, "btest: %s\nTry 'btest --help' for more information.\n", parsed.text.c_str());
      return parsed.exit_code;
    case Parsed::Action::kRunServer:
    case Parsed::Action::kRunClient:
      break;
  }
  core::Interrupt stop;
  core::install_signal_stop(stop);
  if (parsed.action == Parsed::Action::kRunServer) {
    // The server starts threads per connection; glibc caches freed stacks up to
    // ~40 MiB, i.e. only ~5 default 8 MiB stacks. 512 KiB stacks (ample: data
    // buffers live on the heap) keep hundreds cached, so a login burst does not
    // pay for mmap/munmap and cross-CPU TLB flushes per thread (btest_auth.sh).
    pthread_attr_t attr;
    if (pthread_getattr_default_np(&attr) == 0) {
      pthread_attr_setstacksize(&attr, 512 * 1024);
      pthread_setattr_default_np(&attr);
      pthread_attr_destroy(&attr);
    }
    // A fixed mmap threshold: every 256 KiB receive buffer is its own mapping and
    // goes back to the kernel when its test ends. With glibc's sliding threshold
    // they moved into the per-thread arenas after the first free and stayed there
    // (RSS +44 MB after three 500-test bursts of bench/load, +12 MB with this).
    (void)mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    return run_server(std::move(*parsed.server), stop);
  }
  return run_client(*parsed.client, stop);
}
