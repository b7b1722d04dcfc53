// core/thread_cache.hpp — run tasks on parked threads instead of new ones.
//
// A btest login used to cost two thread creations (the connection's handler and
// the test's data thread): copy_process, a new stack and the scheduler's
// wake_up_new_task were a third of the server's CPU per login (perf, MD5 login
// benchmark). ThreadCache keeps finished threads parked on a condition variable
// and hands them the next task, so a burst of logins reuses a handful of threads.
//
// Each run() returns a Task handle whose join() waits for that task only, like
// std::thread::join. Threads beyond `max_idle` parked ones exit when their task
// ends, and a parked thread exits after `idle_timeout` without work. The process-wide cache (shared()) lives until exit
// and is never destroyed: parked threads need no teardown, and no static destructor can race a task that is still
// running. Thread-safe. Control plane: run() allocates.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace linerate::core {

class ThreadCache {
 public:
  /// Completion handle of one task.
  class Task {
   public:
    Task() = default;
    /// Wait until the task has returned. Once per task, like std::thread::join.
    void join();
    [[nodiscard]] bool joinable() const { return state_ != nullptr; }
    /// True once the task has returned (join() will not block).
    [[nodiscard]] bool done() const;

   private:
    friend class ThreadCache;
    struct State {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    };
    std::shared_ptr<State> state_;  // shared by the handle and the worker running the task
  };

  /// At most max_idle threads stay parked; a parked thread exits after
  /// idle_timeout without work, so a server returns to its idle thread count
  /// after a burst.
  explicit ThreadCache(std::size_t max_idle, std::chrono::milliseconds idle_timeout = std::chrono::seconds(10))
      : max_idle_(max_idle), idle_timeout_(idle_timeout) {}
  ~ThreadCache();
  ThreadCache(const ThreadCache&) = delete;
  ThreadCache& operator=(const ThreadCache&) = delete;

  /// The process-wide cache (up to 256 parked threads, each for at most 10 s).
  static ThreadCache& shared();

  /// Run fn on a parked thread, or on a new one when none is parked. fn must not
  /// throw. Throws std::system_error when no thread can be created (as std::thread).
  Task run(std::function<void()> fn);

  /// Threads parked right now (tests, diagnostics).
  [[nodiscard]] std::size_t idle() const;
  /// Threads ever created (tests, diagnostics).
  [[nodiscard]] std::size_t created() const;

 private:
  struct Worker {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    std::function<void()> fn;
    std::shared_ptr<Task::State> state;
    bool has_task = false;
    bool quit = false;
    bool exited = false;  // the thread has left its loop: join it
  };
  void loop(Worker& w) noexcept;
  void reap_locked();

  const std::size_t max_idle_;
  const std::chrono::milliseconds idle_timeout_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_;  // every live (or not yet joined) worker
  std::vector<Worker*> idle_;                     // parked, waiting for a task
  std::size_t created_ = 0;
  bool closing_ = false;
};

/// While alive, the calling thread runs as SCHED_BATCH and 5 nice levels below
/// where it was. SCHED_BATCH: a thread that wakes up (a login's handshake, a
/// status tick) preempts it at once instead of waiting for its time slice to
/// end. The nice levels: a login waiting for CPU gets about three times the weight
/// of a busy data thread, so login latency holds while tests run at full speed
/// (issue 4: EC-SRP5 p99 10-12 ms -> 8 ms under a full-speed TCP test). The data
/// path is never starved: it keeps all CPU that logins do not use. Restores both
/// on destruction, since cached threads run other tasks next; a thread that may
/// not lower its nice value again (no CAP_SYS_NICE) retires after its task.
class DataPlaneScheduling {
 public:
  DataPlaneScheduling();
  ~DataPlaneScheduling();
  DataPlaneScheduling(const DataPlaneScheduling&) = delete;
  DataPlaneScheduling& operator=(const DataPlaneScheduling&) = delete;

 private:
  bool batch_ = false;
  bool niced_ = false;
  int old_nice_ = 0;
};

}  // namespace linerate::core
