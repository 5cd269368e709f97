// The catalog's schema: a version in table `schema` and the ordered migrations that reach the
// current one. A database from a newer daemon, or a file that is not this catalog, is refused
// and left exactly as it is: nothing is deleted, truncated or recreated.
#pragma once

#include "catalog/sqlite_db.hpp"

namespace tapestream::catalog {

inline constexpr int schema_version = 4;

// The connection's settings (WAL, synchronous=FULL, foreign keys, busy timeout), then the
// migrations still due, each in its own transaction. Throws SqliteError on I/O, and
// base::StartupError when the file is not a catalog this daemon may use.
void prepare_schema(Database& db, const std::string& where);

}  // namespace tapestream::catalog
