// core/file.hpp — read a small data file whole, with a size cap.
//
// Why: data files we parse (nmap-services, nmap-payloads) come from the user's
// system and are read at start-up; a cap turns a wrong or hostile path (a
// device, a huge file) into a one-line error instead of unbounded memory.
#pragma once

#include <cstddef>
#include <string>

#include "core/result.hpp"

namespace linerate::core {

/// The whole file at `path`, or an error naming it: "cannot open 'P'",
/// "'P': file larger than N bytes", "cannot read 'P'". Reads in chunks, so the
/// cost is the file's size, not the cap.
[[nodiscard]] Result<std::string> read_file_capped(const std::string& path, std::size_t max_bytes);

}  // namespace linerate::core
