// core/address.cpp — see address.hpp.
#include "core/address.hpp"

#include <cstring>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

namespace linerate::core {

SockAddr::SockAddr(const sockaddr* sa, socklen_t len) {
  if (len > sizeof(storage_)) {
    len = sizeof(storage_);
  }
  std::memcpy(&storage_, sa, len);
  len_ = len;
}

uint16_t SockAddr::port() const {
  if (family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  }
  if (family() == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  }
  return 0;
}

void SockAddr::set_port(uint16_t port) {
  if (family() == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  } else if (family() == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
  }
}

namespace {
bool is_v4_mapped(const sockaddr_in6* s6) { return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr); }
}  // namespace

std::string SockAddr::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf, sizeof(buf));
  } else if (family() == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    if (is_v4_mapped(s6)) {
      inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, sizeof(buf));
    } else {
      inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof(buf));
    }
  } else {
    return "?";
  }
  return buf;
}

std::string SockAddr::to_string() const {
  std::string host = ip();
  bool bracket = host.find(':') != std::string::npos;
  return (bracket ? "[" + host + "]" : host) + ":" + std::to_string(port());
}

bool SockAddr::same_host(const SockAddr& other) const { return ip() == other.ip(); }

Result<SockAddr> parse_ip(std::string_view text, uint16_t port) {
  std::string s(text);
  if (s.size() >= 2 && s.front() == '[' && s.back() == ']') {
    s = s.substr(1, s.size() - 2);
  }
  // inet_pton reads a C string: "1.2.3.4\0junk" must not pass as 1.2.3.4.
  bool has_nul = s.find('\0') != std::string::npos;
  sockaddr_in v4{};
  if (!has_nul && inet_pton(AF_INET, s.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    return SockAddr(reinterpret_cast<sockaddr*>(&v4), sizeof(v4));
  }
  sockaddr_in6 v6{};
  if (!has_nul && inet_pton(AF_INET6, s.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    return SockAddr(reinterpret_cast<sockaddr*>(&v6), sizeof(v6));
  }
  return fail("'" + std::string(text) + "' is not an IPv4 or IPv6 address");
}

Result<std::vector<SockAddr>> resolve(std::string_view host, uint16_t port) {
  if (host.empty()) {
    return fail("empty host name");
  }
  if (auto lit = parse_ip(host, port)) {
    return std::vector<SockAddr>{*lit};
  }
  if (host.find('\0') != std::string_view::npos) {
    return fail("cannot resolve '" + std::string(host) + "': contains a NUL byte");
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string h(host);
  int rc = getaddrinfo(h.c_str(), nullptr, &hints, &res);
  if (rc != 0) {
    return fail("cannot resolve '" + h + "': " + gai_strerror(rc));
  }
  std::vector<SockAddr> out;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    SockAddr a(ai->ai_addr, ai->ai_addrlen);
    a.set_port(port);
    out.push_back(a);
  }
  freeaddrinfo(res);
  if (out.empty()) {
    return fail("cannot resolve '" + h + "': no addresses");
  }
  return out;
}

}  // namespace linerate::core
