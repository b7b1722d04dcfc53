// core/syslog.hpp — send events to a remote syslog collector over UDP.
//
// RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID - MSG") by default, or the
// older RFC 3164 BSD form ("<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG"). Sends are
// fire-and-forget datagrams (a collector that is down must never stall a test);
// thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/address.hpp"
#include "core/result.hpp"
#include "core/socket.hpp"

namespace linerate::core {

enum class SyslogFormat { kRfc5424, kRfc3164 };

enum class SyslogSeverity { kError = 3, kWarning = 4, kNotice = 5, kInfo = 6 };

class SyslogSender {
 public:
  /// target: "host", "host:port", "[v6]:port"; default port 514. Facility: daemon (3).
  [[nodiscard]] static Result<SyslogSender> open(std::string_view target, SyslogFormat format, std::string app_name);
  /// Send one event. msg_id is the event name (e.g. "TEST_START"); text is the
  /// rest ("peer=... proto=tcp ..."). Errors are ignored by design, returned for tests.
  Result<void> send(SyslogSeverity severity, std::string_view msg_id, std::string_view text) const;

  /// The datagram that send() would emit (exposed for tests).
  [[nodiscard]] std::string format(SyslogSeverity severity, std::string_view msg_id, std::string_view text) const;

 private:
  SyslogSender(Fd fd, SockAddr target, SyslogFormat format, std::string app);
  Fd fd_;
  SockAddr target_;
  SyslogFormat format_;
  std::string app_;
  std::string host_;
};

/// Parse "host[:port]" / "[v6]:port" / "v6" with a default port. Error names the text.
[[nodiscard]] Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view text, uint16_t default_port);

}  // namespace linerate::core
