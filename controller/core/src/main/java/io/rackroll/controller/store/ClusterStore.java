package io.rackroll.controller.store;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What controller nodes that share one PostgreSQL database tell each other through it: which
 * nodes are alive and where, what each heard from the agents it holds (for the node that leads),
 * and the leader's commands for agents held by any node. Writes wake the nodes that wait with
 * {@code LISTEN}: a notification is sent when the transaction that wrote commits, and only then.
 * Times are the database's.
 */
public interface ClusterStore {
  /** Channel woken when an event is written (payload: empty). */
  String EVENTS = "rackroll_events";
  /** Channel woken when a command is written (payload: the node that holds the agent). */
  String OUTBOX = "rackroll_outbox";
  /** Channel woken when a node changed what every node keeps in memory (payload: {@code node:what}). */
  String CHANGED = "rackroll_changed";

  /**
   * Tells every node that node {@code node} changed {@code what} (admins, revocations, key
   * statements, environments), which each keeps in memory and reads again from the store.
   */
  void announce(String node, String what);

  /**
   * A node as the database knows it.
   *
   * @param alive whether it said so within the time asked for
   * @param agents how many agents have a stream open to it
   */
  record Node(String name, String address, String version, Instant startedAt, Instant seenAt, boolean alive,
      int agents) {}

  /** Records node {@code name} as started now by process {@code instance}, reached at {@code address}. */
  void nodeUp(String name, String instance, String address, String version);

  /**
   * Node {@code name} is alive now, run by {@code instance}; false when its row is gone (the
   * leader gave it up for dead) or another process runs as that name now (see {@link #holderOf}).
   */
  boolean nodeSeen(String name, String instance);

  /**
   * The process that last said it runs as node {@code name}, and for how long it has been silent
   * (the database's clock); empty when no node has that name.
   */
  Optional<NameHolder> holderOf(String name);

  record NameHolder(String instance, String address, Duration silent) {}

  /** Node {@code name} stopped cleanly: gone from the list, its commands with it. */
  void nodeGone(String name);

  /** Every node, {@code alive} when heard from within {@code within}, by name. */
  List<Node> nodes(Duration within);

  /** Nodes not heard from for longer than {@code within}. */
  List<String> lapsedNodes(Duration within);

  /** What node {@code node} heard from agent {@code agentId}; {@code body} as {@code kind} has it. */
  record Event(long seq, String node, String agentId, String kind, byte[] body) {}

  /**
   * Takes the event writers' lock for the caller's transaction: events are written one
   * transaction at a time, so their seq follows commit order. A transaction that writes events
   * and other rows takes it first, before any row lock, so that two nodes never wait on each other.
   */
  void orderEvents();

  /** Records an event (in the caller's grouped transaction when there is one) and wakes the leader. */
  void event(String node, String agentId, String kind, byte[] body);

  /** Up to {@code limit} events after {@code seq}, in order. */
  List<Event> eventsAfter(long seq, int limit);

  /** The last event's seq, 0 with none. */
  long lastEvent();

  /** Forgets events older than {@code age}; returns how many. */
  int pruneEvents(Duration age);

  /**
   * A command for agent {@code agentId}, whose stream is open to node {@code node}: fenced (only
   * the leader of its epoch writes it), in the caller's grouped transaction when there is one;
   * node {@code node} is woken when it commits.
   */
  void send(String node, String agentId, byte[] command);

  /** A command taken from the outbox. */
  record Outgoing(long seq, String agentId, byte[] command) {}

  /** Takes (removes and returns) up to {@code limit} commands for agents held by {@code node}, in order. */
  List<Outgoing> take(String node, int limit);

  /** The node each agent with an open stream is held by, and whether it is stale: agent id to [node, state]. */
  Map<String, Holding> holdings();

  /** Where the node that holds agent {@code agentId}'s stream is reached; empty when none does. */
  java.util.Optional<String> addressOf(String agentId);

  /** Where an agent's stream is open, and whether it went silent. */
  record Holding(String node, boolean stale) {}

  /** Waits on {@link #EVENTS}, {@link #OUTBOX} and {@link #CHANGED} on a connection of its own. */
  Listener listen();

  /** One notification: its channel and payload. */
  record Wake(String channel, String payload) {}

  /** Notifications as they come; closing lets the connection go. */
  interface Listener extends AutoCloseable {
    /** The notifications received, waiting up to {@code timeout} for the first; empty after it. */
    List<Wake> await(Duration timeout);

    @Override
    void close();
  }
}
