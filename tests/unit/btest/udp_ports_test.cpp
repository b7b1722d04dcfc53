// Unit tests for btest/udp_ports (spec §11.1): the lowest free port first, ports
// recycled when a test ends, busy ports skipped, exhaustion named. The bind
// callback is a fake (no sockets) except where a real bind(2) conflict is the point.
#include "btest/udp_ports.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

namespace linerate::btest {
namespace {

// A bind callback that records the ports it was asked for and hands back a real
// descriptor (a dup of stderr) in place of a bound socket.
struct FakeBinder {
  std::vector<uint16_t> asked;
  std::set<uint16_t> refuse;  // ports whose bind fails (held by another program)
  core::Result<core::Fd> operator()(uint16_t port) {
    asked.push_back(port);
    if (refuse.contains(port)) {
      return core::fail(std::errc::address_in_use, "binding 127.0.0.1:" + std::to_string(port));
    }
    int fd = ::dup(STDERR_FILENO);
    if (fd < 0) {
      return core::errno_error("dup");
    }
    return core::Fd(fd);
  }
};

core::Result<UdpPortLease> take(UdpPortPool& pool, FakeBinder& binder) {
  return pool.acquire([&binder](uint16_t p) { return binder(p); });
}

TEST(UdpPortPool, HandsOutLowestFreePortFirst) {
  UdpPortPool pool(2001, 2100);
  FakeBinder b;
  auto a = take(pool, b);
  auto c = take(pool, b);
  auto d = take(pool, b);
  ASSERT_TRUE(a && c && d);
  EXPECT_EQ(a->port(), 2001);
  EXPECT_EQ(c->port(), 2002);
  EXPECT_EQ(d->port(), 2003);
  EXPECT_TRUE(a->fd().valid());
  EXPECT_EQ(pool.in_use(), 3U);
  // Ports already leased are not offered to bind again.
  EXPECT_EQ(b.asked, (std::vector<uint16_t>{2001, 2002, 2003}));
}

TEST(UdpPortPool, PortIsRecycledWhenTheLeaseEnds) {
  UdpPortPool pool(2001, 2100);
  FakeBinder b;
  auto first = take(pool, b);
  auto second = take(pool, b);
  ASSERT_TRUE(first && second);
  {
    UdpPortLease gone = std::move(*first);
  }  // the test on 2001 ends
  EXPECT_EQ(pool.in_use(), 1U);
  auto again = take(pool, b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->port(), 2001);  // lowest free, not an ever-increasing counter
  auto next = take(pool, b);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->port(), 2003);
  EXPECT_EQ(pool.in_use(), 3U);
}

TEST(UdpPortPool, ThousandSequentialTestsStayOnTheFirstPort) {
  // btest-rs's counter ran off the firewall range after 100 tests (§11.1).
  UdpPortPool pool(2001, 2100);
  FakeBinder b;
  for (int i = 0; i < 1000; ++i) {
    auto l = take(pool, b);
    ASSERT_TRUE(l) << i;
    ASSERT_EQ(l->port(), 2001) << i;
  }
  EXPECT_EQ(pool.in_use(), 0U);
}

TEST(UdpPortPool, ExplicitReleaseAndMoveAssignmentGiveThePortBackOnce) {
  UdpPortPool pool(3000, 3001);
  FakeBinder b;
  auto x = take(pool, b);
  auto y = take(pool, b);
  ASSERT_TRUE(x && y);
  EXPECT_EQ(pool.in_use(), 2U);
  x->release();
  EXPECT_FALSE(x->fd().valid());  // closed before the port can be handed out again
  EXPECT_EQ(pool.in_use(), 1U);
  x->release();  // idempotent
  EXPECT_EQ(pool.in_use(), 1U);
  // Assigning over a live lease releases the old port.
  *y = UdpPortLease();
  EXPECT_EQ(pool.in_use(), 0U);
  // A moved-from lease does not give the port back when it dies.
  auto z = take(pool, b);
  ASSERT_TRUE(z);
  std::optional<UdpPortLease> moved_from(std::move(*z));
  UdpPortLease holder = std::move(*moved_from);
  moved_from.reset();
  EXPECT_EQ(pool.in_use(), 1U);
  EXPECT_EQ(holder.port(), 3000);
  auto w = take(pool, b);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->port(), 3001);  // 3000 is still held by `holder`
}

