package io.rackroll.controller.store;

import com.google.protobuf.InvalidProtocolBufferException;
import io.rackroll.proto.v1.Facts;
import io.rackroll.release.FlagValues;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Rows to records and back, in one place: the column lists the parts select, and how a row of
 * each table becomes the record the rest of the controller sees.
 */
final class Rows {
  private Rows() {}

  static final String AGENT_COLUMNS =
      "id, facts, agent_version, state, state_since, first_seen, last_seen, cert_serial, cert_not_after, cert_ca";

  static final String RELEASE_COLUMNS =
      "name, version, digest, size_bytes, unpacked_bytes, manifest, pushed_by, pushed_at, unpacked_entries, signature";

  static final String DEPLOYMENT_COLUMNS = "id, kind, app, version, selector, created_by, created_at, strategy,"
      + " state, batch, batches, allowed_failures, reason, updated_at, environment, window_override, flags";

  static StoredAgent agent(ResultSet rs, Map<String, String> labels) throws SQLException {
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

  static Map<String, String> labels(Connection c, String table, String key, String id) throws SQLException {
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

  static void insertLabels(Connection c, String table, String key, String id, Map<String, String> labels)
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

  static Optional<StoredRelease> release(Connection c, String name, String version) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT " + RELEASE_COLUMNS
        + " FROM releases WHERE name = ? AND version = ?")) {
      ps.setString(1, name);
      ps.setString(2, version);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(release(rs)) : Optional.empty();
      }
    }
  }

  static StoredRelease release(ResultSet rs) throws SQLException {
    return new StoredRelease(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
        rs.getLong(9), rs.getString(6), rs.getString(7), Instant.ofEpochMilli(rs.getLong(8)), rs.getString(10));
  }

  static List<Deployment.Host> hosts(Connection c, String deploymentId) throws SQLException {
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

  static HostPhase hostPhase(String deploymentId, String stored) throws SQLException {
    Optional<HostPhase> phase = HostPhase.named(stored);
    if (phase.isEmpty()) {
      throw new SQLException("deployment " + deploymentId + " holds a host phase this controller does not know: "
          + stored);
    }
    return phase.get();
  }

  /** Strategy options as stored: one "key=value" per line, in the given order. */
  static String options(Map<String, String> options) {
    StringBuilder b = new StringBuilder();
    options.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
    return b.toString();
  }

  static Map<String, String> options(String text) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        m.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return m;
  }

  /** A deployment's own row, in {@link #DEPLOYMENT_COLUMNS} order, without its hosts. */
  static Deployment deployment(ResultSet rs) throws SQLException {
    return new Deployment(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
        rs.getString(6), Instant.ofEpochMilli(rs.getLong(7)), options(rs.getString(8)), rs.getString(9), rs.getInt(10),
        rs.getInt(11), rs.getInt(12), rs.getString(13), Instant.ofEpochMilli(rs.getLong(14)), rs.getString(15),
        rs.getString(16), rs.getString(17).isEmpty() ? Map.of() : FlagValues.changesFromJson(rs.getString(17)),
        List.of());
  }

  static final String TRANSITION_COLUMNS = "t.seq, t.deployment_id, d.app, t.agent_id, t.phase, t.version, t.detail,"
      + " t.at";

  /** A row of host_transitions joined with its deployment, in {@link #TRANSITION_COLUMNS} order. */
  static Transition transition(ResultSet rs) throws SQLException {
    return new Transition(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
        rs.getString(6), rs.getString(7), Instant.ofEpochMilli(rs.getLong(8)));
  }

  /** Kept versions as stored: comma-separated, oldest first. */
  static List<String> keptVersions(String stored) {
    return stored.isEmpty() ? List.of() : List.of(stored.split(","));
  }
}
