package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shows a deployment as it runs: a line whenever a host changes phase, then a summary. The exit
 * code is 0 only for a deployment in which every host ended ACTIVE.
 */
final class DeploymentWatch {
  private DeploymentWatch() {}

  static int watch(AdminClient client, ManagedChannel channel, String id, PrintStream out, Duration limit)
      throws InterruptedException {
    Map<String, String> shown = new HashMap<>();
    Instant deadline = Instant.now().plus(limit);
    while (true) {
      DeploymentRecord d = client.stub(channel).getDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
      for (DeploymentHost h : d.getHostsList()) {
        String line = h.getPhase() + (h.getFailure().isEmpty() ? "" : ": " + h.getFailure());
        if (!line.equals(shown.put(h.getAgentId(), line))) {
          out.println(line(h));
        }
      }
      if (!d.getState().equals("running")) {
        return summary(d, out);
      }
      if (Instant.now().isAfter(deadline)) {
        out.println("deployment " + id + " still running after " + limit.toMinutes() + " min; follow it with"
            + " 'rackroll deployment show " + id + " --watch'");
        return Rackroll.EXIT_FAILURE;
      }
      Thread.sleep(500); // polling the controller between screen updates
    }
  }

  static int summary(DeploymentRecord d, PrintStream out) {
    Map<String, Integer> counts = new TreeMap<>();
    for (DeploymentHost h : d.getHostsList()) {
      counts.merge(h.getPhase().toLowerCase().replace('_', ' '), 1, Integer::sum);
    }
    StringBuilder b = new StringBuilder();
    counts.forEach((phase, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(phase));
    out.println(d.getKind() + " " + d.getId() + " of " + d.getApp() + (d.getVersion().isEmpty() ? "" : "@" + d.getVersion())
        + " " + d.getState() + ": " + b);
    return d.getState().equals("completed") ? 0 : Rackroll.EXIT_FAILURE;
  }

  static void print(DeploymentRecord d, PrintStream out) {
    out.println("deployment " + d.getId() + " (" + d.getKind() + " " + d.getApp()
        + (d.getVersion().isEmpty() ? "" : "@" + d.getVersion()) + ", selector \"" + d.getSelector() + "\", by "
        + d.getCreatedBy() + " at " + Instant.ofEpochMilli(d.getCreatedEpochMillis()) + "): " + d.getState());
    for (DeploymentHost h : d.getHostsList()) {
      out.println(line(h));
    }
  }

  /** One host: its phase and, for a failure, whose it is ([hook_failed], [unreachable], ...) and why. */
  private static String line(DeploymentHost h) {
    String why = h.getFailureKind().isEmpty() ? h.getFailure() : "[" + h.getFailureKind() + "] " + h.getFailure();
    return String.format("  %-20s %-16s %s", name(h), h.getPhase(), why).stripTrailing();
  }

  private static String name(DeploymentHost h) {
    return h.getHostname().isEmpty() ? h.getAgentId() : h.getAgentId() + " (" + h.getHostname() + ")";
  }
}
