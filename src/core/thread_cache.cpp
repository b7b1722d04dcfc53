// core/thread_cache.cpp — see thread_cache.hpp.
#include "core/thread_cache.hpp"

#include <algorithm>

#include <cerrno>

#include <sched.h>
#include <sys/resource.h>

namespace linerate::core {

namespace {
// Nice levels a data-plane loop runs below the control plane: a waiting login
// then gets about three times the CPU weight of a busy data thread.
constexpr int kDataPlaneNice = 5;
// Set when a task could not undo its DataPlaneScheduling (an unprivileged
// process may raise its nice value but not lower it back): the thread then
// exits after the task instead of carrying the lower priority into the next one.
thread_local bool t_retire = false;
}  // namespace

void ThreadCache::Task::join() {
  if (!state_) {
    return;
  }
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->done; });
  lock.unlock();
  state_.reset();
}

bool ThreadCache::Task::done() const {
  if (!state_) {
    return true;
  }
  std::lock_guard lock(state_->mu);
  return state_->done;
}

ThreadCache& ThreadCache::shared() {
  // Never destroyed (see the header): a leaked singleton, reachable to LSan.
  static ThreadCache* cache = new ThreadCache(256, std::chrono::seconds(10));
  return *cache;
}

ThreadCache::~ThreadCache() {
  std::vector<std::unique_ptr<Worker>> all;
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    all.swap(workers_);
    idle_.clear();
  }
  for (auto& w : all) {
    {
      std::lock_guard lock(w->mu);
      w->quit = true;
    }
    w->cv.notify_one();
  }
  for (auto& w : all) {
    if (w->thread.joinable()) {
      w->thread.join();
    }
  }
}

void ThreadCache::reap_locked() {
  // Join workers that left their loop (beyond max_idle); they are at their very
  // last instructions, so the joins are immediate.
  auto it = std::partition(workers_.begin(), workers_.end(), [](const std::unique_ptr<Worker>& w) {
    std::lock_guard lock(w->mu);
    return !w->exited;
  });
  for (auto e = it; e != workers_.end(); ++e) {
    (*e)->thread.join();
  }
  workers_.erase(it, workers_.end());
}

ThreadCache::Task ThreadCache::run(std::function<void()> fn) {
  Task task;
  task.state_ = std::make_shared<Task::State>();
  std::unique_lock lock(mu_);
  if (!idle_.empty()) {
    Worker* w = idle_.back();
    idle_.pop_back();
    lock.unlock();
    {
      std::lock_guard wl(w->mu);
      w->fn = std::move(fn);
      w->state = task.state_;
      w->has_task = true;
    }
    w->cv.notify_one();
    return task;
  }
  reap_locked();
  auto w = std::make_unique<Worker>();
  Worker* wp = w.get();
  wp->fn = std::move(fn);
  wp->state = task.state_;
  wp->has_task = true;
  wp->thread = std::thread([this, wp] { loop(*wp); });
  workers_.push_back(std::move(w));
  ++created_;
  return task;
}

void ThreadCache::loop(Worker& w) noexcept {
  for (;;) {
    std::function<void()> fn;
    std::shared_ptr<Task::State> state;
    {
      std::unique_lock lock(w.mu);
      while (!w.cv.wait_for(lock, idle_timeout_, [&] { return w.has_task || w.quit; })) {
        // Parked for idle_timeout: leave, unless run() has just picked us (then
        // the task is on its way: keep waiting for it).
        lock.unlock();
        {
          std::lock_guard pool(mu_);
          auto it = std::find(idle_.begin(), idle_.end(), &w);
          if (it != idle_.end()) {
            idle_.erase(it);
            std::lock_guard again(w.mu);
            w.exited = true;
            return;
          }
        }
        lock.lock();
      }
      if (!w.has_task) {
        w.exited = true;
        return;
      }
      fn = std::move(w.fn);
      state = std::move(w.state);
      w.has_task = false;
    }
    fn();
    fn = nullptr;  // release what the task captured before anyone waits on us
    const bool retire = t_retire;
    {
      std::lock_guard lock(state->mu);
      state->done = true;
    }
    state->cv.notify_all();
    state.reset();
    // Park, unless enough threads are parked already (or the cache is closing).
    std::lock_guard lock(mu_);
    if (closing_ || retire || idle_.size() >= max_idle_) {
      std::lock_guard wl(w.mu);
      w.exited = true;
      return;
    }
    idle_.push_back(&w);
  }
}

std::size_t ThreadCache::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::size_t ThreadCache::created() const {
  std::lock_guard lock(mu_);
  return created_;
}

DataPlaneScheduling::DataPlaneScheduling() {
  sched_param p{};
  batch_ = ::sched_setscheduler(0, SCHED_BATCH, &p) == 0;  // 0 = the calling thread on Linux
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, 0);  // this thread, on Linux
  if (errno == 0) {
    old_nice_ = nice;
    niced_ = ::setpriority(PRIO_PROCESS, 0, std::min(nice + kDataPlaneNice, 19)) == 0;
  }
}

DataPlaneScheduling::~DataPlaneScheduling() {
  if (batch_) {
    sched_param p{};
    (void)::sched_setscheduler(0, SCHED_OTHER, &p);
  }
  if (niced_ && ::setpriority(PRIO_PROCESS, 0, old_nice_) != 0) {
    t_retire = true;
  }
}

}  // namespace linerate::core
