package io.rackroll.controller.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@link ReleaseStore} over JDBC. */
final class JdbcReleaseStore implements ReleaseStore {
  private final Jdbc db;

  JdbcReleaseStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public StoredRelease addRelease(StoredRelease r) {
    try {
      return insertRelease(r);
    } catch (StoreException e) {
      // Lost a race with another push of the same name@version: the primary key picked the winner.
      if (e.getCause() instanceof SQLException sql && "23505".equals(sql.getSQLState())) {
        return release(r.name(), r.version()).orElseThrow(() -> e);
      }
      throw e;
    }
  }

  private StoredRelease insertRelease(StoredRelease r) {
    return db.inTransaction("record release " + r.ref(), c -> {
      Optional<StoredRelease> existing = Rows.release(c, r.name(), r.version());
      if (existing.isPresent()) {
        return existing.get();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO releases (name, version, digest, size_bytes,"
          + " unpacked_bytes, manifest, pushed_by, pushed_at, unpacked_entries, signature)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, r.name());
        ps.setString(2, r.version());
        ps.setString(3, r.digest());
        ps.setLong(4, r.sizeBytes());
        ps.setLong(5, r.unpackedBytes());
        ps.setString(6, r.manifest());
        ps.setString(7, r.pushedBy());
        ps.setLong(8, r.pushedAt().toEpochMilli());
        ps.setLong(9, r.unpackedEntries());
        ps.setString(10, r.signature());
        ps.executeUpdate();
      }
      return r;
    });
  }

  @Override
  public Optional<StoredRelease> release(String name, String version) {
    return db.inTransaction("read release " + name + "@" + version, c -> Rows.release(c, name, version));
  }

  @Override
  public List<StoredRelease> list(String name) {
    return db.inTransaction("list releases", c -> {
      String where = name.isEmpty() ? "" : " WHERE name = ?";
      try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.RELEASE_COLUMNS + " FROM releases" + where
          + " ORDER BY pushed_at DESC, name, version")) {
        if (!name.isEmpty()) {
          ps.setString(1, name);
        }
        List<StoredRelease> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(Rows.release(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public boolean setSignature(String name, String version, String signature) {
    return db.inTransaction("sign release " + name + "@" + version, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE releases SET signature = ? WHERE name = ? AND version = ?")) {
        ps.setString(1, signature);
        ps.setString(2, name);
        ps.setString(3, version);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public boolean addKeyStatement(KeyStatementRecord statement) {
    return db.inTransaction("record key statement", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM key_statements WHERE id = ?")) {
        ps.setString(1, statement.id());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return false;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO key_statements (id, statement, pushed_by, pushed_at) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, statement.id());
        ps.setString(2, statement.text());
        ps.setString(3, statement.pushedBy());
        ps.setLong(4, statement.pushedAt().toEpochMilli());
        ps.executeUpdate();
      }
      return true;
    });
  }

  @Override
  public List<KeyStatementRecord> keyStatements() {
    return db.inTransaction("list key statements", c -> {
      List<KeyStatementRecord> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id, statement, pushed_by, pushed_at FROM key_statements"
          + " ORDER BY pushed_at, id"); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new KeyStatementRecord(rs.getString(1), rs.getString(2), rs.getString(3),
              java.time.Instant.ofEpochMilli(rs.getLong(4))));
        }
      }
      return out;
    });
  }

  @Override
  public boolean agentMayFetch(String agentId, String digest) {
    return db.inTransaction("authorize download for " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM deployment_hosts h"
          + " JOIN deployments d ON d.id = h.deployment_id"
          + " JOIN releases r ON r.name = d.app AND r.version = d.version"
          + " WHERE h.agent_id = ? AND r.digest = ?")) {
        ps.setString(1, agentId);
        ps.setString(2, digest);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    });
  }
}
