// core/syslog.cpp — see syslog.hpp.
#include "core/syslog.hpp"

#include <charconv>
#include <ctime>

#include <sys/socket.h>
#include <unistd.h>

namespace linerate::core {

namespace {
constexpr int kFacilityDaemon = 3;
}

Result<std::pair<std::string, uint16_t>> split_host_port(std::string_view text, uint16_t default_port) {
  std::string_view host = text;
  std::string_view port_text;
  bool has_port = false;  // a ':' separator was given, so a port must follow
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) {
      return fail("invalid address '" + std::string(text) + "': missing ']'");
    }
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return fail("invalid address '" + std::string(text) + "': expected ':port' after ']'");
      }
      port_text = rest.substr(1);
      has_port = true;
    }
  } else if (text.find(':') != text.rfind(':')) {
    host = text;  // bare IPv6 literal, no port
  } else if (auto colon = text.find(':'); colon != std::string_view::npos) {
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) {
    return fail("invalid address '" + std::string(text) + "': empty host");
  }
  uint16_t port = default_port;
  if (has_port) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return fail("invalid port '" + std::string(port_text) + "' in '" + std::string(text) + "' (use 1-65535)");
    }
    port = static_cast<uint16_t>(value);
  }
  return std::make_pair(std::string(host), port);
}

Result<SyslogSender> SyslogSender::open(std::string_view target, SyslogFormat format, std::string app_name) {
  auto hp = split_host_port(target, 514);
  if (!hp) {
    return tl::unexpected(hp.error());
  }
  auto addrs = resolve(hp->first, hp->second);
  if (!addrs) {
    return tl::unexpected(addrs.error());
  }
  const SockAddr& a = addrs->front();
  Fd fd(::socket(a.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    return errno_error("syslog socket");
  }
  return SyslogSender(std::move(fd), a, format, std::move(app_name));
}

SyslogSender::SyslogSender(Fd fd, SockAddr target, SyslogFormat format, std::string app)
    : fd_(std::move(fd)), target_(target), format_(format), app_(std::move(app)) {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    host_ = "-";
  } else {
    host_ = name;
  }
}

std::string SyslogSender::format(SyslogSeverity severity, std::string_view msg_id, std::string_view text) const {
  int pri = kFacilityDaemon * 8 + static_cast<int>(severity);
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  char ts[64];
  std::string out = "<" + std::to_string(pri) + ">";
  if (format_ == SyslogFormat::kRfc5424) {
    gmtime_r(&now, &tm);
    std::strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
    out += "1 ";
    out += ts;
    out += " " + host_ + " " + app_ + " " + std::to_string(::getpid()) + " ";
    out += msg_id;
    out += " - ";
    out += text;
  } else {
    localtime_r(&now, &tm);
    std::strftime(ts, sizeof(ts), "%b %e %H:%M:%S", &tm);
    out += ts;
    out += " " + host_ + " " + app_ + "[" + std::to_string(::getpid()) + "]: ";
    out += msg_id;
    out += " ";
    out += text;
  }
  return out;
}

Result<void> SyslogSender::send(SyslogSeverity severity, std::string_view msg_id, std::string_view text) const {
  std::string msg = format(severity, msg_id, text);
  if (::sendto(fd_.get(), msg.data(), msg.size(), MSG_DONTWAIT, target_.get(), target_.len()) < 0) {
    return errno_error("syslog send");
  }
  return {};
}

}  // namespace linerate::core
