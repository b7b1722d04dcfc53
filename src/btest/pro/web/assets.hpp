// btest/pro/web/assets.hpp — the dashboard's static files (web/assets/), built
// into the binary: CMake (cmake/EmbedAssets.cmake) writes each file as a string
// literal into a generated .cpp, so the server needs no files at run time and
// loads nothing from elsewhere.
#pragma once

#include <string_view>

namespace linerate::btest::pro::web {

struct Asset {
  std::string_view name;  // file name, e.g. "app.js"
  std::string_view content_type;
  std::string_view body;
};

/// The asset named exactly `name`, or nullptr.
[[nodiscard]] const Asset* find_asset(std::string_view name);

}  // namespace linerate::btest::pro::web
