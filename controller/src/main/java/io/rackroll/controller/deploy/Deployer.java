package io.rackroll.controller.deploy;

import io.rackroll.controller.fleet.AgentRegistry;
import io.rackroll.controller.select.AgentAttributes;
import io.rackroll.controller.select.Selector;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.store.StoredRelease;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.Deploy;
import io.rackroll.proto.v1.Rollback;
import io.rackroll.wire.Ids;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts deployments: records which hosts a selector chose, then sends each connected one its
 * command. Hosts that are not connected are recorded as UNREACHABLE with the reason, never skipped
 * silently. All selected hosts at once for now; batches, canaries and failure budgets build on this.
 */
public final class Deployer {
  private static final Logger log = LoggerFactory.getLogger(Deployer.class);

  private final Store store;
  private final AgentRegistry registry;
  private final Clock clock;

  public Deployer(Store store, AgentRegistry registry, Clock clock) {
    this.store = store;
    this.registry = registry;
    this.clock = clock;
  }

  /** Why a deployment cannot start; the message is for the operator. */
  public static final class DeploymentRefused extends RuntimeException {
    public DeploymentRefused(String message) {
      super(message);
    }
  }

  public Deployment deploy(String app, String version, String selectorText, String admin) {
    StoredRelease release = store.release(app, version).orElseThrow(() -> new DeploymentRefused("no release "
        + app + "@" + version + "; push it first with 'rackroll release push FILE'"));
    String id = newId();
    return start(id, "deploy", app, version, selectorText, admin, agentId -> Command.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setDeploy(Deploy.newBuilder().setDeploymentId(id).setApp(app).setVersion(version)
            .setDigest(release.digest()).setSize(release.sizeBytes())).build());
  }

  public Deployment rollback(String app, String toVersion, String selectorText, String admin) {
    String id = newId();
    return start(id, "rollback", app, toVersion, selectorText, admin, agentId -> Command.newBuilder()
        .setId(UUID.randomUUID().toString())
        .setRollback(Rollback.newBuilder().setDeploymentId(id).setApp(app).setToVersion(toVersion)).build());
  }

  private interface CommandFor {
    Command build(String agentId);
  }

  private Deployment start(String id, String kind, String app, String version, String selectorText, String admin,
      CommandFor command) {
    Selector selector = Selector.parse(selectorText);
    List<StoredAgent> chosen = store.agents().stream().filter(a -> selector.matches(AgentAttributes.of(a))).toList();
    if (chosen.isEmpty()) {
      throw new DeploymentRefused("selector \"" + selectorText + "\" matches no agents; check it with 'rackroll agents"
          + " --selector \"" + selectorText + "\"'");
    }
    Instant now = clock.instant();
    List<Deployment.Host> hosts = new ArrayList<>();
    for (StoredAgent a : chosen) {
      boolean connected = registry.live(a.id()).isPresent();
      hosts.add(connected ? new Deployment.Host(a.id(), "PENDING", "", "", version, now)
          : new Deployment.Host(a.id(), "UNREACHABLE", "unreachable", "agent " + a.id() + " is not connected ("
              + a.state().label() + " since " + a.stateSince() + "); it was not changed", version, now));
    }
    Deployment deployment = new Deployment(id, kind, app, version, selectorText, admin, now, hosts);
    // Record first, then act: a controller crash after this line leaves a deployment that says what was asked.
    store.createDeployment(deployment);
    for (Deployment.Host h : hosts) {
      if (h.phase().equals("PENDING") && !registry.send(h.agentId(), command.build(h.agentId()))) {
        store.hostJob(new io.rackroll.controller.store.HostJob(h.agentId(), id, app, version, "UNREACHABLE",
            "unreachable", "agent " + h.agentId() + " disconnected before the command could be sent", "", "",
            List.of(), clock.instant()));
      }
    }
    log.info("admin {} started {} {} of {}@{} on {} host(s) ({} unreachable)", admin, kind, id, app, version,
        hosts.size(), hosts.stream().filter(h -> h.phase().equals("UNREACHABLE")).count());
    return store.deployment(id).orElseThrow();
  }

  private static String newId() {
    return Ids.random("d-", 10);
  }
}
