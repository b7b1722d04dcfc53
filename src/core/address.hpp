// core/address.hpp — socket addresses: parse, resolve, print.
//
// SockAddr is a value type over sockaddr_storage. IPv4-mapped IPv6 addresses print
// in plain IPv4 form so that per-IP logic never sees one peer as two identities
// (btest spec §16).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <sys/socket.h>

#include "core/result.hpp"

namespace linerate::core {

class SockAddr {
 public:
  SockAddr() = default;
  SockAddr(const sockaddr* sa, socklen_t len);

  [[nodiscard]] const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage_); }
  [[nodiscard]] sockaddr* get_mut() { return reinterpret_cast<sockaddr*>(&storage_); }
  [[nodiscard]] socklen_t len() const { return len_; }
  void set_len(socklen_t len) { len_ = len; }
  [[nodiscard]] int family() const { return storage_.ss_family; }
  [[nodiscard]] uint16_t port() const;
  void set_port(uint16_t port);
  /// Address only: "192.0.2.1", "2001:db8::1"; v4-mapped v6 prints as IPv4.
  [[nodiscard]] std::string ip() const;
  /// "192.0.2.1:2000" or "[2001:db8::1]:2000".
  [[nodiscard]] std::string to_string() const;
  /// True when both name the same host (ports ignored; v4-mapped equals plain v4).
  [[nodiscard]] bool same_host(const SockAddr& other) const;

 private:
  sockaddr_storage storage_{};
  socklen_t len_ = 0;
};

/// Parse a numeric IPv4 or IPv6 literal ("::1", "[::1]", "10.0.0.1") with a port.
/// Errors name the text that was not an address.
[[nodiscard]] Result<SockAddr> parse_ip(std::string_view text, uint16_t port);

/// Resolve a host name or literal; IPv4 and IPv6 results, in resolver order.
/// A literal never touches DNS. Error: "cannot resolve 'host': reason".
[[nodiscard]] Result<std::vector<SockAddr>> resolve(std::string_view host, uint16_t port);

}  // namespace linerate::core
