package io.rackroll.controller.store;

import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;

/**
 * Moves a data directory an earlier version wrote (H2, {@code db/rackroll.mv.db}) to the SQLite
 * store, once, at the first start of a version with it. The H2 database is brought to the last
 * schema it had (V10), every table is copied row by row into a new SQLite file of the same schema
 * in one transaction, and only then does the file take its name ({@code db/rackroll.db}), so a
 * crash at any point leaves either the old store untouched or the new one complete: the next start
 * imports again or opens the new one. The H2 file is kept beside it as {@code rackroll.mv.db.imported}.
 */
final class H2Import {
  private static final Logger log = LoggerFactory.getLogger(H2Import.class);
  /** Flyway's own table: each engine keeps its own history. */
  private static final String HISTORY = "flyway_schema_history";

  private H2Import() {}

  static void into(Path dir, Path target) throws IOException, SQLException {
    Path partial = target.resolveSibling(target.getFileName() + ".importing");
    Files.deleteIfExists(partial);
    Files.deleteIfExists(partial.resolveSibling(partial.getFileName() + "-journal"));
    int rows = 0;
    List<String> tables;
    try (HikariDataSource h2 = JdbcStore.h2(dir)) {
      JdbcStore.migrate(h2, JdbcStore.PORTABLE);
      // A rollback journal, not WAL, while importing: when it is closed the file is the whole database.
      JdbcStore.migrate(JdbcStore.sqlite(partial, SQLiteConfig.JournalMode.DELETE), JdbcStore.EMBEDDED);
      try (Connection from = h2.getConnection();
          Connection to = JdbcStore.sqlite(partial, SQLiteConfig.JournalMode.DELETE).getConnection()) {
        tables = tables(from);
        try (Statement s = to.createStatement()) {
          s.execute("PRAGMA foreign_keys = OFF"); // rows arrive table by table, in no order of their keys
        }
        to.setAutoCommit(false);
        for (String table : tables) {
          rows += copy(from, to, table);
        }
        to.commit();
      }
    }
    try (FileChannel ch = FileChannel.open(partial, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    Files.move(dir.resolve(JdbcStore.H2_FILE), dir.resolve(JdbcStore.H2_FILE + ".imported"),
        StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
    log.info("store: imported {} rows of {} tables from the H2 database of an earlier version into {};"
        + " the old file is kept as {}.imported", rows, tables.size(), target, JdbcStore.H2_FILE);
  }

  private static List<String> tables(Connection h2) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (PreparedStatement ps = h2.prepareStatement("SELECT table_name FROM information_schema.tables"
        + " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        if (!rs.getString(1).equals(HISTORY)) {
          tables.add(rs.getString(1));
        }
      }
    }
    return tables;
  }

  private static int copy(Connection from, Connection to, String table) throws SQLException {
    int n = 0;
    try (Statement clear = to.createStatement()) {
      clear.executeUpdate("DELETE FROM " + table); // rows the migrations seed (the first owner) come from the old file
    }
    try (Statement s = from.createStatement(); ResultSet rs = s.executeQuery("SELECT * FROM " + table)) {
      ResultSetMetaData meta = rs.getMetaData();
      List<String> columns = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        columns.add(meta.getColumnName(i).toLowerCase(java.util.Locale.ROOT));
      }
      String sql = "INSERT INTO " + table + " (" + String.join(", ", columns) + ") VALUES ("
          + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")";
      try (PreparedStatement insert = to.prepareStatement(sql)) {
        while (rs.next()) {
          for (int i = 1; i <= columns.size(); i++) {
            insert.setObject(i, rs.getObject(i));
          }
          insert.addBatch();
          n++;
        }
        insert.executeBatch();
      }
    }
    return n;
  }
}
