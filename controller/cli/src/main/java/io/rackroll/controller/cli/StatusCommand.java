package io.rackroll.controller.cli;

import io.rackroll.proto.v1.DeploymentProgress;
import io.rackroll.proto.v1.GetStatusRequest;
import io.rackroll.proto.v1.OverdueCertificate;
import io.rackroll.proto.v1.RackStatus;
import io.rackroll.proto.v1.ControllerNode;
import io.rackroll.proto.v1.StatusReport;
import io.rackroll.proto.v1.TransitionRecord;
import io.rackroll.proto.v1.UnhealthyApp;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code rackroll status}: the first thing to run at 3 a.m. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "One screen: controller version and uptime, agents by rack and state, unfinished deployments,"
        + " recent host failures.")
final class StatusCommand implements Callable<Integer> {
  /** Columns of the rack table, in this order; any other state is counted under OTHER. */
  private static final List<String> STATES = List.of("connected", "stale", "disconnected");

  @Mixin AdminClient client;

  @Option(names = "--failures", paramLabel = "N", description = "Recent failures to show (default: 5).")
  int failures = 5;

  @Mixin Output.Option output;

  /** Every rack with a count for each state, zeros included: what a script reads without checking for keys. */
  static StatusReport withZeros(StatusReport r) {
    StatusReport.Builder b = r.toBuilder();
    for (io.rackroll.proto.v1.RackStatus.Builder rack : b.getRacksBuilderList()) {
      for (io.rackroll.controller.store.ConnectionState state : io.rackroll.controller.store.ConnectionState.values()) {
        if (!rack.containsAgents(state.label())) {
          rack.putAgents(state.label(), 0);
        }
      }
    }
    return b.build();
  }

  @Override
  public Integer call() throws Exception {
    return client.call(channel -> {
      StatusReport r = client.stub(channel).getStatus(GetStatusRequest.newBuilder().setFailures(failures).build());
      if (output.structured()) {
        output.print(System.out, withZeros(r));
      } else {
        print(r, client.address().toString(), System.out);
      }
      return 0;
    });
  }

