// A thin RAII layer over libsqlite3's C API for the catalog: one connection, prepared statements
// with bound parameters only (no SQL is built from values), and errors that carry SQLite's own
// code and words.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tapestream::catalog {

// SQLite said no: `code` is its extended result code.
struct SqliteError {
  int code = SQLITE_ERROR;
  std::string message;
  int primary() const { return code & 0xFF; }
};

class Statement {
 public:
  Statement(sqlite3* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::optional<std::string>& text);
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  Statement& bind_null(int index);
  // True while a row is there to read; throws SqliteError on failure.
  bool step();
  // Runs a statement that returns no rows.
  void run();

  std::int64_t integer(int column) const;
  bool is_null(int column) const;
  std::string text(int column) const;
  std::optional<std::string> optional_text(int column) const;
  std::vector<std::uint8_t> blob(int column) const;

 private:
  sqlite3* _db;
  sqlite3_stmt* _statement = nullptr;
};

class Database {
 public:
  // Opens (creating when `create`) the file; throws SqliteError.
  Database(const std::filesystem::path& path, bool create);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* raw() { return _db; }
  Statement prepare(std::string_view sql) { return Statement{_db, sql}; }
  // Several statements without parameters (the schema's DDL, pragmas); throws SqliteError.
  void exec(const std::string& sql);

  // One transaction: BEGIN IMMEDIATE, then COMMIT, or ROLLBACK when `work` throws.
  template <typename Work>
  void transaction(Work&& work) {
    exec("BEGIN IMMEDIATE");
    try {
      work();
      exec("COMMIT");
    } catch (...) {
      sqlite3_exec(_db, "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  }

 private:
  sqlite3* _db = nullptr;
};

SqliteError sqlite_error(sqlite3* db, int code, std::string_view what);

}  // namespace tapestream::catalog
