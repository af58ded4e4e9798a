package io.rackroll.controller.store;

import io.rackroll.proto.v1.Facts;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The fleet as it was last heard: each agent's connection, facts and labels, and what its hosts
 * last reported of each app (jobs, flags, health). The agent registry writes it; the rollout
 * engine, the admin service and the metrics read it.
 */
public interface AgentStore {
  /** The agent's stream is open: records version, facts and the time. */
  default void connected(String agentId, String agentVersion, Facts facts, Instant at) {
    connected(agentId, agentVersion, facts, at, "");
  }

  /**
   * The agent's stream is open to controller node {@code node} ({@code ""} for a single
   * controller): records version, facts, the time and the node.
   */
  void connected(String agentId, String agentVersion, Facts facts, Instant at, String node);

  void factsChanged(String agentId, Facts facts);

  /** Moves an agent to {@code state} (from a stream closing or the stale sweep); a revoked agent stays revoked. */
  default void stateChanged(String agentId, ConnectionState state, Instant at) {
    stateChanged(agentId, state, at, "");
  }

  /**
   * {@link #stateChanged(String, ConnectionState, Instant)} as node {@code node} saw it: nothing
   * changes when the agent's stream is open to another node by now.
   */
  void stateChanged(String agentId, ConnectionState state, Instant at, String node);

  /** Batched heartbeat bookkeeping: the latest time each agent was heard from. */
  void lastSeen(Map<String, Instant> lastSeen);

  /**
   * Marks every agent that was connected or stale as disconnected: after a controller restart no
   * stream survives. Returns how many changed.
   */
  default int disconnectAll(Instant at) {
    return disconnectAll(at, "").size();
  }

  /**
   * Marks every agent whose stream was open to controller node {@code node} as disconnected (the
   * node restarted, or stopped being heard from); returns their ids.
   */
  List<String> disconnectAll(Instant at, String node);

  List<StoredAgent> all();

  Optional<StoredAgent> agent(String agentId);

  /** Ids of agents reporting this system serial, for the duplicate-serial warning. */
  List<String> agentsWithSystemSerial(String serial);

  /**
   * Records a host's report as the app's latest state on that host. Its place in a deployment is
   * the rollout's to decide, through {@link #hostPhase}.
   */
  void hostJob(HostJob job);

  /** Every host's last report about {@code app}, by agent id. */
  Map<String, HostApp> hostApps(String app);

  /** Records the flags a host reports for an app, unless a newer report is stored. */
  void hostFlags(FlagsReport report);

  /** Every host's flags of {@code app} as last reported, and when, by agent id. */
  Map<String, ReportedFlags> hostFlags(String app);

  /** Replaces the agent's labels; false when there is no such agent. */
  boolean labels(String agentId, Map<String, String> labels);

  /**
   * Forgets the agent: its record, labels, apps, flags and the list of certificates issued to it.
   * What it took part in stays (deployments' hosts, transitions, the audit), and so do its revoked
   * certificates: revoke it first. False when there is no such agent.
   */
  boolean remove(String agentId);

  /**
   * Records the last periodic health of an app on a host, as one line, and whether it is healthy:
   * an unhealthy report after a healthy one starts its {@link UnhealthyApp#since}.
   */
  void appHealth(String agentId, String app, boolean healthy, String line, Instant at);

  /** Every app unhealthy on some host now, longest unhealthy first. */
  List<UnhealthyApp> unhealthyApps();

  /** Hosts where each app is unhealthy now, for every app some host runs (zeros included). */
  Map<String, Integer> unhealthyCounts();

  /** The last health line of each app on the agent, by app. */
  Map<String, String> appHealth(String agentId);

  /** The latest state of every app on the agent. */
  List<HostJob> agentApps(String agentId);

  /** Every agent's current version of each app it runs: agent id to app to version (empty before its first install). */
  Map<String, Map<String, String>> currentVersions();

  /** Per value of the {@code rack} label ("" for agents without one), how many agents are in each state. */
  Map<String, Map<String, Integer>> agentCountsByRack();

  /** When the certificate of the agent whose expires first ends, among those not revoked; empty if none. */
  Optional<Instant> soonestCertificateExpiry();
}
