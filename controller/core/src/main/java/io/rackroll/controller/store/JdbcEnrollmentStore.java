package io.rackroll.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@link EnrollmentStore} over JDBC. */
final class JdbcEnrollmentStore implements EnrollmentStore {
  private final Jdbc db;

  JdbcEnrollmentStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public void createToken(NewToken token) {
    db.inTransaction("create token " + token.id(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO tokens (id, secret_hash, expires_at, uses_left, created_at, created_by, replaces, release_keys)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, token.id());
        ps.setString(2, token.secretHash());
        ps.setLong(3, token.expiresAt().toEpochMilli());
        ps.setInt(4, token.uses());
        ps.setLong(5, token.createdAt().toEpochMilli());
        ps.setString(6, token.createdBy());
        ps.setString(7, token.replaces());
        ps.setString(8, String.join("\n", token.releaseKeys()));
        ps.executeUpdate();
      }
      Rows.insertLabels(c, "token_labels", "token_id", token.id(), token.labels());
      return null;
    });
  }

  @Override
  public Redemption redeemToken(String tokenId, String secretHash, Instant now) {
    return db.inTransaction("redeem token " + tokenId, c -> {
      // One conditional UPDATE: the database, not this process, decides which racer gets the last use.
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND secret_hash = ? AND uses_left > 0 AND expires_at > ?")) {
        ps.setString(1, tokenId);
        ps.setString(2, secretHash);
        ps.setLong(3, now.toEpochMilli());
        if (ps.executeUpdate() == 1) {
          try (PreparedStatement q = c.prepareStatement("SELECT expires_at, created_by, replaces, release_keys FROM tokens"
              + " WHERE id = ?")) {
            q.setString(1, tokenId);
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              return new Redemption(Redemption.Outcome.ACCEPTED, Rows.labels(c, "token_labels", "token_id", tokenId),
                  Instant.ofEpochMilli(rs.getLong(1)), rs.getString(2), rs.getString(3),
                  rs.getString(4).isEmpty() ? List.of() : List.of(rs.getString(4).split("\n")));
            }
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT secret_hash, uses_left, expires_at FROM tokens WHERE id = ?")) {
        ps.setString(1, tokenId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next() || !rs.getString(1).equals(secretHash)) {
            return Redemption.refused(Redemption.Outcome.UNKNOWN, Instant.EPOCH);
          }
          Instant expires = Instant.ofEpochMilli(rs.getLong(3));
          if (!expires.isAfter(now)) {
            return Redemption.refused(Redemption.Outcome.EXPIRED, expires);
          }
          return Redemption.refused(Redemption.Outcome.USED_UP, expires);
        }
      }
    });
  }

  @Override
  public List<String> enroll(Enrollment e) {
    return db.inTransaction("enroll agent " + e.agentId(), c -> {
      List<String> refused = List.of();
      if (e.replaces()) {
        try (PreparedStatement ps = c.prepareStatement(
            "UPDATE agents SET cert_serial = ?, cert_not_after = ?, enrolled_with = ?, previous_cert_serial = '',"
                + " previous_cert_not_after = 0, revoked_at = NULL, cert_ca = ?,"
                + " state = CASE WHEN state = ? THEN ? ELSE state END WHERE id = ?")) {
          ps.setString(1, e.certificateSerial());
          ps.setLong(2, e.certificateNotAfter().toEpochMilli());
          ps.setString(3, e.tokenId());
          ps.setString(4, e.certificateCa());
          ps.setString(5, ConnectionState.REVOKED.label());
          ps.setString(6, ConnectionState.ENROLLED.label());
          ps.setString(7, e.agentId());
          if (ps.executeUpdate() == 0) {
            throw new StoreException("agent " + e.agentId() + " does not exist, so it cannot be replaced", null);
          }
        }
        // The host the id belonged to may still hold its key: none of its certificates works any more.
        refused = refuseIssued(c, e.agentId(), "replaced with token " + e.tokenId(), e.at());
        // A new token's labels replace the old ones.
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM agent_labels WHERE agent_id = ?")) {
          ps.setString(1, e.agentId());
          ps.executeUpdate();
        }
      } else {
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM agents WHERE id = ?")) {
          ps.setString(1, e.agentId());
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              throw new StoreException("agent " + e.agentId() + " already exists; only a token made with"
                  + " 'token create --replaces' may enroll a host as an existing agent", null);
            }
          }
        }
        try (PreparedStatement ps = c.prepareStatement(
            "INSERT INTO agents (id, state, state_since, first_seen, last_seen, cert_serial, cert_not_after, enrolled_with,"
                + " cert_ca) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
          long at = e.at().toEpochMilli();
          ps.setString(1, e.agentId());
          ps.setString(2, ConnectionState.ENROLLED.label());
          ps.setLong(3, at);
          ps.setLong(4, at);
          ps.setLong(5, at);
          ps.setString(6, e.certificateSerial());
          ps.setLong(7, e.certificateNotAfter().toEpochMilli());
          ps.setString(8, e.tokenId());
          ps.setString(9, e.certificateCa());
          ps.executeUpdate();
        }
      }
      Rows.insertLabels(c, "agent_labels", "agent_id", e.agentId(), e.labels());
      issued(c, e.agentId(), e.certificateSerial(), e.certificateNotAfter(), e.certificateFingerprint(), e.at());
      return refused;
    });
  }

  /** Records a certificate issued to {@code agentId}, so that revoking or replacing the agent refuses it. */
  private static void issued(Connection c, String agentId, String serial, Instant notAfter, String fingerprint,
      Instant at) throws SQLException {
    issued(c, Issued.AGENTS, agentId, serial, notAfter, at);
    if (!fingerprint.isEmpty()) {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE issued_certificates SET fingerprint = ? WHERE agent_id = ? AND serial = ?")) {
        ps.setString(1, fingerprint);
        ps.setString(2, agentId);
        ps.setString(3, serial);
        ps.executeUpdate();
      }
    }
  }

  @Override
  public Set<String> issuedFingerprints(Instant now) {
    return db.strings("read certificate fingerprints", "SELECT i.fingerprint FROM issued_certificates i"
        + " WHERE i.fingerprint <> '' AND i.not_after > ?"
        + " AND NOT EXISTS (SELECT 1 FROM revoked_certificates r WHERE r.serial = i.serial)", now.toEpochMilli());
  }


  @Override
  public void learnedFingerprint(String serial, String fingerprint) {
    db.update("record fingerprint of certificate " + serial,
        "UPDATE issued_certificates SET fingerprint = ? WHERE serial = ? AND fingerprint = ''", fingerprint, serial);
  }

  private static void issued(Connection c, Issued issued, String holder, String serial, Instant notAfter, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + issued.table + " (serial, " + issued.holder
        + ", not_after, issued_at) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, serial);
      ps.setString(2, holder);
      ps.setLong(3, notAfter.toEpochMilli());
      ps.setLong(4, at.toEpochMilli());
      ps.executeUpdate();
    }
  }

  /** Where the certificates issued to a kind of holder are listed: agents' or admins'. */
  private enum Issued {
    AGENTS("issued_certificates", "agent_id"), ADMINS("admin_certificates", "name");

    final String table;
    final String holder;

    Issued(String table, String holder) {
      this.table = table;
      this.holder = holder;
    }
  }

  private static List<String> refuseIssued(Connection c, String agentId, String by, Instant at) throws SQLException {
    return refuseIssued(c, Issued.AGENTS, agentId, by, at);
  }

  /**
   * Refuses every certificate issued to {@code holder} that has not expired at {@code at}, except
   * those refused already. Returns the serials refused now, newest first.
   */
  private static List<String> refuseIssued(Connection c, Issued issued, String holder, String by, Instant at)
      throws SQLException {
    Map<String, Long> certificates = unrefused(c, issued, holder, at);
    for (Map.Entry<String, Long> cert : certificates.entrySet()) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO revoked_certificates"
          + " (serial, agent_id, not_after, revoked_at, revoked_by) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, cert.getKey());
        ps.setString(2, holder);
        ps.setLong(3, cert.getValue());
        ps.setLong(4, at.toEpochMilli());
        ps.setString(5, by.length() > 63 ? by.substring(0, 63) : by);
        ps.executeUpdate();
      }
    }
    return List.copyOf(certificates.keySet());
  }

  @Override
  public List<String> certificatesOf(String agentId, Instant now) {
    return db.inTransaction("read certificates of " + agentId, c -> List.copyOf(unrefused(c, Issued.AGENTS, agentId, now).keySet()));
  }

  /** Serials (to their expiry) of the certificates issued to {@code holder}, unexpired at {@code at} and not refused. */
  private static Map<String, Long> unrefused(Connection c, Issued issued, String holder, Instant at) throws SQLException {
    Map<String, Long> certificates = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT i.serial, i.not_after FROM " + issued.table + " i"
        + " WHERE i." + issued.holder + " = ? AND i.not_after > ?"
        + " AND NOT EXISTS (SELECT 1 FROM revoked_certificates r WHERE r.serial = i.serial)"
        + " ORDER BY i.issued_at DESC, i.serial")) {
      ps.setString(1, holder);
      ps.setLong(2, at.toEpochMilli());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          certificates.put(rs.getString(1), rs.getLong(2));
        }
      }
    }
    return certificates;
  }

  @Override
  public Set<String> revokedAgents() {
    return db.strings("read revoked agents", "SELECT id FROM agents WHERE revoked_at IS NOT NULL");
  }


  @Override
  public boolean renewed(String agentId, String presentedSerial, String serial, Instant notAfter,
      String caFingerprint, String certificateFingerprint) {
    // From the current certificate, which becomes the previous one; else from the previous one (the
    // agent lost the answer to its last renewal), which stays. Never for a revoked agent.
    List<String> updates = List.of(
        "UPDATE agents SET previous_cert_serial = cert_serial, previous_cert_not_after = cert_not_after,"
            + " cert_serial = ?, cert_not_after = ?, cert_ca = ?"
            + " WHERE id = ? AND revoked_at IS NULL AND cert_serial = ?",
        "UPDATE agents SET cert_serial = ?, cert_not_after = ?, cert_ca = ?"
            + " WHERE id = ? AND revoked_at IS NULL AND previous_cert_serial = ?");
    return db.inTransaction("record renewed certificate of " + agentId, c -> {
      for (String sql : updates) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, serial);
          ps.setLong(2, notAfter.toEpochMilli());
          ps.setString(3, caFingerprint);
          ps.setString(4, agentId);
          ps.setString(5, presentedSerial);
          if (ps.executeUpdate() == 1) {
            issued(c, agentId, serial, notAfter, certificateFingerprint, Instant.now());
            return true;
          }
        }
      }
      return false;
    });
  }

  @Override
  public Optional<List<String>> revoke(String agentId, String by, Instant at) {
    return db.inTransaction("revoke agent " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE agents SET revoked_at = ?, state = ?, state_since = ?"
          + " WHERE id = ?")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, ConnectionState.REVOKED.label());
        ps.setLong(3, at.toEpochMilli());
        ps.setString(4, agentId);
        if (ps.executeUpdate() == 0) {
          return Optional.empty();
        }
      }
      List<String> refused = refuseIssued(c, agentId, by, at);
      return Optional.of(refused);
    });
  }

  @Override
  public boolean certificateRevoked(String serial) {
    return db.inTransaction("read revoked certificate " + serial, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM revoked_certificates WHERE serial = ?")) {
        ps.setString(1, serial);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    });
  }

  @Override
  public Set<String> revokedSerials(Instant now) {
    return db.strings("read revoked certificates", "SELECT serial FROM revoked_certificates WHERE not_after > ?",
        now.toEpochMilli());
  }


  // ---- admins ----

  @Override
  public List<StoredAdmin> admins(Instant at) {
    return db.inTransaction("read admins", c -> {
      List<StoredAdmin> out = new java.util.ArrayList<>();
      long now = at.toEpochMilli();
      try (PreparedStatement ps = c.prepareStatement("SELECT a.name, a.role, a.created_by, a.created_at, a.revoked_at,"
          + " a.revoked_by, a.environments, (SELECT COUNT(*) FROM admin_certificates i WHERE i.name = a.name AND i.not_after > ?"
          + " AND NOT EXISTS (SELECT 1 FROM revoked_certificates r WHERE r.serial = i.serial))"
          + " FROM admins a ORDER BY a.name")) {
        ps.setLong(1, now);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            long revokedAt = rs.getLong(5);
            Optional<Instant> revoked = rs.wasNull() ? Optional.empty() : Optional.of(Instant.ofEpochMilli(revokedAt));
            String environments = rs.getString(7);
            out.add(new StoredAdmin(rs.getString(1), rs.getString(2), environments.isEmpty() ? List.of()
                : List.of(environments.split(",")), rs.getString(3), Instant.ofEpochMilli(rs.getLong(4)), revoked,
                rs.getString(6), rs.getInt(8)));
          }
        }
      }
      return out;
    });
  }

  @Override
  public boolean addAdmin(String name, String role, List<String> environments, String serial, Instant notAfter,
      String by, Instant at) {
    return db.inTransaction("add admin " + name, c -> {
      if (!addAdmin(c, name, role, String.join(",", environments), by, at)) {
        return false;
      }
      recordAdminCertificate(c, name, serial, notAfter, at);
      return true;
    });
  }

  private static boolean addAdmin(Connection c, String name, String role, String environments, String by, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("UPDATE admins SET role = ?, environments = ?, created_at = ?,"
        + " created_by = ?, revoked_at = NULL, revoked_by = '' WHERE name = ? AND revoked_at IS NOT NULL")) {
      ps.setString(1, role);
      ps.setString(2, environments);
      ps.setLong(3, at.toEpochMilli());
      ps.setString(4, by);
      ps.setString(5, name);
      if (ps.executeUpdate() == 1) {
        return true;
      }
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM admins WHERE name = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return false;
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO admins (name, role, environments, created_at, created_by) VALUES (?, ?, ?, ?, ?)")) {
      ps.setString(1, name);
      ps.setString(2, role);
      ps.setString(3, environments);
      ps.setLong(4, at.toEpochMilli());
      ps.setString(5, by);
      ps.executeUpdate();
    }
    return true;
  }

  @Override
  public void adminIssued(String name, String serial, Instant notAfter, Instant at) {
    db.inTransaction("record certificate of admin " + name, c -> {
      recordAdminCertificate(c, name, serial, notAfter, at);
      return null;
    });
  }

  private static void recordAdminCertificate(Connection c, String name, String serial, Instant notAfter, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM admin_certificates WHERE serial = ?")) {
      ps.setString(1, serial);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return;
        }
      }
    }
    issued(c, Issued.ADMINS, name, serial, notAfter, at);
  }

  @Override
  public Optional<List<String>> revokeAdmin(String name, String by, Instant at) {
    return db.inTransaction("revoke admin " + name, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE admins SET revoked_at = ?, revoked_by = ?"
          + " WHERE name = ? AND revoked_at IS NULL")) {
        ps.setLong(1, at.toEpochMilli());
        ps.setString(2, by);
        ps.setString(3, name);
        if (ps.executeUpdate() == 0) {
          return Optional.empty();
        }
      }
      return Optional.of(refuseIssued(c, Issued.ADMINS, name, by, at));
    });
  }
}
