package io.rackroll.controller.store;

import com.google.protobuf.InvalidProtocolBufferException;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.rackroll.proto.v1.Facts;
import io.rackroll.release.FlagValues;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;

/**
 * The store over JDBC, in SQL that H2 and PostgreSQL both run unchanged. The schema is
 * versioned with Flyway migrations under {@code db/migration}; {@link #open} brings any
 * database up to date before the first query.
 */
public final class JdbcStore implements Store {
  private final DataSource dataSource;
  private final AutoCloseable owned;

  private JdbcStore(DataSource dataSource, AutoCloseable owned) {
    this.dataSource = dataSource;
    this.owned = owned;
  }

  /** Migrates and opens a store on a data source the caller owns and closes. */
  public static JdbcStore open(DataSource dataSource) {
    migrate(dataSource);
    return new JdbcStore(dataSource, null);
  }

  /** The embedded default: an H2 file database under {@code <data>/db/}, owned by this store. */
  public static JdbcStore embedded(Path dataDir) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("store");
    config.setJdbcUrl("jdbc:h2:file:" + dataDir.toAbsolutePath().resolve("db").resolve("rackroll")
        + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DEFAULT_NULL_ORDERING=HIGH");
    config.setMaximumPoolSize(4);
    HikariDataSource ds;
    try {
      ds = new HikariDataSource(config);
    } catch (RuntimeException e) {
      throw new StoreException("cannot open the database in " + dataDir.resolve("db") + ": " + e.getMessage(), e);
    }
    try {
      migrate(ds);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new JdbcStore(ds, ds);
  }

  /**
   * A PostgreSQL database, migrated to the current schema at open, owned by this store;
   * {@code shown} names it in errors without the URL's parameters.
   */
  static JdbcStore postgres(String url, String user, String password, String shown) {
    HikariConfig config = new HikariConfig();
    config.setPoolName("store");
    config.setJdbcUrl(url);
    if (!user.isEmpty()) {
      config.setUsername(user);
    }
    if (!password.isEmpty()) {
      config.setPassword(password);
    }
    config.setMaximumPoolSize(8);
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
    Connection lock;
    try {
      lock = oneControllerPer(ds, shown);
      migrate(ds);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new JdbcStore(ds, () -> {
      try (ds; lock) {
        // closed in reverse order: the lock's session first, then the pool
      }
    });
  }

  /** The advisory lock a controller's session holds on its database: "rackroll" in ASCII. */
  private static final long CONTROLLER_LOCK = 0x7261636b726f6c6cL;

  /**
   * Takes the database for this controller alone, as {@code controller.lock} does a data
   * directory: two controllers would both run the same rollouts. The lock belongs to the returned
   * connection's session, held open for the store's life; PostgreSQL lets go of it when the session
   * ends, a SIGKILL of the controller included. A controller restarted at once may find its old
   * session not yet gone, so the lock is tried for a few seconds before refusing.
   */
  private static Connection oneControllerPer(DataSource ds, String shown) {
    try {
      Connection c = ds.getConnection();
      long giveUp = System.nanoTime() + LOCK_PATIENCE.toNanos();
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
        ps.setLong(1, CONTROLLER_LOCK);
        do {
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getBoolean(1)) {
              return c;
            }
          }
          Thread.sleep(200); // polling the lock: PostgreSQL has no wait-with-timeout for advisory locks
        } while (System.nanoTime() < giveUp);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      c.close();
      throw new StoreException("another controller is using the database " + shown + "; run one controller per"
          + " database (stop the other, or give this one a database of its own)", null);
    } catch (SQLException e) {
      throw new StoreException("cannot lock the database " + shown + " for this controller: " + e.getMessage(), e);
    }
  }

  private static final java.time.Duration LOCK_PATIENCE = java.time.Duration.ofSeconds(5);

  private static void migrate(DataSource ds) {
    try {
      Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
    } catch (RuntimeException e) {
      String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
      throw new StoreException("cannot migrate the database schema: " + first + " (run with --debug for details)", e);
    }
  }

