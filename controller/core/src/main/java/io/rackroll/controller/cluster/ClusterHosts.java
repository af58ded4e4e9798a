package io.rackroll.controller.cluster;

import io.rackroll.controller.rollout.HostCommands;
import io.rackroll.controller.store.ClusterStore;
import io.rackroll.controller.store.ClusterStore.Holding;
import io.rackroll.proto.v1.Command;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every node's agents as the leading node's rollout engine sees them: which node holds each
 * agent's stream, kept from the nodes' events; a command goes into the database for that node
 * (fenced, in the engine's own transaction), and that node sends it.
 */
final class ClusterHosts implements HostCommands.Hosts {
  private final ClusterStore cluster;
  private final Map<String, Holding> held = new ConcurrentHashMap<>();

  ClusterHosts(ClusterStore cluster) {
    this.cluster = cluster;
  }

  /** Starts over from the database's record (when this node starts to lead). */
  void reset(Map<String, Holding> now) {
    held.clear();
    held.putAll(now);
  }

  void clear() {
    held.clear();
  }

  /**
   * Applies what node {@code e.node()} heard; false when it is out of date: a disconnect, silence
   * or return from a node that no longer holds the agent (it reconnected to another node first).
   */
  boolean apply(ClusterStore.Event e) {
    String agentId = e.agentId();
    String node = e.node();
    return switch (e.kind()) {
      case NodeEvents.CONNECTED -> {
        held.put(agentId, new Holding(node, false));
        yield true;
      }
      case NodeEvents.DISCONNECTED -> held.remove(agentId, new Holding(node, false))
          || held.remove(agentId, new Holding(node, true));
      case NodeEvents.SILENT, NodeEvents.HEARD -> {
        Holding h = held.computeIfPresent(agentId,
            (id, was) -> was.node().equals(node) ? new Holding(node, e.kind().equals(NodeEvents.SILENT)) : was);
        yield h != null && h.node().equals(node);
      }
      default -> true;
    };
  }

  @Override
  public boolean connected(String agentId) {
    return held.containsKey(agentId);
  }

  @Override
  public boolean silent(String agentId) {
    Holding h = held.get(agentId);
    return h != null && h.stale();
  }

  @Override
  public boolean send(String agentId, Command command) {
    Holding h = held.get(agentId);
    if (h == null) {
      return false;
    }
    cluster.send(h.node(), agentId, command.toByteArray());
    return true;
  }
}