TEST(UdpPortPool, PortWhoseBindFailsIsSkippedAndTriedAgainLater) {
  UdpPortPool pool(2001, 2010);
  FakeBinder b;
  b.refuse = {2001, 2002};
  auto l = take(pool, b);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->port(), 2003);
  EXPECT_EQ(b.asked, (std::vector<uint16_t>{2001, 2002, 2003}));
  EXPECT_EQ(pool.in_use(), 1U);
  // The other program lets go of 2001: the next test gets it.
  b.refuse.clear();
  auto m = take(pool, b);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->port(), 2001);
}

TEST(UdpPortPool, RealBindConflictIsSkipped) {
  // Another socket holds a port of the range on 127.0.0.1: the pool's real bind fails.
  auto probe_addr = core::parse_ip("127.0.0.1", 0);
  ASSERT_TRUE(probe_addr);
  auto holder = core::udp_bind(*probe_addr, 0);
  ASSERT_TRUE(holder) << holder.error().message();
  auto held = core::local_address(holder->get());
  ASSERT_TRUE(held);
  const uint16_t port = held->port();
  ASSERT_GT(port, 0);
  ASSERT_LT(port, 65535);

  UdpPortPool pool(port, static_cast<uint16_t>(port + 1));
  auto real_bind = [](uint16_t p) {
    auto a = core::parse_ip("127.0.0.1", p);
    return core::udp_bind(*a, 0);
  };
  auto l = pool.acquire(real_bind);
  if (!l) {
    GTEST_SKIP() << "port " << port + 1 << " is busy too: " << l.error().message();
  }
  EXPECT_EQ(l->port(), port + 1);
  auto none = pool.acquire(real_bind);
  ASSERT_FALSE(none);
  // The last bind error is in the message.
  EXPECT_NE(none.error().message().find(std::to_string(port)), std::string::npos) << none.error().message();
}

TEST(UdpPortPool, ExhaustionErrorNamesTheRange) {
  UdpPortPool pool(2001, 2003);
  FakeBinder b;
  std::vector<UdpPortLease> leases;
  for (int i = 0; i < 3; ++i) {
    auto l = take(pool, b);
    ASSERT_TRUE(l);
    leases.push_back(std::move(*l));
  }
  EXPECT_EQ(pool.in_use(), 3U);
  auto none = take(pool, b);
  ASSERT_FALSE(none);
  const std::string msg = none.error().message();
  EXPECT_NE(msg.find("2001-2003"), std::string::npos) << msg;
  EXPECT_NE(msg.find("in use"), std::string::npos) << msg;
  EXPECT_EQ(pool.in_use(), 3U);
  leases.pop_back();
  auto again = take(pool, b);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->port(), 2003);
}

TEST(UdpPortPool, ExhaustionByBindFailuresNamesTheLastError) {
  UdpPortPool pool(2001, 2002);
  FakeBinder b;
  b.refuse = {2001, 2002};
  auto none = take(pool, b);
  ASSERT_FALSE(none);
  const std::string msg = none.error().message();
  EXPECT_NE(msg.find("2001-2002"), std::string::npos) << msg;
  EXPECT_NE(msg.find("127.0.0.1:2002"), std::string::npos) << msg;
  EXPECT_EQ(pool.in_use(), 0U);
}

TEST(UdpPortPool, SinglePortRange) {
  UdpPortPool pool(5000, 5000);
  FakeBinder b;
  auto l = take(pool, b);
  ASSERT_TRUE(l);
  EXPECT_EQ(l->port(), 5000);
  EXPECT_FALSE(take(pool, b));
}

TEST(UdpPortPool, ConcurrentAcquiresNeverShareAPort) {
  UdpPortPool pool(10000, 10063);
  std::vector<std::thread> threads;
  std::vector<std::vector<UdpPortLease>> got(4);
  for (std::size_t t = 0; t < got.size(); ++t) {
    threads.emplace_back([&pool, &got, t] {
      FakeBinder b;
      for (int i = 0; i < 16; ++i) {
        auto l = take(pool, b);
        if (l) {
          got[t].push_back(std::move(*l));
        }
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  std::set<uint16_t> ports;
  std::size_t total = 0;
  for (const auto& v : got) {
    for (const auto& l : v) {
      ports.insert(l.port());
      ++total;
    }
  }
  EXPECT_EQ(total, 64U);
  EXPECT_EQ(ports.size(), 64U);
  EXPECT_EQ(pool.in_use(), 64U);
  got.clear();
  EXPECT_EQ(pool.in_use(), 0U);
}

}  // namespace
}  // namespace linerate::btest
