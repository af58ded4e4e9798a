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
final class Jdbc {
  private final DataSource dataSource;

  Jdbc(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  <T> T inTransaction(String what, Work<T> work) {
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

  /** One statement with its arguments, in a transaction of its own. */
  void update(String what, String sql, Object... args) {
    inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
      }
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
