// tests/unit/core/thread_cache_test.cpp — core::ThreadCache and DataPlaneScheduling.
#include "core/thread_cache.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>

namespace linerate::core {
namespace {

// n tasks that are all running at once (each holds until all n were started),
// so each needs its own thread; returns when all have finished.
void run_overlapping(ThreadCache& cache, int n) {
  std::atomic<bool> release{false};
  std::vector<ThreadCache::Task> tasks;
  for (int i = 0; i < n; ++i) {
    tasks.push_back(cache.run([&] {
      for (int k = 0; k < 5000 && !release.load(); ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }));
  }
  release = true;
  for (auto& t : tasks) {
    t.join();
  }
}

TEST(ThreadCache, JoinWaitsForTheTask) {
  ThreadCache cache(4);
  std::atomic<bool> ran{false};
  auto t = cache.run([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ran = true;
  });
  EXPECT_TRUE(t.joinable());
  t.join();
  EXPECT_TRUE(ran.load());
  EXPECT_FALSE(t.joinable());
  EXPECT_TRUE(t.done());
}

TEST(ThreadCache, SequentialTasksReuseOneThread) {
  ThreadCache cache(4);
  std::set<std::thread::id> ids;
  for (int i = 0; i < 20; ++i) {
    std::thread::id id;
    auto t = cache.run([&] { id = std::this_thread::get_id(); });
    t.join();
    ids.insert(id);
    // The worker parks only after signalling completion: wait (bounded) until it has.
    for (int k = 0; k < 1000 && cache.idle() == 0; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  EXPECT_EQ(cache.created(), 1U);
  EXPECT_EQ(ids.size(), 1U);
}

TEST(ThreadCache, ConcurrentTasksGetTheirOwnThreads) {
  ThreadCache cache(8);
  std::atomic<int> inside{0};
  std::atomic<bool> release{false};
  std::vector<ThreadCache::Task> tasks;
  for (int i = 0; i < 5; ++i) {
    tasks.push_back(cache.run([&] {
      ++inside;
      for (int k = 0; k < 5000 && !release.load(); ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }));
  }
  for (int k = 0; k < 5000 && inside.load() < 5; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(inside.load(), 5);  // all five run at once: none waits for a free thread
  release = true;
  for (auto& t : tasks) {
    t.join();
  }
  EXPECT_EQ(cache.created(), 5U);
}

TEST(ThreadCache, ParksNoMoreThanMaxIdle) {
  ThreadCache cache(2);
  run_overlapping(cache, 6);
  for (int k = 0; k < 1000 && cache.idle() < 2; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(cache.idle(), 2U);
  // The next task reuses a parked thread; exited ones are reaped, not reused.
  auto t = cache.run([] {});
  t.join();
  EXPECT_EQ(cache.created(), 6U);
}

TEST(ThreadCache, ParkedThreadsExitAfterTheIdleTimeout) {
  ThreadCache cache(4, std::chrono::milliseconds(50));
  run_overlapping(cache, 3);
  for (int k = 0; k < 2000 && cache.idle() > 0; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(cache.idle(), 0U);
  // A new task after they left gets a new thread, and works.
  std::atomic<bool> ran{false};
  cache.run([&] { ran = true; }).join();
  EXPECT_TRUE(ran.load());
  EXPECT_EQ(cache.created(), 4U);
}

TEST(DataPlaneScheduling, SetsBatchAndLowerPriorityAndRestores) {
  std::thread th([] {
    ASSERT_EQ(sched_getscheduler(0), SCHED_OTHER);
    const int nice = getpriority(PRIO_PROCESS, 0);
    {
      DataPlaneScheduling batch;
      EXPECT_EQ(sched_getscheduler(0), SCHED_BATCH);
      EXPECT_EQ(getpriority(PRIO_PROCESS, 0), std::min(nice + 5, 19));
    }
    EXPECT_EQ(sched_getscheduler(0), SCHED_OTHER);
    EXPECT_EQ(getpriority(PRIO_PROCESS, 0), nice);
  });
  th.join();
}

TEST(DataPlaneScheduling, CachedThreadComesBackAtNormalPriority) {
  ThreadCache cache(2);
  int during = -100;
  int after = -100;
  cache
      .run([&] {
        DataPlaneScheduling batch;
        during = getpriority(PRIO_PROCESS, 0);
      })
      .join();
  for (int k = 0; k < 1000 && cache.idle() == 0; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  cache.run([&] { after = getpriority(PRIO_PROCESS, 0); }).join();
  EXPECT_EQ(after + 5, std::min(during, after + 5));
  EXPECT_EQ(cache.created(), 1U);  // as root the priority is restored and the thread reused
}

}  // namespace
}  // namespace linerate::core
