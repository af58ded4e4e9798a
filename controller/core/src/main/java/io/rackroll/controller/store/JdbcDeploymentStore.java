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

/** {@link DeploymentStore} over JDBC. */
final class JdbcDeploymentStore implements DeploymentStore {
  private final Jdbc db;

  JdbcDeploymentStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public void createDeployment(Deployment d) {
    db.fenced("create deployment " + d.id(), c -> {
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
        ps.setString(8, Rows.options(d.strategy()));
        ps.setString(9, d.state());
        ps.setInt(10, d.batch());
        ps.setInt(11, d.batches());
        ps.setInt(12, d.allowedFailures());
        ps.setString(13, Jdbc.clip(d.reason()));
        ps.setLong(14, d.updatedAt().toEpochMilli());
        ps.setString(15, d.environment());
        ps.setString(16, Jdbc.clip(d.windowOverride()));
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
          ps.setString(8, Jdbc.clip(h.failure()));
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

  @Override
  public Optional<Deployment> deployment(String id) {
    List<Deployment> found = deployments("read deployment " + id, "WHERE id = ?", id);
    return found.stream().findFirst();
  }

  @Override
  public List<Deployment> recent(int limit) {
    return deployments("list deployments", "ORDER BY created_at DESC, id LIMIT " + Math.max(1, limit));
  }

  @Override
  public List<Deployment> activeDeployments() {
    return deployments("list running deployments", "WHERE state NOT IN ('" + String.join("', '", Deployment.ENDED)
        + "') ORDER BY created_at, id");
  }

  private List<Deployment> deployments(String what, String where, Object... args) {
    return db.inTransaction(what, c -> {
      List<Deployment> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.DEPLOYMENT_COLUMNS + " FROM deployments " + where)) {
        for (int i = 0; i < args.length; i++) {
          ps.setObject(i + 1, args[i]);
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(Rows.deployment(rs));
          }
        }
      }
      List<Deployment> withHosts = new ArrayList<>();
      for (Deployment d : out) {
        withHosts.add(d.withHosts(Rows.hosts(c, d.id())));
      }
      return withHosts;
    });
  }

  @Override
  public void deploymentState(String id, String state, int batch, String reason, Instant at) {
    db.fencedUpdate("record state of deployment " + id,
        "UPDATE deployments SET state = ?, batch = ?, reason = ?, updated_at = ? WHERE id = ?",
        state, batch, Jdbc.clip(reason), at.toEpochMilli(), id);
  }

  @Override
  public void overrideWindows(String id, String reason) {
    db.fencedUpdate("record window override of deployment " + id, "UPDATE deployments SET window_override = ? WHERE id = ?",
        Jdbc.clip(reason), id);
  }

  @Override
  public List<EnvironmentRun> environmentRuns(String app) {
    return db.inTransaction("read promotions of " + app, c -> {
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
  public void hostPhase(String deploymentId, String agentId, HostPhase phase, String failureKind, String failure,
      Instant at) {
    db.fenced("record " + agentId + " in " + deploymentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE deployment_hosts SET phase = ?, failure_kind = ?,"
          + " failure = ?, updated_at = ? WHERE deployment_id = ? AND agent_id = ?")) {
        ps.setString(1, phase.name());
        ps.setString(2, failureKind);
        ps.setString(3, Jdbc.clip(failure));
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
  public void hostVersion(String deploymentId, String agentId, String version) {
    db.fenced("record the release of " + agentId + " in " + deploymentId, c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE deployment_hosts SET version = ? WHERE deployment_id = ?"
          + " AND agent_id = ? AND version = ''")) {
        ps.setString(1, version);
        ps.setString(2, deploymentId);
        ps.setString(3, agentId);
        ps.executeUpdate();
      }
      return null;
    });
  }

  @Override
  public void hostRevert(String deploymentId, String agentId, String revert, String detail, Instant at) {
    db.fenced("record revert of " + agentId + " in " + deploymentId, c -> {
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

  @Override
  public void hostNote(String deploymentId, String agentId, String what, String detail, Instant at) {
    db.fenced("record a late report of " + agentId + " in " + deploymentId, c -> {
      transition(c, deploymentId, agentId, what, detail, at);
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
      ps.setString(3, Jdbc.clip(detail));
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
    return transitions("read history of " + agentId, "WHERE t.agent_id = ? ORDER BY t.seq DESC LIMIT "
        + Math.max(1, limit), agentId);
  }

  @Override
  public List<Transition> recentFailures(int limit) {
    return transitions("read recent failures", "WHERE t.phase IN ('" + String.join("', '", HostPhase.failureNames()) + "')"
        + " ORDER BY t.seq DESC LIMIT " + Math.max(1, limit), null);
  }

  @Override
  public Map<String, Integer> deploymentCounts() {
    return db.counts("count deployments", "SELECT state, COUNT(*) FROM deployments GROUP BY state");
  }

  @Override
  public Map<String, Integer> activeHostPhases() {
    return db.counts("count hosts in deployments", "SELECT h.phase, COUNT(*) FROM deployment_hosts h"
        + " JOIN deployments d ON d.id = h.deployment_id WHERE d.state NOT IN ('"
        + String.join("', '", Deployment.ENDED) + "') GROUP BY h.phase");
  }

  private List<Transition> transitions(String what, String where, String arg) {
    return db.inTransaction(what, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT " + Rows.TRANSITION_COLUMNS
          + " FROM host_transitions t JOIN deployments d ON d.id = t.deployment_id " + where)) {
        if (arg != null) {
          ps.setString(1, arg);
        }
        List<Transition> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(Rows.transition(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public List<Deployment> flagChanges(String app, int limit) {
    return deployments("list flag changes of " + app, "WHERE kind = 'flags' AND app = ? ORDER BY created_at DESC, id"
        + " LIMIT " + Math.max(1, limit), app);
  }
}
