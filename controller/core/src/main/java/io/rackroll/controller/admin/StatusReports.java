package io.rackroll.controller.admin;

import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.store.ConnectionState;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.UnhealthyApp;
import io.rackroll.proto.v1.DeploymentProgress;
import io.rackroll.proto.v1.OverdueCertificate;
import io.rackroll.proto.v1.RackStatus;
import io.rackroll.proto.v1.StatusReport;
import io.rackroll.wire.HostPort;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

/** Builds {@code rackroll status}: what an operator wants on one screen, first. */
public final class StatusReports {
  private final Store store;
  private final AgentRegistry fleet;
  private final Clock clock;
  private final String version;
  private final Instant startedAt;
  private final Supplier<HostPort> metrics;
  private final Duration certificateLifetime;

  public StatusReports(Store store, AgentRegistry fleet, Clock clock, String version, Instant startedAt,
      Supplier<HostPort> metrics, Duration certificateLifetime) {
    this.certificateLifetime = certificateLifetime;
    this.store = store;
    this.fleet = fleet;
    this.clock = clock;
    this.version = version;
    this.startedAt = startedAt;
    this.metrics = metrics;
  }

  StatusReport report(int failures) {
    HostPort m = metrics.get();
    StatusReport.Builder b = StatusReport.newBuilder().setControllerVersion(version)
        .setStartedEpochMillis(startedAt.toEpochMilli()).setNowEpochMillis(clock.millis())
        .setMetricsAddress(m == null ? "" : m.toString());
    store.cluster().ifPresent(cluster -> {
      String leader = store.lease().flatMap(io.rackroll.controller.store.LeaseStore::holder)
          .filter(h -> h.expires().isAfter(clock.instant().minusSeconds(60)))
          .map(io.rackroll.controller.store.LeaseStore.Holder::node).orElse("");
      for (io.rackroll.controller.store.ClusterStore.Node n : cluster.nodes(
          io.rackroll.controller.cluster.ClusterNode.LEASE)) {
        b.addNodes(io.rackroll.proto.v1.ControllerNode.newBuilder().setName(n.name()).setAddress(n.address())
            .setVersion(n.version()).setLeads(n.name().equals(leader)).setAlive(n.alive()).setAgents(n.agents())
            .setStartedEpochMillis(n.startedAt().toEpochMilli()).setSeenEpochMillis(n.seenAt().toEpochMilli()));
      }
    });
    Map<String, Map<String, Integer>> racks = new TreeMap<>();
    Instant now = clock.instant();
    Map<String, StoredAgent> byId = new java.util.HashMap<>();
    for (StoredAgent a : store.agents().all()) {
      byId.put(a.id(), a);
      String state = fleet.live(a.id()).map(l -> l.state().label()).orElse(a.state().label());
      racks.computeIfAbsent(a.labels().getOrDefault("rack", ""), k -> new TreeMap<>()).merge(state, 1, Integer::sum);
      // Agents renew two thirds into the lifetime: one still holding its certificate past that is stuck or off.
      boolean overdue = !now.isBefore(a.certificateNotAfter().minus(certificateLifetime.dividedBy(3)));
      if (overdue && a.state() != ConnectionState.REVOKED && a.state() != ConnectionState.ENROLLED) {
        b.addOverdueCertificates(OverdueCertificate.newBuilder().setAgentId(a.id())
            .setNotAfterEpochMillis(a.certificateNotAfter().toEpochMilli()).setState(state));
      }
    }
    racks.forEach((rack, counts) -> b.addRacks(RackStatus.newBuilder().setRack(rack).putAllAgents(counts)));
    for (UnhealthyApp u : store.agents().unhealthyApps()) {
      StoredAgent a = byId.get(u.agentId());
      b.addUnhealthyApps(io.rackroll.proto.v1.UnhealthyApp.newBuilder().setAgentId(u.agentId())
          .setHostname(a == null ? "" : a.facts().getHostname())
          .setRack(a == null ? "" : a.labels().getOrDefault("rack", "")).setApp(u.app()).setVersion(u.version())
          .setSinceEpochMillis(u.since().toEpochMilli()).setHealth(u.health()));
    }
    for (Deployment summary : store.deployments().activeDeployments()) {
      Deployment d = store.deployments().deployment(summary.id()).orElse(summary);
      b.addDeployments(DeploymentProgress.newBuilder().setId(d.id()).setKind(d.kind()).setApp(d.app())
          .setVersion(d.version()).setState(d.state()).setBatch(d.batch()).setBatches(d.batches())
          .setHosts(d.hosts().size()).setDone((int) d.hosts().stream().filter(Deployment.Host::done).count())
          .setFailures(failures(d)).setAllowedFailures(d.allowedFailures())
          .setCreatedEpochMillis(d.createdAt().toEpochMilli()));
    }
    store.deployments().recentFailures(failures <= 0 ? 5 : failures).forEach(t -> b.addRecentFailures(AdminService.transition(t)));
    return b.build();
  }

  /** Hosts of {@code d} that count against its failure budget. */
  static int failures(Deployment d) {
    return (int) d.hosts().stream().filter(h -> h.phase().failure()).count();
  }
}
