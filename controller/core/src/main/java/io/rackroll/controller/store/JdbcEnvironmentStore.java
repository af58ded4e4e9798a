package io.rackroll.controller.store;

import io.rackroll.release.FlagValues;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** {@link EnvironmentStore} over JDBC. */
final class JdbcEnvironmentStore implements EnvironmentStore {
  private final Jdbc db;

  JdbcEnvironmentStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public int applyEnvironments(String yaml, String by, Instant at) {
    return db.inTransaction("record environments file", c -> {
      int version;
      try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(version), 0) + 1 FROM environment_files");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        version = rs.getInt(1);
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO environment_files (version, yaml, applied_by,"
          + " applied_at) VALUES (?, ?, ?, ?)")) {
        ps.setInt(1, version);
        ps.setString(2, yaml);
        ps.setString(3, by);
        ps.setLong(4, at.toEpochMilli());
        ps.executeUpdate();
      }
      return version;
    });
  }

  @Override
  public void putSecret(StoredSecret secret) {
    db.inTransaction("set secret " + secret.name() + " of " + secret.environment(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE environment_secrets SET sealed = ?, updated_by = ?,"
          + " updated_at = ? WHERE environment = ? AND name = ?")) {
        ps.setString(1, secret.sealed());
        ps.setString(2, secret.updatedBy());
        ps.setLong(3, secret.updatedAt().toEpochMilli());
        ps.setString(4, secret.environment());
        ps.setString(5, secret.name());
        if (ps.executeUpdate() == 1) {
          return null;
        }
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO environment_secrets (environment, name, sealed,"
          + " updated_by, updated_at) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, secret.environment());
        ps.setString(2, secret.name());
        ps.setString(3, secret.sealed());
        ps.setString(4, secret.updatedBy());
        ps.setLong(5, secret.updatedAt().toEpochMilli());
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public boolean deleteSecret(String environment, String name) {
    return db.inTransaction("remove secret " + name + " of " + environment, c -> {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM environment_secrets WHERE environment = ?"
          + " AND name = ?")) {
        ps.setString(1, environment);
        ps.setString(2, name);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public List<StoredSecret> secrets() {
    return db.inTransaction("read secrets", c -> {
      List<StoredSecret> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT environment, name, sealed, updated_by, updated_at"
          + " FROM environment_secrets ORDER BY environment, name");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new StoredSecret(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
              Instant.ofEpochMilli(rs.getLong(5))));
        }
      }
      return out;
    });
  }

  @Override
  public Optional<EnvironmentFile> environmentFile() {
    return db.inTransaction("read environments file", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT version, yaml, applied_by, applied_at"
          + " FROM environment_files ORDER BY version DESC LIMIT 1");
          ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new EnvironmentFile(rs.getInt(1), rs.getString(2), rs.getString(3),
            Instant.ofEpochMilli(rs.getLong(4)))) : Optional.empty();
      }
    });
  }

  @Override
  public void environmentFlags(String environment, String app, Map<String, String> changes, Instant at) {
    db.inTransaction("record flags of " + app + " in " + environment, c -> {
      Map<String, String> before = environmentFlags(c, app).get(environment);
      String flags = FlagValues.toJson(FlagValues.merge(before == null ? Map.of() : before, changes));
      String sql = before == null
          ? "INSERT INTO environment_flags (flags, updated_at, environment, app) VALUES (?, ?, ?, ?)"
          : "UPDATE environment_flags SET flags = ?, updated_at = ? WHERE environment = ? AND app = ?";
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, flags);
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, environment);
        ps.setString(4, app);
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public Map<String, Map<String, String>> environmentFlags(String app) {
    return db.inTransaction("read environments' flags of " + app, c -> environmentFlags(c, app));
  }

  private static Map<String, Map<String, String>> environmentFlags(Connection c, String app) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT environment, flags FROM environment_flags WHERE app = ?")) {
      ps.setString(1, app);
      Map<String, Map<String, String>> out = new TreeMap<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), FlagValues.fromJson(rs.getString(2)));
        }
      }
      return out;
    }
  }
}
