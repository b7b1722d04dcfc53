// scan/result.hpp — what a scan finds, in the vocabulary of nmap (spec lrscan §3).
//
// Every scan mode (connect, SYN, UDP) produces PortResult values; every output
// format (normal, grepable, XML, JSON lines) consumes them. States and reason
// words are nmap's, so `--reason` output and XML `reason=` attributes read the
// same as nmap's for the same evidence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "scan/ports.hpp"
#include "scan/targets.hpp"

namespace linerate::scan {

enum class PortState : uint8_t { kOpen, kClosed, kFiltered, kOpenFiltered };

/// "open", "closed", "filtered", "open|filtered".
[[nodiscard]] constexpr std::string_view state_name(PortState s) {
  switch (s) {
    case PortState::kOpen:
      return "open";
    case PortState::kClosed:
      return "closed";
    case PortState::kFiltered:
      return "filtered";
    case PortState::kOpenFiltered:
      return "open|filtered";
  }
  return "unknown";
}

/// nmap's reason words for the evidence behind a state.
enum class Reason : uint8_t {
  kSynAck,           // "syn-ack": connect() succeeded / SYN-ACK received
  kConnRefused,      // "conn-refused": connect() got ECONNREFUSED (RST)
  kReset,            // "reset": RST to a raw SYN
  kNoResponse,       // "no-response": nothing after all retries
  kHostUnreach,      // "host-unreach": ICMP type 3 code 1 (EHOSTUNREACH)
  kNetUnreach,       // "net-unreach": ICMP type 3 code 0 (ENETUNREACH)
  kAdminProhibited,  // "admin-prohibited": EACCES/EPERM on connect (Linux: ICMPv6 type 1 code 1; an
                     // IPv4 ICMP type 3 code 13 arrives as EHOSTUNREACH, i.e. host-unreach, as in nmap -sT)
  kPortUnreach,      // "port-unreach": ICMP type 3 code 3 (UDP closed)
  kUdpResponse,      // "udp-response"
  kEchoReply,        // "echo-reply": host discovery, ICMP(v6) echo reply
  kTimestampReply,   // "timestamp-reply": host discovery, ICMP timestamp reply
  kUserSet,          // "user-set": -Pn, the host is taken to be up
  kArpResponse,      // "arp-response": host discovery on the local segment
  kNdResponse,       // "nd-response": IPv6 neighbour advertisement (discovery)
  kProtoUnreach,     // "proto-unreach": ICMP type 3 code 2
  kIcmpRatelimit,    // "icmp-ratelimit": open|filtered because the target rate-limits its ICMP errors (spec §3)
};

[[nodiscard]] constexpr std::string_view reason_name(Reason r) {
  switch (r) {
    case Reason::kSynAck:
      return "syn-ack";
    case Reason::kConnRefused:
      return "conn-refused";
    case Reason::kReset:
      return "reset";
    case Reason::kNoResponse:
      return "no-response";
    case Reason::kHostUnreach:
      return "host-unreach";
    case Reason::kNetUnreach:
      return "net-unreach";
    case Reason::kAdminProhibited:
      return "admin-prohibited";
    case Reason::kPortUnreach:
      return "port-unreach";
    case Reason::kUdpResponse:
      return "udp-response";
    case Reason::kEchoReply:
      return "echo-reply";
    case Reason::kTimestampReply:
      return "timestamp-reply";
    case Reason::kUserSet:
      return "user-set";
    case Reason::kArpResponse:
      return "arp-response";
    case Reason::kNdResponse:
      return "nd-response";
    case Reason::kProtoUnreach:
      return "proto-unreach";
    case Reason::kIcmpRatelimit:
      return "icmp-ratelimit";
  }
  return "unknown";
}

/// One port's verdict.
struct PortResult {
  Address addr;
  uint16_t port = 0;
  Protocol proto = Protocol::kTcp;
  PortState state = PortState::kFiltered;
  Reason reason = Reason::kNoResponse;
  uint32_t rtt_us = 0;  // 0 when there was no reply
};

/// What the whole scan was, for output headers and footers (nmap's <scaninfo>
/// and <runstats>).
struct ScanInfo {
  std::string args;           // the command line as typed, for the XML "args" attribute
  std::string scan_type;      // nmap's words: "connect", "syn", "udp"
  std::string services;       // the scanned ports as a spec, e.g. "1-1024" (PortSet::to_string)
  uint32_t num_services = 0;  // number of ports per host
  int64_t start_unix_s = 0;
  int64_t end_unix_s = 0;
  double elapsed_s = 0;
  uint64_t hosts_total = 0;  // targets scanned
  uint64_t hosts_up = 0;     // hosts with at least one open or closed port (or that answered discovery)
  uint64_t probes_sent = 0;
  uint64_t retries_sent = 0;
};

}  // namespace linerate::scan