  @Override
  public void createToken(NewToken token) {
    inTransaction("create token " + token.id(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO tokens (id, secret_hash, expires_at, uses_left, created_at, created_by, replaces)"
              + " VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, token.id());
        ps.setString(2, token.secretHash());
        ps.setLong(3, token.expiresAt().toEpochMilli());
        ps.setInt(4, token.uses());
        ps.setLong(5, token.createdAt().toEpochMilli());
        ps.setString(6, token.createdBy());
        ps.setString(7, token.replaces());
        ps.executeUpdate();
      }
      insertLabels(c, "token_labels", "token_id", token.id(), token.labels());
      return null;
    });
  }

  @Override
  public Redemption redeemToken(String tokenId, String secretHash, Instant now) {
    return inTransaction("redeem token " + tokenId, c -> {
      // One conditional UPDATE: the database, not this process, decides which racer gets the last use.
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ? AND secret_hash = ? AND uses_left > 0 AND expires_at > ?")) {
        ps.setString(1, tokenId);
        ps.setString(2, secretHash);
        ps.setLong(3, now.toEpochMilli());
        if (ps.executeUpdate() == 1) {
          try (PreparedStatement q = c.prepareStatement("SELECT expires_at, created_by, replaces FROM tokens WHERE id = ?")) {
            q.setString(1, tokenId);
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              return new Redemption(Redemption.Outcome.ACCEPTED, labels(c, "token_labels", "token_id", tokenId),
                  Instant.ofEpochMilli(rs.getLong(1)), rs.getString(2), rs.getString(3));
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
    return inTransaction("enroll agent " + e.agentId(), c -> {
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
      insertLabels(c, "agent_labels", "agent_id", e.agentId(), e.labels());
      issued(c, e.agentId(), e.certificateSerial(), e.certificateNotAfter(), e.at());
      return refused;
    });
  }

  /** Records a certificate issued to {@code agentId}, so that revoking or replacing the agent refuses it. */
  private static void issued(Connection c, String agentId, String serial, Instant notAfter, Instant at)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO issued_certificates (serial, agent_id, not_after, issued_at) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, serial);
      ps.setString(2, agentId);
      ps.setLong(3, notAfter.toEpochMilli());
      ps.setLong(4, at.toEpochMilli());
      ps.executeUpdate();
    }
  }

  /**
   * Refuses every certificate issued to {@code agentId} that has not expired at {@code at}, except
   * those refused already. Returns the serials refused now, newest first.
   */
  private static List<String> refuseIssued(Connection c, String agentId, String by, Instant at) throws SQLException {
    Map<String, Long> certificates = unrefused(c, agentId, at);
    for (Map.Entry<String, Long> cert : certificates.entrySet()) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO revoked_certificates"
          + " (serial, agent_id, not_after, revoked_at, revoked_by) VALUES (?, ?, ?, ?, ?)")) {
        ps.setString(1, cert.getKey());
        ps.setString(2, agentId);
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
    return inTransaction("read certificates of " + agentId, c -> List.copyOf(unrefused(c, agentId, now).keySet()));
  }

  /** Serials (to their expiry) of the certificates issued to {@code agentId}, unexpired at {@code at} and not refused. */
  private static Map<String, Long> unrefused(Connection c, String agentId, Instant at) throws SQLException {
    Map<String, Long> certificates = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT i.serial, i.not_after FROM issued_certificates i"
        + " WHERE i.agent_id = ? AND i.not_after > ?"
        + " AND NOT EXISTS (SELECT 1 FROM revoked_certificates r WHERE r.serial = i.serial)"
        + " ORDER BY i.issued_at DESC, i.serial")) {
      ps.setString(1, agentId);
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
  public java.util.Set<String> revokedAgents() {
    return inTransaction("read revoked agents", c -> {
      java.util.Set<String> agents = new java.util.HashSet<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM agents WHERE revoked_at IS NOT NULL");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          agents.add(rs.getString(1));
        }
      }
      return agents;
    });
  }

  @Override
  public boolean renewed(String agentId, String presentedSerial, String serial, Instant notAfter,
      String caFingerprint) {
    // From the current certificate, which becomes the previous one; else from the previous one (the
    // agent lost the answer to its last renewal), which stays. Never for a revoked agent.
    List<String> updates = List.of(
        "UPDATE agents SET previous_cert_serial = cert_serial, previous_cert_not_after = cert_not_after,"
            + " cert_serial = ?, cert_not_after = ?, cert_ca = ?"
            + " WHERE id = ? AND revoked_at IS NULL AND cert_serial = ?",
        "UPDATE agents SET cert_serial = ?, cert_not_after = ?, cert_ca = ?"
            + " WHERE id = ? AND revoked_at IS NULL AND previous_cert_serial = ?");
    return inTransaction("record renewed certificate of " + agentId, c -> {
      for (String sql : updates) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, serial);
          ps.setLong(2, notAfter.toEpochMilli());
          ps.setString(3, caFingerprint);
          ps.setString(4, agentId);
          ps.setString(5, presentedSerial);
          if (ps.executeUpdate() == 1) {
            issued(c, agentId, serial, notAfter, Instant.now());
            return true;
          }
        }
      }
      return false;
    });
  }

  @Override
  public Optional<List<String>> revoke(String agentId, String by, Instant at) {
    return inTransaction("revoke agent " + agentId, c -> {
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
    return inTransaction("read revoked certificate " + serial, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM revoked_certificates WHERE serial = ?")) {
        ps.setString(1, serial);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next();
        }
      }
    });
  }

  @Override
  public java.util.Set<String> revokedSerials(Instant now) {
    return inTransaction("read revoked certificates", c -> {
      java.util.Set<String> serials = new java.util.HashSet<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT serial FROM revoked_certificates WHERE not_after > ?")) {
        ps.setLong(1, now.toEpochMilli());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            serials.add(rs.getString(1));
          }
        }
      }
      return serials;
    });
  }

  @Override
  public void connected(String agentId, String agentVersion, Facts facts, Instant at) {
    update("record hello of " + agentId,
        "UPDATE agents SET agent_version = ?, facts = ?, hostname = ?, system_serial = ?, state = ?,"
            + " state_since = ?, last_seen = ? WHERE id = ? AND revoked_at IS NULL",
        agentVersion, facts.toByteArray(), facts.getHostname(), facts.getSystem().getSerial(),
        ConnectionState.CONNECTED.label(), at.toEpochMilli(), at.toEpochMilli(), agentId);
  }

  @Override
  public void factsChanged(String agentId, Facts facts) {
    update("record facts of " + agentId,
        "UPDATE agents SET facts = ?, hostname = ?, system_serial = ? WHERE id = ?",
        facts.toByteArray(), facts.getHostname(), facts.getSystem().getSerial(), agentId);
  }

  @Override
  public void stateChanged(String agentId, ConnectionState state, Instant at) {
    update("record " + state.label() + " of " + agentId,
        "UPDATE agents SET state = ?, state_since = ? WHERE id = ? AND revoked_at IS NULL", state.label(),
        at.toEpochMilli(), agentId);
  }

  @Override
  public void lastSeen(Map<String, Instant> lastSeen) {
    if (lastSeen.isEmpty()) {
      return;
    }
    inTransaction("record heartbeats", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE agents SET last_seen = ? WHERE id = ? AND last_seen < ?")) {
        for (Map.Entry<String, Instant> e : lastSeen.entrySet()) {
          ps.setLong(1, e.getValue().toEpochMilli());
          ps.setString(2, e.getKey());
          ps.setLong(3, e.getValue().toEpochMilli());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  @Override
  public int disconnectAll(Instant at) {
    return inTransaction("mark agents disconnected", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE agents SET state = ?, state_since = ? WHERE state IN (?, ?)")) {
        ps.setString(1, ConnectionState.DISCONNECTED.label());
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, ConnectionState.CONNECTED.label());
        ps.setString(4, ConnectionState.STALE.label());
        return ps.executeUpdate();
      }
    });
  }

  private static final String AGENT_COLUMNS =
      "id, facts, agent_version, state, state_since, first_seen, last_seen, cert_serial, cert_not_after, cert_ca";

  @Override
  public List<StoredAgent> agents() {
    return inTransaction("list agents", c -> {
      Map<String, Map<String, String>> labels = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, label_key, label_value FROM agent_labels");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          labels.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getString(3));
        }
      }
      List<StoredAgent> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(agent(rs, labels.getOrDefault(rs.getString(1), Map.of())));
        }
      }
      return out;
    });
  }

  @Override
  public Optional<StoredAgent> agent(String agentId) {
    return inTransaction("read agent " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + AGENT_COLUMNS + " FROM agents WHERE id = ?")) {
        ps.setString(1, agentId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          return Optional.of(agent(rs, labels(c, "agent_labels", "agent_id", agentId)));
        }
      }
    });
  }

  @Override
  public List<String> agentsWithSystemSerial(String serial) {
    return inTransaction("find agents by serial", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM agents WHERE system_serial = ? ORDER BY id")) {
        ps.setString(1, serial);
        List<String> ids = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
          }
        }
        return ids;
      }
    });
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
    return inTransaction("record release " + r.ref(), c -> {
      Optional<StoredRelease> existing = release(c, r.name(), r.version());
      if (existing.isPresent()) {
        return existing.get();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO releases (name, version, digest, size_bytes,"
          + " unpacked_bytes, manifest, pushed_by, pushed_at, unpacked_entries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, r.name());
        ps.setString(2, r.version());
        ps.setString(3, r.digest());
        ps.setLong(4, r.sizeBytes());
        ps.setLong(5, r.unpackedBytes());
        ps.setString(6, r.manifest());
        ps.setString(7, r.pushedBy());
        ps.setLong(8, r.pushedAt().toEpochMilli());
        ps.setLong(9, r.unpackedEntries());
        ps.executeUpdate();
      }
      return r;
    });
  }

  @Override
  public Optional<StoredRelease> release(String name, String version) {
    return inTransaction("read release " + name + "@" + version, c -> release(c, name, version));
  }

  @Override
  public List<StoredRelease> releases(String name) {
    return inTransaction("list releases", c -> {
      String where = name.isEmpty() ? "" : " WHERE name = ?";
      try (PreparedStatement ps = c.prepareStatement("SELECT " + RELEASE_COLUMNS + " FROM releases" + where
          + " ORDER BY pushed_at DESC, name, version")) {
        if (!name.isEmpty()) {
          ps.setString(1, name);
        }
        List<StoredRelease> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(release(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public void createDeployment(Deployment d) {
    inTransaction("create deployment " + d.id(), c -> {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO deployments (id, kind, app, version, selector,"
          + " created_by, created_at, strategy, state, batch, batches, allowed_failures, reason, updated_at,"
          + " environment, window_override, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        ps.setString(1, d.id());
        ps.setString(2, d.kind());
        ps.setString(3, d.app());
        ps.setString(4, d.version());
        ps.setString(5, d.selector());
        ps.setString(6, d.createdBy());
        ps.setLong(7, d.createdAt().toEpochMilli());
        ps.setString(8, options(d.strategy()));
        ps.setString(9, d.state());
        ps.setInt(10, d.batch());
        ps.setInt(11, d.batches());
        ps.setInt(12, d.allowedFailures());
        ps.setString(13, clip(d.reason()));
        ps.setLong(14, d.updatedAt().toEpochMilli());
        ps.setString(15, d.environment());
        ps.setString(16, clip(d.windowOverride()));
        ps.setString(17, d.flags().isEmpty() ? "" : FlagValues.toJson(d.flags()));
        ps.executeUpdate();
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO deployment_hosts (deployment_id, agent_id, hostname,"
          + " domain, batch, phase, failure_kind, failure, version, before_version, revert, updated_at, before_config)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
        for (Deployment.Host h : d.hosts()) {
          ps.setString(1, d.id());
          ps.setString(2, h.agentId());
          ps.setString(3, h.hostname());
          ps.setString(4, h.domain());
          ps.setInt(5, h.batch());
          ps.setString(6, h.phase().name());
          ps.setString(7, h.failureKind());
          ps.setString(8, clip(h.failure()));
          ps.setString(9, h.version());
          ps.setString(10, h.beforeVersion());
          ps.setString(11, h.revert());
          ps.setLong(12, h.updatedAt().toEpochMilli());
          ps.setString(13, h.beforeConfig());
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return null;
    });
  }

  private static final String DEPLOYMENT_COLUMNS = "id, kind, app, version, selector, created_by, created_at, strategy,"
      + " state, batch, batches, allowed_failures, reason, updated_at, environment, window_override, flags";

  @Override
  public Optional<Deployment> deployment(String id) {
    List<Deployment> found = deployments("read deployment " + id, "WHERE id = ?", id);
    return found.stream().findFirst();
  }

  @Override
  public List<Deployment> deployments(int limit) {
    return deployments("list deployments", "ORDER BY created_at DESC, id FETCH FIRST " + Math.max(1, limit) + " ROWS ONLY");
  }

  @Override
  public List<Deployment> activeDeployments() {
    return deployments("list running deployments", "WHERE state NOT IN ('" + String.join("', '", Deployment.ENDED)
        + "') ORDER BY created_at, id");
  }

  private List<Deployment> deployments(String what, String where, Object... args) {
    return inTransaction(what, c -> {
      List<Deployment> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + DEPLOYMENT_COLUMNS + " FROM deployments " + where)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Deployment(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)), options(rs.getString(8)),
                rs.getString(9), rs.getInt(10), rs.getInt(11), rs.getInt(12), rs.getString(13),
                Instant.ofEpochMilli(rs.getLong(14)), rs.getString(15), rs.getString(16),
                rs.getString(17).isEmpty() ? Map.of() : FlagValues.changesFromJson(rs.getString(17)), List.of()));
          }
        }
      }
      List<Deployment> withHosts = new ArrayList<>();
      for (Deployment d : out) {
        withHosts.add(d.withHosts(hosts(c, d.id())));
      }
      return withHosts;
    });
  }

  private static List<Deployment.Host> hosts(Connection c, String deploymentId) throws SQLException {
    List<Deployment.Host> hosts = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, hostname, domain, batch, phase, failure_kind,"
        + " failure, version, before_version, before_config, revert, updated_at FROM deployment_hosts WHERE deployment_id = ?"
        + " ORDER BY batch, domain, hostname, agent_id")) {
      ps.setString(1, deploymentId);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          hosts.add(new Deployment.Host(rs.getString(1), rs.getString(2), rs.getString(3), rs.getInt(4),
              hostPhase(deploymentId, rs.getString(5)), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
              rs.getString(11), Instant.ofEpochMilli(rs.getLong(12))));
        }
      }
    }
    return hosts;
  }

  private static HostPhase hostPhase(String deploymentId, String stored) throws SQLException {
    Optional<HostPhase> phase = HostPhase.named(stored);
    if (phase.isEmpty()) {
      throw new SQLException("deployment " + deploymentId + " holds a host phase this controller does not know: "
          + stored);
    }
    return phase.get();
  }

  @Override
  public void deploymentState(String id, String state, int batch, String reason, Instant at) {
    update("record state of deployment " + id,
        "UPDATE deployments SET state = ?, batch = ?, reason = ?, updated_at = ? WHERE id = ?",
        state, batch, clip(reason), at.toEpochMilli(), id);
  }

  @Override
  public void overrideWindows(String id, String reason) {
    update("record window override of deployment " + id, "UPDATE deployments SET window_override = ? WHERE id = ?",
        clip(reason), id);
  }

  @Override
  public List<EnvironmentRun> environmentRuns(String app) {
    return inTransaction("read promotions of " + app, c -> {
      List<EnvironmentRun> runs = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT d.id, d.version, d.environment, d.state, d.created_at,"
          + " (SELECT COUNT(*) FROM deployment_hosts h WHERE h.deployment_id = d.id AND h.batch >= 0),"
          + " (SELECT COUNT(*) FROM deployment_hosts h WHERE h.deployment_id = d.id AND h.phase IN ('"
          + String.join("', '", HostPhase.failureNames()) + "'))"
          + " FROM deployments d WHERE d.app = ? AND d.environment <> '' ORDER BY d.created_at DESC, d.id")) {
        ps.setString(1, app);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            runs.add(new EnvironmentRun(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                Instant.ofEpochMilli(rs.getLong(5)), rs.getInt(6), rs.getInt(7)));
          }
        }
      }
      return runs;
    });
  }

  @Override
  public int applyEnvironments(String yaml, String by, Instant at) {
    return inTransaction("record environments file", c -> {
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
    inTransaction("set secret " + secret.name() + " of " + secret.environment(), c -> {
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
    return inTransaction("remove secret " + name + " of " + environment, c -> {
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
    return inTransaction("read secrets", c -> {
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
    return inTransaction("read environments file", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT version, yaml, applied_by, applied_at"
          + " FROM environment_files ORDER BY version DESC FETCH FIRST 1 ROWS ONLY");
          ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new EnvironmentFile(rs.getInt(1), rs.getString(2), rs.getString(3),
            Instant.ofEpochMilli(rs.getLong(4)))) : Optional.empty();
      }
    });
  }

  @Override
  public void hostPhase(String deploymentId, String agentId, HostPhase phase, String failureKind, String failure,
      Instant at) {
    inTransaction("record " + agentId + " in " + deploymentId, c -> {
      String version;
      try (PreparedStatement ps = c.prepareStatement("UPDATE deployment_hosts SET phase = ?, failure_kind = ?,"
          + " failure = ?, updated_at = ? WHERE deployment_id = ? AND agent_id = ?")) {
        ps.setString(1, phase.name());
        ps.setString(2, failureKind);
        ps.setString(3, clip(failure));
        ps.setLong(4, at.toEpochMilli());
        ps.setString(5, deploymentId);
        ps.setString(6, agentId);
        if (ps.executeUpdate() == 0) {
          throw new SQLException("no host " + agentId + " in deployment " + deploymentId);
        }
      }
      transition(c, deploymentId, agentId, phase.name(), failure, at);
      return null;
    });
  }

  @Override
  public void hostRevert(String deploymentId, String agentId, String revert, String detail, Instant at) {
    inTransaction("record revert of " + agentId + " in " + deploymentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE deployment_hosts SET revert = ?, updated_at = ?"
          + " WHERE deployment_id = ? AND agent_id = ?")) {
        ps.setString(1, revert);
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, deploymentId);
        ps.setString(4, agentId);
        ps.executeUpdate();
      }
      transition(c, deploymentId, agentId, "REVERT_" + revert, detail, at);
      return null;
    });
  }

  private static void transition(Connection c, String deploymentId, String agentId, String phase, String detail,
      Instant at) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO host_transitions (deployment_id, agent_id, phase,"
        + " version, detail, at) SELECT deployment_id, agent_id, ?, CASE WHEN ? LIKE 'REVERT%' THEN before_version"
        + " ELSE version END, ?, ? FROM deployment_hosts WHERE deployment_id = ? AND agent_id = ?")) {
      ps.setString(1, phase);
      ps.setString(2, phase);
      ps.setString(3, clip(detail));
      ps.setLong(4, at.toEpochMilli());
      ps.setString(5, deploymentId);
      ps.setString(6, agentId);
      ps.executeUpdate();
    }
  }

  @Override
  public List<Transition> transitions(String deploymentId) {
    return transitions("read transitions of " + deploymentId, "WHERE t.deployment_id = ? ORDER BY t.seq", deploymentId);
  }

  @Override
  public List<Transition> history(String agentId, int limit) {
    return transitions("read history of " + agentId, "WHERE t.agent_id = ? ORDER BY t.seq DESC FETCH FIRST "
        + Math.max(1, limit) + " ROWS ONLY", agentId);
  }

  @Override
  public List<Transition> recentFailures(int limit) {
    return transitions("read recent failures", "WHERE t.phase IN ('" + String.join("', '", HostPhase.failureNames()) + "')"
        + " ORDER BY t.seq DESC FETCH FIRST " + Math.max(1, limit) + " ROWS ONLY", null);
  }

  @Override
  public Map<String, Integer> agentCounts() {
    return counts("count agents", "SELECT state, COUNT(*) FROM agents GROUP BY state");
  }

  @Override
  public Map<String, Integer> deploymentCounts() {
    return counts("count deployments", "SELECT state, COUNT(*) FROM deployments GROUP BY state");
  }

  @Override
  public Map<String, Integer> activeHostPhases() {
    return counts("count hosts in deployments", "SELECT h.phase, COUNT(*) FROM deployment_hosts h"
        + " JOIN deployments d ON d.id = h.deployment_id WHERE d.state NOT IN ('"
        + String.join("', '", Deployment.ENDED) + "') GROUP BY h.phase");
  }

  private Map<String, Integer> counts(String what, String sql) {
    return inTransaction(what, c -> {
      Map<String, Integer> out = new java.util.TreeMap<>();
      try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), rs.getInt(2));
        }
      }
      return out;
    });
  }

  private List<Transition> transitions(String what, String where, String arg) {
    return inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT t.seq, t.deployment_id, d.app, t.agent_id, t.phase,"
          + " t.version, t.detail, t.at FROM host_transitions t JOIN deployments d ON d.id = t.deployment_id " + where)) {
        if (arg != null) {
          ps.setString(1, arg);
        }
        List<Transition> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Transition(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                rs.getString(6), rs.getString(7), Instant.ofEpochMilli(rs.getLong(8))));
          }
        }
        return out;
      }
    });
  }

  @Override
  public void hostJob(HostJob j) {
    Map<String, Object> columns = new LinkedHashMap<>();
    columns.put("version", j.version());
    columns.put("phase", j.phase());
    columns.put("failure_kind", j.failureKind());
    columns.put("failure", clip(j.failure()));
    columns.put("current_version", j.currentVersion());
    columns.put("previous_version", j.previousVersion());
    columns.put("kept_versions", String.join(",", j.keptVersions()));
    columns.put("config_digest", j.configDigest());
    inTransaction("record job of " + j.agentId(),
        c -> newestReport(c, "agent_apps", j.agentId(), j.app(), j.at(), columns));
  }

  /**
   * Stores a host's report about an app as the row of {@code (agentId, app)} in {@code table},
   * unless that row holds a newer one: reports can arrive out of order. One UPDATE in the common
   * case; when it changes nothing (the host's first report of the app, or an older one), a check,
   * and an INSERT for the first.
   *
   * @param columns the report's columns besides agent_id, app and updated_at, by name
   */
  private static Void newestReport(Connection c, String table, String agentId, String app, Instant at,
      Map<String, Object> columns) throws SQLException {
    List<Object> values = new ArrayList<>(columns.values());
    String set = String.join(" = ?, ", columns.keySet()) + " = ?";
    int updated;
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET " + set + ", updated_at = ?"
        + " WHERE agent_id = ? AND app = ? AND updated_at <= ?")) {
      bind(ps, values, at.toEpochMilli(), agentId, app, at.toEpochMilli());
      updated = ps.executeUpdate();
    }
    if (updated > 0) {
      return null;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM " + table + " WHERE agent_id = ? AND app = ?")) {
      bind(ps, List.of(), agentId, app);
      try (ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          return null; // a newer report is stored
        }
      }
    }
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (" + String.join(", ", columns.keySet())
        + ", updated_at, agent_id, app) VALUES (" + "?, ".repeat(columns.size()) + "?, ?, ?)")) {
      bind(ps, values, at.toEpochMilli(), agentId, app);
      ps.executeUpdate();
    }
    return null;
  }

  private static void bind(PreparedStatement ps, List<Object> first, Object... rest) throws SQLException {
    int i = 1;
    for (Object v : first) {
      ps.setObject(i++, v);
    }
    for (Object v : rest) {
      ps.setObject(i++, v);
    }
  }

  @Override
  public Map<String, HostApp> hostApps(String app) {
    return inTransaction("read hosts of " + app, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, current_version, previous_version,"
          + " kept_versions, phase, health, config_digest FROM agent_apps WHERE app = ?")) {
        ps.setString(1, app);
        Map<String, HostApp> out = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String kept = rs.getString(4);
            out.put(rs.getString(1), new HostApp(rs.getString(1), app, rs.getString(2), rs.getString(3),
                kept.isEmpty() ? List.of() : List.of(kept.split(",")), rs.getString(5), rs.getString(6),
                rs.getString(7)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public void hostFlags(FlagsReport r) {
    inTransaction("record flags of " + r.app() + " on " + r.agentId(), c -> newestReport(c, "host_flags", r.agentId(),
        r.app(), r.at(), Map.of("flags", FlagValues.toJson(r.flags()))));
  }

  @Override
  public Map<String, ReportedFlags> hostFlags(String app) {
    return inTransaction("read flags of " + app, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, flags, updated_at FROM host_flags WHERE app = ?")) {
        ps.setString(1, app);
        Map<String, ReportedFlags> out = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), new ReportedFlags(FlagValues.fromJson(rs.getString(2)),
                Instant.ofEpochMilli(rs.getLong(3))));
          }
        }
        return out;
      }
    });
  }

  @Override
  public void environmentFlags(String environment, String app, Map<String, String> changes, Instant at) {
    inTransaction("record flags of " + app + " in " + environment, c -> {
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
    return inTransaction("read environments' flags of " + app, c -> environmentFlags(c, app));
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

  @Override
  public List<Deployment> flagChanges(String app, int limit) {
    return deployments("list flag changes of " + app, "WHERE kind = 'flags' AND app = ? ORDER BY created_at DESC, id"
        + " FETCH FIRST " + Math.max(1, limit) + " ROWS ONLY", app);
  }

  @Override
  public void audit(AuditEntry e) {
    update("record audit entry", "INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        e.at().toEpochMilli(), e.actor(), e.action(), e.target(), clip(e.detail()));
  }

  @Override
  public List<AuditEntry> audit(int limit) {
    return inTransaction("read audit log", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT seq, at, actor, action, target, detail FROM audit"
          + " ORDER BY seq DESC FETCH FIRST " + Math.max(1, limit) + " ROWS ONLY")) {
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

  /** Strategy options as stored: one "key=value" per line, in the given order. */
  private static String options(Map<String, String> options) {
    StringBuilder b = new StringBuilder();
    options.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return b.toString();
  }

  private static Map<String, String> options(String text) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return m;
  }

  @Override
  public void appHealth(String agentId, String app, String line, Instant at) {
    update("record health of " + app + " on " + agentId,
        "UPDATE agent_apps SET health = ?, health_at = ? WHERE agent_id = ? AND app = ? AND health_at <= ?",
        clip(line), at.toEpochMilli(), agentId, app, at.toEpochMilli());
  }

  @Override
  public Map<String, String> appHealth(String agentId) {
    return inTransaction("read health of " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT app, health FROM agent_apps WHERE agent_id = ?")) {
        ps.setString(1, agentId);
        Map<String, String> out = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.put(rs.getString(1), rs.getString(2));
          }
        }
        return out;
      }
    });
  }

  @Override
  public boolean agentMayFetch(String agentId, String digest) {
    return inTransaction("authorize download for " + agentId, c -> {
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

  @Override
  public List<HostJob> agentApps(String agentId) {
    return inTransaction("read apps of " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT app, version, phase, failure_kind, failure,"
          + " current_version, previous_version, kept_versions, updated_at, config_digest FROM agent_apps"
          + " WHERE agent_id = ? ORDER BY app")) {
        ps.setString(1, agentId);
        List<HostJob> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String kept = rs.getString(8);
            out.add(new HostJob(agentId, "", rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), kept.isEmpty() ? List.of() : List.of(kept.split(",")),
                Instant.ofEpochMilli(rs.getLong(9)), rs.getString(10)));
          }
        }
        return out;
      }
    });
  }

  private static String clip(String s) {
    return s.length() <= 4000 ? s : s.substring(0, 3997) + "...";
  }

  private static final String RELEASE_COLUMNS =
      "name, version, digest, size_bytes, unpacked_bytes, manifest, pushed_by, pushed_at, unpacked_entries";

  private static Optional<StoredRelease> release(Connection c, String name, String version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + RELEASE_COLUMNS
        + " FROM releases WHERE name = ? AND version = ?")) {
      ps.setString(1, name);
      ps.setString(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(release(rs)) : Optional.empty();
      }
    }
  }

  private static StoredRelease release(ResultSet rs) throws SQLException {
    return new StoredRelease(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
        rs.getLong(9), rs.getString(6), rs.getString(7), Instant.ofEpochMilli(rs.getLong(8)));
  }

  @Override
  public void close() {
    if (owned != null) {
      try {
        owned.close();
      } catch (Exception e) {
        throw new StoreException("cannot close the database", e);
      }
    }
  }

  private static StoredAgent agent(ResultSet rs, Map<String, String> labels) throws SQLException {
    byte[] factBytes = rs.getBytes(2);
    Facts facts;
    try {
      facts = factBytes == null ? Facts.getDefaultInstance() : Facts.parseFrom(factBytes);
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("agent " + rs.getString(1) + ": stored facts are corrupt", e);
    }
    return new StoredAgent(rs.getString(1), labels, facts, rs.getString(3), ConnectionState.of(rs.getString(4)),
        Instant.ofEpochMilli(rs.getLong(5)), Instant.ofEpochMilli(rs.getLong(6)), Instant.ofEpochMilli(rs.getLong(7)),
        rs.getString(8), Instant.ofEpochMilli(rs.getLong(9)), rs.getString(10));
  }

  private static Map<String, String> labels(Connection c, String table, String key, String id) throws SQLException {
    Map<String, String> labels = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT label_key, label_value FROM " + table + " WHERE " + key + " = ? ORDER BY label_key")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          labels.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return labels;
  }

  private static void insertLabels(Connection c, String table, String key, String id, Map<String, String> labels)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (" + key + ", label_key, label_value) VALUES (?, ?, ?)")) {
      for (Map.Entry<String, String> label : labels.entrySet()) {
        ps.setString(1, id);
        ps.setString(2, label.getKey());
        ps.setString(3, label.getValue());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private void update(String what, String sql, Object... args) {
    inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        return ps.executeUpdate();
      }
    });
  }

  private interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  private <T> T inTransaction(String what, Work<T> work) {
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
}
