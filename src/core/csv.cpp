// core/csv.cpp — see csv.hpp.
#include "core/csv.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace linerate::core {

std::string csv_line(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) {
      out += ',';
    }
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') {
        out += '"';
      }
      out += c;
    }
    out += '"';
  }
  out += '\n';
  return out;
}

namespace {
Result<void> write_line(int fd, const std::string& line, const std::string& path) {
  ssize_t n = ::write(fd, line.data(), line.size());
  if (n < 0 || static_cast<std::size_t>(n) != line.size()) {
    return errno_error("cannot write CSV file '" + path + "'");
  }
  return {};
}
}  // namespace

Result<CsvAppender> CsvAppender::open(const std::string& path, const std::vector<std::string>& header) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (!fd) {
    return errno_error("cannot open CSV file '" + path + "'");
  }
  struct stat st{};
  if (::fstat(fd.get(), &st) != 0) {
    return errno_error("cannot stat CSV file '" + path + "'");
  }
  if (st.st_size == 0) {
    if (auto r = write_line(fd.get(), csv_line(header), path); !r) {
      return tl::unexpected(r.error());
    }
  }
  return CsvAppender(std::move(fd), path);
}

Result<void> CsvAppender::append(const std::vector<std::string>& fields) {
  std::lock_guard lock(mu_);
  return write_line(fd_.get(), csv_line(fields), path_);
}

}  // namespace linerate::core
