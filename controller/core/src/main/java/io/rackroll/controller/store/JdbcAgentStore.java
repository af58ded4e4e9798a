package io.rackroll.controller.store;

import io.rackroll.proto.v1.Facts;
import io.rackroll.release.FlagValues;
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

/** {@link AgentStore} over JDBC. */
final class JdbcAgentStore implements AgentStore {
  private final Jdbc db;

  JdbcAgentStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public void connected(String agentId, String agentVersion, Facts facts, Instant at, String node) {
    db.update("record hello of " + agentId,
        "UPDATE agents SET agent_version = ?, facts = ?, hostname = ?, system_serial = ?, state = ?,"
            + " state_since = ?, last_seen = ?, node = ? WHERE id = ? AND revoked_at IS NULL",
        agentVersion, facts.toByteArray(), facts.getHostname(), facts.getSystem().getSerial(),
        ConnectionState.CONNECTED.label(), at.toEpochMilli(), at.toEpochMilli(), node, agentId);
  }

  @Override
  public void factsChanged(String agentId, Facts facts) {
    db.update("record facts of " + agentId,
        "UPDATE agents SET facts = ?, hostname = ?, system_serial = ? WHERE id = ?",
        facts.toByteArray(), facts.getHostname(), facts.getSystem().getSerial(), agentId);
  }

  @Override
  public void stateChanged(String agentId, ConnectionState state, Instant at, String node) {
    db.update("record " + state.label() + " of " + agentId,
        "UPDATE agents SET state = ?, state_since = ? WHERE id = ? AND node = ? AND revoked_at IS NULL", state.label(),
        at.toEpochMilli(), agentId, node);
  }

