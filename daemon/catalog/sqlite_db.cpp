#include "catalog/sqlite_db.hpp"

#include <string>

namespace tapestream::catalog {

SqliteError sqlite_error(sqlite3* db, int code, std::string_view what) {
  std::string words = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return SqliteError{db != nullptr ? sqlite3_extended_errcode(db) : code,
                     std::string{what} + ": " + words};
}

Statement::Statement(sqlite3* db, std::string_view sql) : _db{db} {
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &_statement, nullptr);
  if (rc != SQLITE_OK) {
    throw sqlite_error(db, rc, "preparing a catalog statement");
  }
}

Statement::~Statement() { sqlite3_finalize(_statement); }

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(_statement, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text(_statement, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view{*text}) : bind_null(index);
}

Statement& Statement::bind(int index, std::span<const std::uint8_t> blob) {
  sqlite3_bind_blob(_statement, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(_statement, index);
  return *this;
}

bool Statement::step() {
  const int rc = sqlite3_step(_statement);
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  throw sqlite_error(_db, rc, "catalog statement");
}

void Statement::run() {
  while (step()) {
  }
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(_statement, column); }

bool Statement::is_null(int column) const {
  return sqlite3_column_type(_statement, column) == SQLITE_NULL;
}

std::string Statement::text(int column) const {
  const auto* p = sqlite3_column_text(_statement, column);
  const auto n = sqlite3_column_bytes(_statement, column);
  return p == nullptr ? std::string{} : std::string{reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)};
}

std::optional<std::string> Statement::optional_text(int column) const {
  if (is_null(column)) {
    return std::nullopt;
  }
  return text(column);
}

std::vector<std::uint8_t> Statement::blob(int column) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(_statement, column));
  const auto n = static_cast<std::size_t>(sqlite3_column_bytes(_statement, column));
  return p == nullptr ? std::vector<std::uint8_t>{} : std::vector<std::uint8_t>(p, p + n);
}

Database::Database(const std::filesystem::path& path, bool create) {
  const int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &_db, flags, nullptr);
  if (rc != SQLITE_OK) {
    auto error = sqlite_error(_db, rc, "opening the catalog " + path.string());
    sqlite3_close(_db);
    _db = nullptr;
    throw error;
  }
  sqlite3_extended_result_codes(_db, 1);
}

Database::~Database() { sqlite3_close(_db); }

void Database::exec(const std::string& sql) {
  char* words = nullptr;
  const int rc = sqlite3_exec(_db, sql.c_str(), nullptr, nullptr, &words);
  if (rc != SQLITE_OK) {
    SqliteError error{sqlite3_extended_errcode(_db), words != nullptr ? words : sqlite3_errstr(rc)};
    sqlite3_free(words);
    throw error;
  }
}

}  // namespace tapestream::catalog
