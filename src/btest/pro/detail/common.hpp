// btest/pro/detail/common.hpp — what both store backends share: the factories,
// input checks applied before any SQL runs, and the text codes stored in columns.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "btest/pro/store.hpp"
#include "core/result.hpp"

namespace linerate::btest::pro::detail {

/// The schema version the newest migration produces (both backends).
inline constexpr int kSchemaVersion = 2;

core::Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);
core::Result<std::unique_ptr<Store>> open_pg_store(const std::string& url);

/// A user row as the store accepts it: a name RouterOS can send (1..221 bytes,
/// no control characters; at most 32 bytes with allow_md5, the MD5 response's
/// field), a verifier that parses, md5_password present exactly when allow_md5,
/// limits within kMaxSize. Errors are one line and never quote a password.
core::Result<void> check_user(const User& u);

/// Databases store signed 64-bit integers: refuse anything above 2^63-1.
core::Result<int64_t> to_db_int(uint64_t v, std::string_view what);

[[nodiscard]] std::string_view principal_kind_text(PrincipalKind k);

}  // namespace linerate::btest::pro::detail
