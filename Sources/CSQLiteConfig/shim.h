// sqlite3_db_config is variadic, which Swift cannot call: one fixed-argument wrapper per option
// used. Declared here rather than through <sqlite3.h> so that this module and GRDB's, which
// includes that header, do not declare the same types twice.
struct sqlite3;
int sqlite3_db_config(struct sqlite3 *, int op, ...);

/// SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE (SQLite 3.28): closing the last connection does not checkpoint
/// the write-ahead log into the database (nor fsync); the next opener reads the log instead.
static inline int gitrag_sqlite3_skip_checkpoint_on_close(struct sqlite3 *db) {
  return sqlite3_db_config(db, 1006 /* SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE */, 1, (int *)0);
}