  @Override
  public void lastSeen(Map<String, Instant> lastSeen) {
    if (lastSeen.isEmpty()) {
      return;
    }
    db.inTransaction("record heartbeats", c -> {
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
  public List<String> disconnectAll(Instant at, String node) {
    return db.inTransaction("mark agents disconnected", c -> {
      List<String> ids = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT id FROM agents WHERE node = ? AND state IN (?, ?)")) {
        ps.setString(1, node);
        ps.setString(2, ConnectionState.CONNECTED.label());
        ps.setString(3, ConnectionState.STALE.label());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(rs.getString(1));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE agents SET state = ?, state_since = ? WHERE node = ? AND state IN (?, ?)")) {
        ps.setString(1, ConnectionState.DISCONNECTED.label());
        ps.setLong(2, at.toEpochMilli());
        ps.setString(3, node);
        ps.setString(4, ConnectionState.CONNECTED.label());
        ps.setString(5, ConnectionState.STALE.label());
        ps.executeUpdate();
      }
      return ids;
    });
  }

  @Override
  public List<StoredAgent> all() {
    return db.inTransaction("list agents", c -> {
      Map<String, Map<String, String>> labels = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, label_key, label_value FROM agent_labels");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          labels.computeIfAbsent(rs.getString(1), k -> new LinkedHashMap<>()).put(rs.getString(2), rs.getString(3));
        }
      }
      List<StoredAgent> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.AGENT_COLUMNS + " FROM agents ORDER BY id");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(Rows.agent(rs, labels.getOrDefault(rs.getString(1), Map.of())));
        }
      }
      return out;
    });
  }

  @Override
  public Optional<StoredAgent> agent(String agentId) {
    return db.inTransaction("read agent " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.AGENT_COLUMNS + " FROM agents WHERE id = ?")) {
        ps.setString(1, agentId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          return Optional.of(Rows.agent(rs, Rows.labels(c, "agent_labels", "agent_id", agentId)));
        }
      }
    });
  }

  @Override
  public List<String> agentsWithSystemSerial(String serial) {
    return db.inTransaction("find agents by serial", c -> {
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
  public void hostJob(HostJob j) {
    Map<String, Object> columns = new LinkedHashMap<>();
    columns.put("version", j.version());
    columns.put("phase", j.phase());
    columns.put("failure_kind", j.failureKind());
    columns.put("failure", Jdbc.clip(j.failure()));
    columns.put("current_version", j.currentVersion());
    columns.put("previous_version", j.previousVersion());
    columns.put("kept_versions", String.join(",", j.keptVersions()));
    columns.put("config_digest", j.configDigest());
    db.inTransaction("record job of " + j.agentId(),
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
    return db.inTransaction("read hosts of " + app, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, current_version, previous_version,"
          + " kept_versions, phase, health, config_digest FROM agent_apps WHERE app = ?")) {
        ps.setString(1, app);
        Map<String, HostApp> out = new HashMap<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String kept = rs.getString(4);
            out.put(rs.getString(1), new HostApp(rs.getString(1), app, rs.getString(2), rs.getString(3),
                Rows.keptVersions(kept), rs.getString(5), rs.getString(6),
                rs.getString(7)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public void hostFlags(FlagsReport r) {
    db.inTransaction("record flags of " + r.app() + " on " + r.agentId(), c -> newestReport(c, "host_flags", r.agentId(),
        r.app(), r.at(), Map.of("flags", FlagValues.toJson(r.flags()))));
  }

  @Override
  public Map<String, ReportedFlags> hostFlags(String app) {
    return db.inTransaction("read flags of " + app, c -> {
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
  public void appHealth(String agentId, String app, boolean healthy, String line, Instant at) {
    db.update("record health of " + app + " on " + agentId,
        "UPDATE agent_apps SET health = ?, health_at = ?, unhealthy_since = CASE WHEN ? = 1 THEN 0"
            + " WHEN unhealthy_since = 0 THEN ? ELSE unhealthy_since END"
            + " WHERE agent_id = ? AND app = ? AND health_at <= ?",
        Jdbc.clip(line), at.toEpochMilli(), healthy ? 1 : 0, at.toEpochMilli(), agentId, app, at.toEpochMilli());
  }

  @Override
  public boolean labels(String agentId, Map<String, String> labels) {
    return db.inTransaction("label agent " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM agents WHERE id = ?")) {
        ps.setString(1, agentId);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return false;
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM agent_labels WHERE agent_id = ?")) {
        ps.setString(1, agentId);
        ps.executeUpdate();
      }
      Rows.insertLabels(c, "agent_labels", "agent_id", agentId, labels);
      return true;
    });
  }

  @Override
  public boolean remove(String agentId) {
    return db.inTransaction("remove agent " + agentId, c -> {
      for (String table : List.of("agent_labels", "agent_apps", "host_flags", "issued_certificates")) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE agent_id = ?")) {
          ps.setString(1, agentId);
          ps.executeUpdate();
        }
      }
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM agents WHERE id = ?")) {
        ps.setString(1, agentId);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public List<UnhealthyApp> unhealthyApps() {
    return db.inTransaction("read unhealthy apps", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, app, current_version, unhealthy_since, health"
          + " FROM agent_apps WHERE unhealthy_since > 0 ORDER BY unhealthy_since, agent_id, app LIMIT 10000")) {
        List<UnhealthyApp> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new UnhealthyApp(rs.getString(1), rs.getString(2), rs.getString(3),
                Instant.ofEpochMilli(rs.getLong(4)), rs.getString(5)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public Map<String, Integer> unhealthyCounts() {
    return db.counts("count unhealthy apps",
        "SELECT app, SUM(CASE WHEN unhealthy_since > 0 THEN 1 ELSE 0 END) FROM agent_apps GROUP BY app");
  }

  @Override
  public Map<String, String> appHealth(String agentId) {
    return db.inTransaction("read health of " + agentId, c -> {
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
  public List<HostJob> agentApps(String agentId) {
    return db.inTransaction("read apps of " + agentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT app, version, phase, failure_kind, failure,"
          + " current_version, previous_version, kept_versions, updated_at, config_digest FROM agent_apps"
          + " WHERE agent_id = ? ORDER BY app")) {
        ps.setString(1, agentId);
        List<HostJob> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String kept = rs.getString(8);
            out.add(new HostJob(agentId, "", rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), Rows.keptVersions(kept),
                Instant.ofEpochMilli(rs.getLong(9)), rs.getString(10)));
          }
        }
        return out;
      }
    });
  }

  @Override
  public Map<String, Map<String, String>> currentVersions() {
    return db.inTransaction("read every agent's current versions", c -> {
      Map<String, Map<String, String>> out = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT agent_id, app, current_version FROM agent_apps");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getString(3));
        }
      }
      return out;
    });
  }

  @Override
  public Map<String, Map<String, Integer>> agentCountsByRack() {
    return db.inTransaction("count agents by rack", c -> {
      Map<String, Map<String, Integer>> out = new TreeMap<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(l.label_value, ''), a.state, COUNT(*)"
          + " FROM agents a LEFT JOIN agent_labels l ON l.agent_id = a.id AND l.label_key = 'rack'"
          + " GROUP BY COALESCE(l.label_value, ''), a.state"); ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getString(1), k -> new TreeMap<>()).put(rs.getString(2), rs.getInt(3));
        }
      }
      return out;
    });
  }

  @Override
  public Optional<Instant> soonestCertificateExpiry() {
    return db.inTransaction("soonest agent certificate expiry", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT MIN(cert_not_after) FROM agents WHERE state <> ?")) {
        ps.setString(1, ConnectionState.REVOKED.label());
        try (ResultSet rs = ps.executeQuery()) {
          rs.next(); // MIN always answers one row, NULL when no agent counts
          long at = rs.getLong(1);
          return rs.wasNull() ? Optional.<Instant>empty() : Optional.of(Instant.ofEpochMilli(at));
        }
      }
    });
  }
}