  static void print(StatusReport r, String address, PrintStream out) {
    Instant now = Instant.ofEpochMilli(r.getNowEpochMillis());
    out.println("controller   " + r.getControllerVersion() + " at " + address + ", up "
        + uptime(Duration.ofMillis(r.getNowEpochMillis() - r.getStartedEpochMillis())) + " (since "
        + Instant.ofEpochMilli(r.getStartedEpochMillis()) + ")");
    out.println("metrics      " + (r.getMetricsAddress().isEmpty() ? "off" : "http://" + r.getMetricsAddress() + "/metrics"));
    if (!r.getNodesList().isEmpty()) {
      String leader = r.getNodesList().stream().filter(ControllerNode::getLeads).map(ControllerNode::getName)
          .findFirst().orElse("");
      out.println("nodes        " + r.getNodesCount() + " on one database; " + (leader.isEmpty()
          ? "none leads right now (a takeover takes up to 12 s)" : leader + " leads (runs rollouts)"));
      String format = "  %-20s %-28s %-8s %7s  %s%n";
      out.printf(format, "NODE", "ADDRESS", "ROLE", "AGENTS", "VERSION");
      for (ControllerNode n : r.getNodesList()) {
        out.printf(format, n.getName(), n.getAddress(), !n.getAlive() ? "silent" : n.getLeads() ? "leads" : "follows",
            n.getAgents(), n.getVersion());
      }
    }

    Map<String, Integer> total = new TreeMap<>();
    r.getRacksList().forEach(rack -> rack.getAgentsMap().forEach((k, v) -> total.merge(k, v, Integer::sum)));
    out.println();
    out.println("agents       " + count(total, "connected") + " connected, " + count(total, "stale") + " stale, "
        + count(total, "disconnected") + " disconnected" + others(total));
    if (!r.getRacksList().isEmpty()) {
      String format = "  %-12s %10s %7s %13s %7s%n";
      out.printf(format, "RACK", "CONNECTED", "STALE", "DISCONNECTED", "OTHER");
      for (RackStatus rack : r.getRacksList()) {
        Map<String, Integer> c = rack.getAgentsMap();
        int other = c.entrySet().stream().filter(e -> !STATES.contains(e.getKey())).mapToInt(Map.Entry::getValue).sum();
        out.printf(format, rack.getRack().isEmpty() ? "(no rack)" : rack.getRack(), count(c, "connected"),
            count(c, "stale"), count(c, "disconnected"), other);
      }
    }

    out.println();
    if (r.getUnhealthyAppsList().isEmpty()) {
      out.println("health       every reported app healthy");
    } else {
      long hosts = r.getUnhealthyAppsList().stream().map(UnhealthyApp::getAgentId).distinct().count();
      out.println("health       " + r.getUnhealthyAppsCount() + " app(s) unhealthy on " + hosts + " host(s)");
      String format = "  %-16s %-20s %-8s %-24s %-10s %s%n";
      out.printf(format, "AGENT", "HOSTNAME", "RACK", "APP", "SINCE", "LAST REPORT");
      for (UnhealthyApp u : r.getUnhealthyAppsList()) {
        out.printf(format, u.getAgentId(), u.getHostname(), u.getRack().isEmpty() ? "-" : u.getRack(),
            u.getApp() + "@" + u.getVersion(), AgentsCommand.ago(now, u.getSinceEpochMillis()), u.getHealth());
      }
    }

    out.println();
    if (r.getDeploymentsList().isEmpty()) {
      out.println("deployments  none running");
    } else {
      out.println("deployments  " + r.getDeploymentsCount() + " unfinished");
      String format = "  %-14s %-8s %-24s %-17s %-7s %-11s %s%n";
      out.printf(format, "ID", "KIND", "RELEASE", "STATE", "BATCH", "HOSTS DONE", "FAILURES");
      for (DeploymentProgress d : r.getDeploymentsList()) {
        out.printf(format, d.getId(), d.getKind(), d.getApp() + "@" + d.getVersion(), d.getState(),
            (d.getBatch() + 1) + "/" + d.getBatches(), d.getDone() + "/" + d.getHosts(),
            d.getFailures() + " of " + d.getAllowedFailures() + " allowed");
      }
    }

    out.println();
    if (r.getOverdueCertificatesList().isEmpty()) {
      out.println("certificates every agent renewed on time");
    } else {
      out.println("certificates " + r.getOverdueCertificatesCount() + " past renewal (host off, or renewal failing;"
          + " once expired, only a new token brings it back)");
      for (OverdueCertificate c : r.getOverdueCertificatesList()) {
        long left = c.getNotAfterEpochMillis() - r.getNowEpochMillis();
        String when = left > 0 ? "expires in " + uptime(Duration.ofMillis(left))
            : "expired " + uptime(Duration.ofMillis(-left)) + " ago";
        out.printf("  %-16s %-22s %s%n", c.getAgentId(), when, c.getState());
      }
    }

    out.println();
    if (r.getRecentFailuresList().isEmpty()) {
      out.println("failures     none recorded");
    } else {
      out.println("failures     latest " + r.getRecentFailuresCount());
      for (TransitionRecord t : r.getRecentFailuresList()) {
        out.printf("  %-8s %-14s %-16s %-24s %-12s %s%n", AgentsCommand.ago(now, t.getAtEpochMillis()),
            t.getDeploymentId(), t.getAgentId(), t.getApp() + "@" + t.getVersion(), t.getPhase(), t.getDetail());
      }
    }
  }

  private static int count(Map<String, Integer> counts, String state) {
    return counts.getOrDefault(state, 0);
  }

  private static String others(Map<String, Integer> total) {
    StringBuilder s = new StringBuilder();
    total.forEach((state, n) -> {
      if (!STATES.contains(state)) {
        s.append(", ").append(n).append(' ').append(state);
      }
    });
    return s.toString();
  }

  static String uptime(Duration d) {
    long s = Math.max(0, d.toSeconds());
    return s < 120 ? s + "s" : s < 7200 ? s / 60 + "m" : s < 172_800 ? s / 3600 + "h" + (s % 3600) / 60 + "m"
        : s / 86_400 + "d" + (s % 86_400) / 3600 + "h";
  }
}
