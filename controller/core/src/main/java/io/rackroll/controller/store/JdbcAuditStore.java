package io.rackroll.controller.store;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** {@link AuditStore} over JDBC. */
final class JdbcAuditStore implements AuditStore {
  private final Jdbc db;

  JdbcAuditStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public void record(AuditEntry e) {
    db.update("record audit entry", "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        e.at().toEpochMilli(), e.actor(), e.action(), e.target(), Jdbc.clip(e.detail()));
  }

  @Override
  public List<AuditEntry> recent(int limit, String actor) {
    return db.inTransaction("read audit log", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, actor, action, target, detail FROM audit"
          + (actor.isEmpty() ? "" : " WHERE actor = ?") + " ORDER BY seq DESC LIMIT " + Math.max(1, limit))) {
        if (!actor.isEmpty()) {
          ps.setString(1, actor);
        }
        List<AuditEntry> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new AuditEntry(rs.getLong(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3),
                rs.getString(4), rs.getString(5), rs.getString(6)));
          }
        }
        return out;
      }
    });
  }
}
