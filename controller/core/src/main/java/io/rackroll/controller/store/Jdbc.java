package io.rackroll.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * The one way the store's parts reach the database: each call is one transaction on a connection
 * of the pool, committed when the work returns and rolled back when it throws, and a failure is a
 * {@link StoreException} that names the operation.
 */
final class Jdbc implements Commits {
  private final DataSource dataSource;
  /** This thread's grouped transaction, while it runs {@link #grouped} work. */
  private final ThreadLocal<Group> group = new ThreadLocal<>();

  private static final class Group {
    final Connection connection;
    final java.util.List<Runnable> afterCommit = new java.util.ArrayList<>();

    Group(Connection connection) {
      this.connection = connection;
    }
  }

  Jdbc(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /** A connection of the pool for the caller to keep (and close): the cluster's listener. */
  Connection connection() throws SQLException {
    return dataSource.getConnection();
  }

  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** What a fenced write checks first, in its own transaction (see {@link LeaseStore#fence}). */
  interface Fence {
    void check(Connection c) throws SQLException;
  }

  /** Set once a node leads among several; null: writes are not fenced (one controller). */
  private volatile Fence fence;

  void fence(Fence fence) {
    this.fence = fence;
  }

  /** {@link #inTransaction}, after the fence's check in the same transaction. */
  <T> T fenced(String what, Work<T> work) {
    Fence f = fence;
    return inTransaction(what, f == null ? work : c -> {
      f.check(c);
      return work.run(c);
    });
  }

  /** {@link #update}, fenced. */
  void fencedUpdate(String what, String sql, Object... args) {
    fenced(what, c -> statement(c, sql, args));
  }

  <T> T inTransaction(String what, Work<T> work) {
    Group joined = group.get();
    if (joined != null) {
      return inSavepoint(what, joined.connection, work);
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("store: cannot " + what + ": " + e.getMessage(), e);
    }
  }

  /** {@code work} as one all-or-nothing part of this thread's grouped transaction. */
  private static <T> T inSavepoint(String what, Connection c, Work<T> work) {
    try {
      java.sql.Savepoint savepoint = c.setSavepoint();
      try {
        T result = work.run(c);
        c.releaseSavepoint(savepoint);
        return result;
      } catch (SQLException | RuntimeException e) {
        c.rollback(savepoint);
        throw e;
      }
    } catch (SQLException e) {
      throw new StoreException("store: cannot " + what + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void grouped(Runnable work) {
    if (group.get() != null) {
      work.run();
      return;
    }
    Group g;
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      g = new Group(c);
      group.set(g);
      try {
        work.run();
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        group.remove();
      }
    } catch (SQLException e) {
      throw new StoreException("store: cannot commit " + e.getMessage(), e);
    }
    for (Runnable action : g.afterCommit) {
      action.run();
    }
  }

  @Override
  public void afterCommit(Runnable action) {
    Group g = group.get();
    if (g == null) {
      action.run();
    } else {
      g.afterCommit.add(action);
    }
  }

  /** One statement with its arguments, in a transaction of its own. */
  void update(String what, String sql, Object... args) {
    inTransaction(what, c -> statement(c, sql, args));
  }

  private static int statement(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        ps.setObject(i + 1, args[i]);
      }
      return ps.executeUpdate();
    }
  }

  /** The first column of every row {@code sql} selects, with its arguments, as a set. */
  java.util.Set<String> strings(String what, String sql, Object... args) {
    return inTransaction(what, c -> {
      java.util.Set<String> out = new java.util.HashSet<>();
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
      }
      return out;
    });
  }

  /** A {@code SELECT key, COUNT(*) ... GROUP BY key} as a sorted map. */
  Map<String, Integer> counts(String what, String sql) {
    return inTransaction(what, c -> {
      Map<String, Integer> out = new TreeMap<>();
      try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getInt(2));
        }
      }
      return out;
    });
  }

  /** Text as stored in a column of at most 4000 characters. */
  static String clip(String s) {
    return s.length() <= 4000 ? s : s.substring(0, 3997) + "...";
  }
}
