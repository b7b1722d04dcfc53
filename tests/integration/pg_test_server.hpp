// tests/integration/pg_test_server.hpp — a throwaway PostgreSQL server for tests.
//
// Starts a real server from Debian's postgresql package in a fresh temp
// directory: initdb (trust auth, no fsync), then `postgres` on a unix socket in
// that directory plus a free TCP port on 127.0.0.1. PostgreSQL refuses to run as
// root, so under root both run as the `postgres` user (fork, setgid/setuid,
// exec; the directory is chowned to it). The server is our child with
// PR_SET_PDEATHSIG, so it dies with the test process even on a crash; the
// destructor stops it (fast shutdown) and deletes the directory.
// create_database() gives each test its own database and a postgresql:// URL.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <libpq-fe.h>

namespace linerate::testing {

class PgTestServer {
 public:
  /// The running server, or nullptr with `why` set: "skip: ..." when the
  /// PostgreSQL binaries are not installed, otherwise the failure.
  static std::unique_ptr<PgTestServer> start(std::string& why) {
    std::string bin = find_bin_dir();
    if (bin.empty()) {
      why =
          "skip: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
          "(run scripts/install-deps: package postgresql)";
      return nullptr;
    }
    std::unique_ptr<PgTestServer> s(new PgTestServer());
    s->bin_ = bin;
    char tmpl[] = "/tmp/lr-pg-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
      why = "mkdtemp failed";
      return nullptr;
    }
    s->dir_ = tmpl;
    if (::geteuid() == 0) {
      const passwd* pw = ::getpwnam("postgres");
      if (pw == nullptr) {
        pw = ::getpwnam("nobody");
      }
      if (pw == nullptr) {
        why = "running as root and there is neither a 'postgres' nor a 'nobody' user to run PostgreSQL as";
        return nullptr;
      }
      s->uid_ = pw->pw_uid;
      s->gid_ = pw->pw_gid;
      s->drop_ = true;
      if (::chown(s->dir_.c_str(), s->uid_, s->gid_) != 0) {
        why = "cannot chown " + s->dir_;
        return nullptr;
      }
    }
    ::chmod(s->dir_.c_str(), 0700);
    const std::string data = s->dir_ + "/data";
    int rc = s->run({bin + "/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C",
                     "--no-sync", "--no-instructions"},
                    s->dir_ + "/initdb.log", /*wait=*/true);
    if (rc != 0) {
      why = "initdb failed (exit " + std::to_string(rc) + "): " + s->log_tail("initdb.log");
      return nullptr;
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      s->port_ = free_port();
      s->pid_ = s->run({bin + "/postgres", "-D", data, "-k", s->dir_, "-p", std::to_string(s->port_), "-c",
                        "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                        "full_page_writes=off", "-c", "max_connections=40", "-c", "shared_buffers=16MB"},
                       s->dir_ + "/server.log", /*wait=*/false);
      if (s->wait_ready()) {
        return s;
      }
      s->stop();
    }
    why = "postgres did not start: " + s->log_tail("server.log");
    return nullptr;
  }

  ~PgTestServer() {
    stop();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  [[nodiscard]] uint16_t port() const { return port_; }

  /// A new empty database; returns its postgresql:// URL (or "" on failure).
  std::string create_database() {
    std::string name = "t" + std::to_string(++databases_);
    PGconn* c = PQconnectdb(conninfo("postgres").c_str());
    bool ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
      PGresult* r = PQexec(c, ("CREATE DATABASE " + name).c_str());  // our own name, no user text
      ok = PQresultStatus(r) == PGRES_COMMAND_OK;
      PQclear(r);
    }
    PQfinish(c);
    return ok ? "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + name : std::string();
  }

 private:
  PgTestServer() = default;

  static std::string find_bin_dir() {
    std::error_code ec;
    std::string best;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
      std::string bin = e.path().string() + "/bin";
      if (::access((bin + "/initdb").c_str(), X_OK) == 0 && ::access((bin + "/postgres").c_str(), X_OK) == 0 &&
          bin > best) {
        best = bin;
      }
    }
    return best;
  }

  static uint16_t free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    uint16_t port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    ::close(fd);
    return port;
  }

  std::string conninfo(const std::string& db) const {
    return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db + " connect_timeout=3";
  }

  bool wait_ready() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // exited (e.g. port taken)
        return false;
      }
      if (PQping(conninfo("postgres").c_str()) == PQPING_OK) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  void stop() {
    if (pid_ <= 0) {
      return;
    }
    ::kill(pid_, SIGINT);  // fast shutdown
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    pid_ = -1;
  }

  // fork + (drop to the postgres user) + exec. wait: return the exit code;
  // otherwise return the child's pid.
  int run(const std::vector<std::string>& argv, const std::string& log, bool wait) {
    std::vector<char*> args;
    for (const auto& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      int devnull = ::open("/dev/null", O_RDONLY);
      if (devnull >= 0) {
        ::dup2(devnull, 0);
      }
      if (drop_) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid_) != 0 || ::setuid(uid_) != 0) {
          ::_exit(126);
        }
        if (fd >= 0 && ::fchown(fd, uid_, gid_) != 0) {
          // the log stays root's; harmless
        }
      }
      // After setuid (which clears it): die with the test process.
      ::prctl(PR_SET_PDEATHSIG, SIGQUIT);
      if (::getppid() != parent) {
        ::_exit(125);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    if (pid < 0) {
      return -1;
    }
    if (!wait) {
      return pid;
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string log_tail(const std::string& name) const {
    std::ifstream in(dir_ + "/" + name);
    std::string line;
    std::string last;
    while (std::getline(in, line)) {
      if (!line.empty()) {
        last = line;
      }
    }
    return last;
  }

  std::string bin_;
  std::string dir_;
  bool drop_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int databases_ = 0;
};

}  // namespace linerate::testing
