package io.rackroll.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** The lease in PostgreSQL (see {@link LeaseStore}); the database's clock decides when it lapses. */
final class JdbcLeaseStore implements LeaseStore {
  private final Jdbc db;

  JdbcLeaseStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public OptionalLong acquire(String node, Duration ttl) {
    return db.inTransaction("take the controllers' lease for " + node, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE controller_lease SET holder = ?, epoch = epoch + 1,"
          + " expires_at = clock_timestamp() + ? * INTERVAL '1 millisecond'"
          + " WHERE id = 1 AND (holder = '' OR expires_at <= clock_timestamp()) RETURNING epoch")) {
        ps.setString(1, node);
        ps.setLong(2, ttl.toMillis());
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? OptionalLong.of(rs.getLong(1)) : OptionalLong.empty();
        }
      }
    });
  }

  @Override
  public boolean renew(String node, long epoch, Duration ttl) {
    return db.inTransaction("renew the controllers' lease of " + node, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE controller_lease"
          + " SET expires_at = clock_timestamp() + ? * INTERVAL '1 millisecond'"
          + " WHERE id = 1 AND holder = ? AND epoch = ?")) {
        ps.setLong(1, ttl.toMillis());
        ps.setString(2, node);
        ps.setLong(3, epoch);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public void release(String node, long epoch) {
    db.update("let the controllers' lease of " + node + " go",
        "UPDATE controller_lease SET holder = '', expires_at = clock_timestamp() WHERE id = 1 AND holder = ? AND epoch = ?",
        node, epoch);
  }

  @Override
  public Optional<Holder> holder() {
    return db.inTransaction("read the controllers' lease", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT holder, epoch, expires_at FROM controller_lease WHERE id = 1");
          ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getString(1).isEmpty()) {
          return Optional.empty();
        }
        return Optional.of(new Holder(rs.getString(1), rs.getLong(2), rs.getTimestamp(3).toInstant()));
      }
    });
  }

  @Override
  public void fence(String node, long epoch) {
    db.fence(c -> check(c, node, epoch));
  }

  /**
   * Passes only while {@code node} holds the lease of {@code epoch} and it has not lapsed; the
   * shared lock it takes lasts until the write's transaction ends, so a takeover waits for it.
   */
  static void check(Connection c, String node, long epoch) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT holder, epoch, expires_at > clock_timestamp()"
        + " FROM controller_lease WHERE id = 1 FOR SHARE")) {
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new Fenced("the controllers' lease is missing from the database; this node does not lead");
        }
        if (!rs.getString(1).equals(node) || rs.getLong(2) != epoch) {
          throw new Fenced("controller node " + node + " no longer leads (its lease was epoch " + epoch + "; node "
              + (rs.getString(1).isEmpty() ? "none" : rs.getString(1)) + " holds epoch " + rs.getLong(2)
              + "): it changes no deployment");
        }
        if (!rs.getBoolean(3)) {
          throw new Fenced("controller node " + node + " let its lease of epoch " + epoch + " lapse (it could not"
              + " renew it in time): it changes no deployment until it renews it");
        }
      }
    }
  }
}
