package io.rackroll.controller.store;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * Opens the {@link Store} over JDBC, in SQL that H2 and PostgreSQL both run unchanged. The schema is
 * versioned with Flyway migrations under {@code db/migration}; every way of opening brings the
 * database up to date before the first query.
 */
public final class JdbcStore {
  private JdbcStore() {}

  /** Migrates and opens a store on a data source the caller owns and closes. */
  public static Store open(DataSource dataSource) {
    migrate(dataSource, PORTABLE);
    return over(dataSource, null, false);
  }

  /**
   * Migrates and opens a store on a PostgreSQL data source the caller owns, with the lease of
   * several controller nodes ({@link Store#lease()}) and no claim to the database for one node.
   */
  public static Store shared(DataSource dataSource) {
    migrate(dataSource, PORTABLE);
    return over(dataSource, null, true);
  }

  /** The embedded store's file in {@code <data>/db/}. */
  static final String SQLITE_FILE = "rackroll.db";
  /** What versions before the SQLite store kept in {@code <data>/db/}: imported once, then kept aside. */
  static final String H2_FILE = "rackroll.mv.db";
  /** The portable migrations (PostgreSQL, and H2 for an import), and the embedded store's. */
  static final String PORTABLE = "classpath:db/migration";
  static final String EMBEDDED = "classpath:db/sqlite";

  /**
   * The embedded default: SQLite in {@code <data>/db/rackroll.db}, owned by the store, in WAL mode
   * with full synchronous commits: a commit is on disk when it is acknowledged, so neither a
   * SIGKILL nor a power loss takes back what the controller said it did. A data directory an older
   * version wrote (H2) is imported first, once (see {@link H2Import}).
   */
  public static Store embedded(Path dataDir) {
    Path dir = dataDir.resolve("db");
    Path file = dir.resolve(SQLITE_FILE);
    try {
      Files.createDirectories(dir);
      if (!Files.exists(file) && Files.exists(dir.resolve(H2_FILE))) {
        H2Import.into(dir, file);
      }
    } catch (IOException | SQLException e) {
      throw new StoreException("cannot import the database in " + dir + " written by an earlier version: "
          + e.getMessage(), e);
    }
    HikariDataSource ds = pool(sqlite(file, SQLiteConfig.JournalMode.WAL), dir);
    try {
      migrate(ds, EMBEDDED);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return over(ds, ds, false);
  }

  /**
   * SQLite as the store needs it: foreign keys enforced, every transaction taking the write lock
   * at its start (so two never deadlock upgrading a read), and a busy writer waited for.
   */
  static SQLiteDataSource sqlite(Path file, SQLiteConfig.JournalMode journal) {
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(journal);
    config.setSynchronous(SQLiteConfig.SynchronousMode.FULL);
    config.enforceForeignKeys(true);
    config.setBusyTimeout(30_000);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    SQLiteDataSource ds = new SQLiteDataSource(config);
    ds.setUrl("jdbc:sqlite:" + file.toAbsolutePath());
    return ds;
  }

  /** An H2 file database in {@code <data>/db/}, as versions before SQLite kept it: for {@link H2Import} and tests. */
  static HikariDataSource h2(Path dir) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("store-h2");
    config.setJdbcUrl("jdbc:h2:file:" + dir.toAbsolutePath().resolve("rackroll")
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    config.setMaximumPoolSize(2);
    return open(config, dir);
  }

  private static HikariDataSource pool(DataSource source, Path dir) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("store");
    config.setDataSource(source);
    config.setMaximumPoolSize(4);
    return open(config, dir);
  }

  private static HikariDataSource open(HikariConfig config, Path dir) {
    try {
      return new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new StoreException("cannot open the database in " + dir + ": " + e.getMessage(), e);
    }
  }

  /**
   * A PostgreSQL database, migrated to the current schema at open, owned by the store;
   * {@code shown} names it in errors without the URL's parameters.
   */
  static Store postgres(String url, String user, String password, String shown) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("store");
    config.setJdbcUrl(url);
    if (!user.isEmpty()) {
      config.setUsername(user);
    }
    if (!password.isEmpty()) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(10); // one of them listens for the other nodes
    config.setConnectionTimeout(10_000);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(config);
    } catch (RuntimeException e) {
      Throwable root = e;
      while (root.getCause() != null) {
        root = root.getCause();
      }
      throw new StoreException("cannot connect to the database " + shown + ": " + root.getMessage()
          + "; check database, databaseUser and databasePasswordFile in the controller's configuration", e);
    }
    try {
      migrate(ds, PORTABLE);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    // Several controller nodes may share it: the lease decides which one leads (see ClusterNode).
    return over(ds, ds, true);
  }

  static void migrate(DataSource ds, String location) {
    try {
      Flyway.configure().dataSource(ds).locations(location).load().migrate();
    } catch (RuntimeException e) {
      String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      throw new StoreException("cannot migrate the database schema: " + first + " (run with --debug for details)", e);
    }
  }

  /** Every part of the store over one data source; {@code owned} is closed with the store. */
  private static Store over(DataSource dataSource, AutoCloseable owned, boolean postgres) {
    Jdbc db = new Jdbc(dataSource);
    return new Store(new JdbcEnrollmentStore(db), new JdbcAgentStore(db), new JdbcReleaseStore(db),
        new JdbcDeploymentStore(db), new JdbcEnvironmentStore(db), new JdbcAuditStore(db), owned, db,
        postgres ? new JdbcLeaseStore(db) : null, postgres ? new JdbcClusterStore(db) : null,
        postgres ? new JdbcBlobStore(db) : null);
  }
}
