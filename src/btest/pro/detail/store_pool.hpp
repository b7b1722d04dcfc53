// btest/pro/detail/store_pool.hpp — a few Store connections shared by threads
// that query in parallel (logins and admissions; the dashboard's readers): no
// one mutex around the database (finding #3 of the btest-rs audit). A caller
// takes the first free connection, or waits for connection k = its turn.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

#include "btest/pro/store.hpp"

namespace linerate::btest::pro::detail {

class StorePool {
 public:
  explicit StorePool(std::vector<std::unique_ptr<Store>> stores) : slots_(stores.size()) {
    for (std::size_t i = 0; i < stores.size(); ++i) {
      slots_[i].store = std::move(stores[i]);
    }
  }
  /// Open `n` connections to `url` (Store::open).
  static core::Result<StorePool> open(const std::string& url, int n) {
    std::vector<std::unique_ptr<Store>> stores;
    for (int i = 0; i < n; ++i) {
      auto st = Store::open(url);
      if (!st) {
        return tl::unexpected(st.error());
      }
      stores.push_back(std::move(*st));
    }
    return StorePool(std::move(stores));
  }
  StorePool(StorePool&& other) noexcept : slots_(std::move(other.slots_)) {}

  /// f(Store&) on one connection, which no other thread uses meanwhile.
  template <typename F>
  auto with(F&& f) {
    for (Slot& s : slots_) {
      std::unique_lock lock(s.mu, std::try_to_lock);
      if (lock.owns_lock()) {
        return f(*s.store);
      }
    }
    Slot& s = slots_[next_.fetch_add(1, std::memory_order_relaxed) % slots_.size()];
    std::lock_guard lock(s.mu);
    return f(*s.store);
  }

 private:
  struct Slot {
    std::mutex mu;
    std::unique_ptr<Store> store;
  };
  std::vector<Slot> slots_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace linerate::btest::pro::detail
