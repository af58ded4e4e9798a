package io.rackroll.controller.cli;

import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.GetStatusRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.trust.Keys;
import io.rackroll.trust.Pem;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code rackroll controller rotate-ca}: replaces the CA in three steps, each followed by a
 * controller restart, so that every agent stays connected throughout (README, "Certificates").
 */
@Command(name = "rotate-ca", mixinStandardHelpOptions = true,
    description = {"Replace the controller's CA without disconnecting agents, in three steps, each followed by a"
        + " restart of the controller:",
        "  rotate-ca             make the next CA and trust it beside the current one",
        "  rotate-ca --finish    sign with the next CA (agents renew onto it as they connect)",
        "  rotate-ca --drop-old  stop trusting the previous CA"})
final class RotateCaCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Option(names = "--finish", description = "Step 2: sign with the new CA. Every agent must be connected.")
  boolean finish;

  @Option(names = "--drop-old", description = "Step 3: trust only the new CA. Every agent must hold a certificate from it.")
  boolean dropOld;

  @Option(names = "--force", description = "Skip the check of the agents (those it would name lose their connection).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    if (finish && dropOld) {
      throw new UsageError("--finish and --drop-old are separate steps; give one of them");
    }
    java.nio.file.Path data = client.dataDir();
    if (!ControllerPki.exists(data)) {
      throw new IllegalStateException("no controller in " + data + "; pass --data DIR");
    }
    DataOwner.require(data, "controller rotate-ca");
    if (finish) {
      if (ControllerPki.rotation(data) == ControllerPki.Rotation.BEGUN && !force) {
        checkAgents(data, "have the new trust bundle", a -> a.getState().equals("connected") || a.getState().equals("revoked"),
            "they receive it when they connect; start them, or --force and re-enroll them later");
      }
      X509Certificate ca = ControllerPki.finishRotation(data, Clock.systemUTC());
      System.out.println("The controller now signs with CA " + Keys.fingerprint(ca) + "; the previous CA is still trusted.");
      System.out.println("Next: restart the controller (systemctl restart rackroll-controller). Agents renew onto the new CA");
      System.out.println("as they reconnect; when 'rackroll agents' shows them all renewed, run: rackroll controller rotate-ca --drop-old");
      System.out.println("Tokens made before now pin the previous CA: create new ones. Copy the new admin.crt and ca.crt to remote admins.");
      return 0;
    }
    if (dropOld) {
      if (ControllerPki.rotation(data) == ControllerPki.Rotation.FINISHED && !force) {
        String current = Keys.fingerprint(Pem.readCertificates(ControllerPki.dir(data).resolve("ca.crt")).get(0));
        checkAgents(data, "hold a certificate from the new CA",
            a -> a.getCertificateCa().equals(current) || a.getState().equals("revoked"),
            "they renew when they connect to the restarted controller; start them, or --force and re-enroll them later");
      }
      ControllerPki.dropPreviousCa(data);
      System.out.println("Only the current CA is trusted now.");
      System.out.println("Next: restart the controller (systemctl restart rackroll-controller); agents drop the old CA when they reconnect.");
      return 0;
    }
    X509Certificate next = ControllerPki.beginRotation(data, Clock.systemUTC());
    System.out.println("Made the next CA " + Keys.fingerprint(next) + " and trusted it beside the current one.");
    System.out.println("Next: restart the controller (systemctl restart rackroll-controller); every agent that connects");
    System.out.println("gets both CAs. When all agents are connected, run: rackroll controller rotate-ca --finish");
    return 0;
  }

  /** Refuses the step while the running controller lists agents that do not pass {@code ready}. */
  private void checkAgents(java.nio.file.Path data, String what, Predicate<AgentRecord> ready, String remedy)
      throws Exception {
    client.call(channel -> {
      if (ControllerPki.rotation(data) == ControllerPki.Rotation.BEGUN) {
        Instant started = Instant.ofEpochMilli(client.stub(channel).getStatus(GetStatusRequest.getDefaultInstance())
            .getStartedEpochMillis());
        if (started.isBefore(ControllerPki.rotationBegan(data))) {
          throw new IllegalStateException("the controller has not restarted since the rotation began, so no agent has the"
              + " new trust bundle yet; restart it first (systemctl restart rackroll-controller)");
        }
      }
      List<String> behind = client.stub(channel).listAgents(ListAgentsRequest.getDefaultInstance()).getAgentsList()
          .stream().filter(ready.negate()).map(AgentRecord::getAgentId).toList();
      if (!behind.isEmpty()) {
        throw new IllegalStateException(behind.size() + " agent(s) do not " + what + " yet: "
            + String.join(", ", behind.subList(0, Math.min(10, behind.size()))) + (behind.size() > 10 ? ", ..." : "")
            + "; " + remedy);
      }
      return null;
    });
  }
}
