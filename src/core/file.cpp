// core/file.cpp — see file.hpp.
#include "core/file.hpp"

#include <array>
#include <fstream>

#include "core/text.hpp"

namespace linerate::core {

Result<std::string> read_file_capped(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fail("cannot open " + quoted(path));
  }
  std::string text;
  std::array<char, 64 * 1024> chunk{};
  while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
    text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
    if (text.size() > max_bytes) {
      return fail(quoted(path) + ": file larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (in.bad()) {
    return fail("cannot read " + quoted(path));
  }
  return text;
}

}  // namespace linerate::core
