package io.rackroll.controller.rollout;

import io.rackroll.controller.env.EnvironmentService;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostApp;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.proto.v1.SetFlags;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What a deployment tells each host, and the one way it reaches hosts. A host's part of a
 * deployment is a Deploy (the release, with its own environment's configuration and secrets), a
 * Rollback to a kept release, or a SetFlags; its revert is a Rollback to the release it had before
 * (with the configuration it ran with) or a SetFlags that puts its flags back. A revert's command
 * carries the deployment id with {@link #REVERT} appended, so its reports are told apart.
 */
public final class HostCommands {
  static final String REVERT = ":revert";
  /** A host's own rollback within a release's bake time reports under its deployment's id with this appended. */
  static final String BAKE = ":bake";

  /**
   * The fleet's connections, as the engine sees them: this controller's own agents, or, among
   * several nodes on one database, every node's (commands then go through the database).
   */
  public interface Hosts {
    boolean connected(String agentId);

    /** Connected, but not heard from for longer than its heartbeats allow. */
    boolean silent(String agentId);

    /** Whether the command went out: false when the host is not connected after all. */
    boolean send(String agentId, Command command);
  }

  private final Hosts hosts;
  private final EnvironmentService environments;

  HostCommands(Hosts hosts, EnvironmentService environments) {
    this.hosts = hosts;
    this.environments = environments;
  }

  boolean connected(String agentId) {
    return hosts.connected(agentId);
  }

  /** Connected and heard from lately: what a host in a health gate must be. */
  boolean heard(String agentId) {
    return hosts.connected(agentId) && !hosts.silent(agentId);
  }

  /** The deployment id a report names, without the revert suffix, and whether it is a revert's. */
  static String deploymentOf(String reportedId) {
    return isRevert(reportedId) ? reportedId.substring(0, reportedId.length() - REVERT.length())
        : isBake(reportedId) ? reportedId.substring(0, reportedId.length() - BAKE.length()) : reportedId;
  }

  static boolean isBake(String reportedId) {
    return reportedId.endsWith(BAKE);
  }

  static boolean isRevert(String reportedId) {
    return reportedId.endsWith(REVERT);
  }

  /**
   * Sends {@code h} its part of {@code r}. Empty when there is nothing to send it: the release it
   * needs was never pushed and the host does not keep it. Otherwise whether the command went out.
   */
  Optional<Boolean> send(Rollout r, Deployment.Host h) {
    Command.Builder c = Command.newBuilder().setId(UUID.randomUUID().toString());
    Deployment d = r.d;
    HostApp app = r.apps.get(h.agentId());
    boolean kept = app != null && app.keptVersions().contains(d.version());
    if (r.kind.changesFlags()) {
      c.setSetFlags(SetFlags.newBuilder().setDeploymentId(d.id()).setApp(d.app()).putAllChanges(d.flags()));
    } else if (r.kind.installs() || (!d.version().isEmpty() && !kept)) {
      Optional<StoredRelease> release = r.storedRelease();
      if (release.isEmpty()) {
        return Optional.empty();
      }
      // The host's own environment's configuration, secrets included: only ever to that host.
      EnvironmentService.Configuration config = r.agent(h.agentId()).map(environments::configurationOf)
          .orElse(EnvironmentService.Configuration.NONE);
      Map<String, String> flags = config.environment().isEmpty() ? Map.of() : r.environmentFlags(config.environment());
      c.setDeploy(Deploy.newBuilder().setDeploymentId(d.id()).setApp(d.app()).setVersion(d.version())
          .setDigest(release.get().digest()).setSize(release.get().sizeBytes())
          .setUnpackedBytes(release.get().unpackedBytes()).setUnpackedEntries(release.get().unpackedEntries())
          .setEnvironment(config.environment()).putAllVariables(config.variables()).setConfigDigest(config.digest())
          .putAllInitialFlags(flags).setRequires(r.requires()).setSignature(release.get().signature()));
    } else {
      c.setRollback(Rollback.newBuilder().setDeploymentId(d.id()).setApp(d.app()).setToVersion(d.version()));
    }
    return Optional.of(hosts.send(h.agentId(), c.build()));
  }

  /** Sends {@code h} the command that returns it to where it was before {@code r}. */
  void sendRevert(Rollout r, Deployment.Host h) {
    Command.Builder c = Command.newBuilder().setId(UUID.randomUUID().toString());
    if (r.kind.changesFlags()) {
      c.setSetFlags(SetFlags.newBuilder().setDeploymentId(r.d.id() + REVERT).setApp(r.d.app()).setRevertOf(r.d.id()));
    } else {
      // With the configuration it ran with: undoing a reconfigure brings the earlier values back.
      c.setRollback(Rollback.newBuilder().setDeploymentId(r.d.id() + REVERT).setApp(r.d.app())
          .setToVersion(h.beforeVersion()).setConfigDigest(h.beforeConfig()));
    }
    hosts.send(h.agentId(), c.build());
  }
}
