// core/csv.hpp — append-only CSV files that survive a killed process.
//
// The header is written once, when the file is empty. Each row goes out as one
// O_APPEND write(2), so concurrent appenders never interleave and a crash loses at
// most the row being written. Fields are quoted per RFC 4180 when needed.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/socket.hpp"

namespace linerate::core {

class CsvAppender {
 public:
  /// Open (create) path for appending; writes the header if the file is empty.
  [[nodiscard]] static Result<CsvAppender> open(const std::string& path, const std::vector<std::string>& header);
  /// Append one row; thread-safe.
  Result<void> append(const std::vector<std::string>& fields);

  CsvAppender(CsvAppender&& o) noexcept : fd_(std::move(o.fd_)), path_(std::move(o.path_)) {}

 private:
  CsvAppender(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  Fd fd_;
  std::string path_;
  std::mutex mu_;
};

/// One CSV line (with trailing "\n"), quoting fields that need it.
[[nodiscard]] std::string csv_line(const std::vector<std::string>& fields);

}  // namespace linerate::core
