package io.rackroll.controller.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** {@link ClusterStore} in PostgreSQL. */
final class JdbcClusterStore implements ClusterStore {
  private final Jdbc db;
  /** The transaction lock event writers take: "rrevents" in ASCII. */
  private static final long EVENTS_LOCK = 0x72726576656e7473L;

  JdbcClusterStore(Jdbc db) {
    this.db = db;
  }

  @Override
  public void nodeUp(String name, String instance, String address, String version) {
    // What an earlier run of this node left unsent is out of date: the leader sends again what is not.
    db.update("forget the commands an earlier run of node " + name + " left", "DELETE FROM agent_outbox WHERE node = ?",
        name);
    db.update("record controller node " + name,
        "INSERT INTO controller_nodes (name, instance, address, version, started_at, seen_at)"
            + " VALUES (?, ?, ?, ?, clock_timestamp(), clock_timestamp())"
            + " ON CONFLICT (name) DO UPDATE SET instance = EXCLUDED.instance, address = EXCLUDED.address,"
            + " version = EXCLUDED.version, started_at = EXCLUDED.started_at, seen_at = EXCLUDED.seen_at",
        name, instance, address, version);
  }

  @Override
  public boolean nodeSeen(String name, String instance) {
    return db.inTransaction("record controller node " + name + " alive", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE controller_nodes SET seen_at = clock_timestamp() WHERE name = ? AND instance = ?")) {
        ps.setString(1, name);
        ps.setString(2, instance);
        return ps.executeUpdate() == 1;
      }
    });
  }

  @Override
  public Optional<NameHolder> holderOf(String name) {
    return db.inTransaction("find who runs as controller node " + name, c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT instance, address,"
          + " CAST(EXTRACT(EPOCH FROM (clock_timestamp() - seen_at)) * 1000 AS BIGINT)"
          + " FROM controller_nodes WHERE name = ?")) {
        ps.setString(1, name);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(new NameHolder(rs.getString(1), rs.getString(2),
              Duration.ofMillis(Math.max(0, rs.getLong(3))))) : Optional.<NameHolder>empty();
        }
      }
    });
  }

  @Override
  public void nodeGone(String name) {
    db.inTransaction("remove controller node " + name, c -> {
      for (String sql : List.of("DELETE FROM agent_outbox WHERE node = ?", "DELETE FROM controller_nodes WHERE name = ?")) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, name);
          ps.executeUpdate();
        }
      }
      return null;
    });
  }

  @Override
  public List<Node> nodes(Duration within) {
    return db.inTransaction("list controller nodes", c -> {
      List<Node> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT n.name, n.address, n.version, n.started_at, n.seen_at,"
          + " n.seen_at > clock_timestamp() - ? * INTERVAL '1 millisecond',"
          + " (SELECT COUNT(*) FROM agents a WHERE a.node = n.name AND a.state IN ('connected', 'stale'))"
          + " FROM controller_nodes n ORDER BY n.name")) {
        ps.setLong(1, within.toMillis());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Node(rs.getString(1), rs.getString(2), rs.getString(3), rs.getTimestamp(4).toInstant(),
                rs.getTimestamp(5).toInstant(), rs.getBoolean(6), rs.getInt(7)));
          }
        }
      }
      return out;
    });
  }

  @Override
  public List<String> lapsedNodes(Duration within) {
    return new ArrayList<>(db.strings("find lapsed controller nodes",
        "SELECT name FROM controller_nodes WHERE seen_at <= clock_timestamp() - ? * INTERVAL '1 millisecond'",
        within.toMillis()));
  }

  @Override
  public void orderEvents() {
    db.inTransaction("order the nodes' events", c -> {
      lockEvents(c);
      return null;
    });
  }

  /**
   * One writer of events at a time until commit, so seq follows commit order and the leader,
   * reading after the last seq it saw, never passes over an event committed late.
   */
  private static void lockEvents(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, EVENTS_LOCK);
      ps.execute();
    }
  }

  @Override
  public void event(String node, String agentId, String kind, byte[] body) {
    db.inTransaction("record what agent " + agentId + " said", c -> {
      lockEvents(c);
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO node_events (node, agent_id, kind, body) VALUES (?, ?, ?, ?)")) {
        ps.setString(1, node);
        ps.setString(2, agentId);
        ps.setString(3, kind);
        ps.setBytes(4, body);
        ps.executeUpdate();
      }
      notify(c, EVENTS, "");
      return null;
    });
  }

  @Override
  public void announce(String node, String what) {
    db.inTransaction("tell the other controller nodes " + what + " changed", c -> {
      notify(c, CHANGED, node + ":" + what);
      return null;
    });
  }

  @Override
  public List<Event> eventsAfter(long seq, int limit) {
    return db.inTransaction("read the nodes' events", c -> {
      List<Event> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT seq, node, agent_id, kind, body FROM node_events"
          + " WHERE seq > ? ORDER BY seq LIMIT ?")) {
        ps.setLong(1, seq);
        ps.setInt(2, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Event(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getBytes(5)));
          }
        }
      }
      return out;
    });
  }

  @Override
  public long lastEvent() {
    return db.inTransaction("read the nodes' last event", c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT COALESCE(MAX(seq), 0) FROM node_events");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  @Override
  public int pruneEvents(Duration age) {
    return db.inTransaction("forget old events of the nodes", c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "DELETE FROM node_events WHERE at < clock_timestamp() - ? * INTERVAL '1 millisecond'")) {
        ps.setLong(1, age.toMillis());
        return ps.executeUpdate();
      }
    });
  }

  @Override
  public void send(String node, String agentId, byte[] command) {
    db.fenced("send agent " + agentId + " a command through node " + node, c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO agent_outbox (node, agent_id, command) VALUES (?, ?, ?)")) {
        ps.setString(1, node);
        ps.setString(2, agentId);
        ps.setBytes(3, command);
        ps.executeUpdate();
      }
      notify(c, OUTBOX, node);
      return null;
    });
  }

  @Override
  public List<Outgoing> take(String node, int limit) {
    return db.inTransaction("take the commands for node " + node, c -> {
      List<Outgoing> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM agent_outbox WHERE seq IN (SELECT seq FROM agent_outbox"
          + " WHERE node = ? ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING seq, agent_id, command")) {
        ps.setString(1, node);
        ps.setInt(2, limit);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(new Outgoing(rs.getLong(1), rs.getString(2), rs.getBytes(3)));
          }
        }
      }
      out.sort(java.util.Comparator.comparingLong(Outgoing::seq)); // RETURNING keeps no order
      return out;
    });
  }

  @Override
  public Map<String, Holding> holdings() {
    return db.inTransaction("read which node holds each agent", c -> {
      Map<String, Holding> out = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT id, node, state FROM agents WHERE state IN ('connected', 'stale') AND revoked_at IS NULL");
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.put(rs.getString(1), new Holding(rs.getString(2), rs.getString(3).equals("stale")));
        }
      }
      return out;
    });
  }

  @Override
  public java.util.Optional<String> addressOf(String agentId) {
    return db.strings("find the node that holds agent " + agentId, "SELECT n.address FROM agents a JOIN controller_nodes n"
        + " ON a.node = n.name WHERE a.id = ? AND a.state IN ('connected', 'stale')", agentId).stream().findFirst();
  }

  private static void notify(Connection c, String channel, String payload) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_notify(?, ?)")) {
      ps.setString(1, channel);
      ps.setString(2, payload);
      ps.execute();
    }
  }

  @Override
  public Listener listen() {
    Connection c;
    try {
      c = db.connection();
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute("LISTEN " + EVENTS);
        s.execute("LISTEN " + OUTBOX);
        s.execute("LISTEN " + CHANGED);
      }
    } catch (SQLException e) {
      throw new StoreException("store: cannot listen for the other controller nodes: " + e.getMessage(), e);
    }
    return new Listener() {
      @Override
      public List<Wake> await(Duration timeout) {
        try {
          PGNotification[] got = c.unwrap(PGConnection.class).getNotifications((int) Math.max(1, timeout.toMillis()));
          List<Wake> out = new ArrayList<>();
          if (got != null) {
            for (PGNotification n : got) {
              out.add(new Wake(n.getName(), n.getParameter()));
            }
          }
          return out;
        } catch (SQLException e) {
          throw new StoreException("store: lost the connection that listens for the other controller nodes: "
              + e.getMessage(), e);
        }
      }

      @Override
      public void close() {
        try (Statement s = c.createStatement()) {
          s.execute("UNLISTEN *"); // the connection goes back to the pool
        } catch (SQLException e) {
          // broken: the pool drops it
        }
        try {
          c.close();
        } catch (SQLException e) {
          // the connection is gone already
        }
      }
    };
  }
}
