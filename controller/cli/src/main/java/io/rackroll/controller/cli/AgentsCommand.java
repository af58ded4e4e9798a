package io.rackroll.controller.cli;

import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.Disk;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import io.rackroll.proto.v1.GetAgentRequest;
import io.rackroll.proto.v1.LabelAgentRequest;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.Nic;
import io.rackroll.proto.v1.PingAgentRequest;
import io.rackroll.proto.v1.PingAgentResponse;
import io.rackroll.proto.v1.RemoveAgentRequest;
import io.rackroll.proto.v1.RemoveAgentResponse;
import io.rackroll.proto.v1.RevokeAgentRequest;
import io.rackroll.proto.v1.RevokeAgentResponse;
import io.rackroll.release.Sizes;
import io.rackroll.wire.Durations;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "agents", mixinStandardHelpOptions = true,
    description = "List the fleet: one line per agent, filtered by a selector.",
    subcommands = {AgentsCommand.Show.class, AgentsCommand.PingCommand.class, AgentsCommand.Label.class,
        AgentsCommand.Revoke.class, AgentsCommand.Remove.class})
final class AgentsCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Option(names = {"-l", "--selector"}, paramLabel = "EXPR",
      description = "Only agents matching, e.g. 'role=web,rack in (r1,r2),env!=staging'.")
  String selector = "";

  @Option(names = "--wait-connected", paramLabel = "N",
      description = "First wait until at least N agents (of those the selector matches) are connected, e.g. after"
          + " a maintenance; gives up after --timeout with exit 1. A controller that does not answer meanwhile"
          + " (restarting, or a takeover between nodes) is asked again.")
  Integer waitConnected;

  @Option(names = "--timeout", paramLabel = "DURATION", description = "How long --wait-connected waits (default: 5m).")
  String timeout = "5m";

  @Mixin Output.Option output;

  /** How often --wait-connected asks: one small call, in the one CLI process that waits. */
  private static final Duration ASK_EVERY = Duration.ofMillis(500);

  @Override
  public Integer call() throws Exception {
    Duration limit = waitLimit();
    return client.call(channel -> {
      ListAgentsRequest request = ListAgentsRequest.newBuilder().setSelector(selector).build();
      Instant until = Instant.now().plus(limit);
      List<AgentRecord> agents;
      long seen = 0;
      while (true) {
        try {
          agents = client.stub(channel).listAgents(request).getAgentsList();
          seen = connected(agents);
          if (waitConnected == null || seen >= waitConnected) {
            break;
          }
        } catch (io.grpc.StatusRuntimeException e) {
          if (waitConnected == null || e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE
              || !Instant.now().isBefore(until)) {
            throw e;
          }
        }
        if (!Instant.now().isBefore(until)) {
          System.err.println("rackroll: " + seen + " of the " + waitConnected + " agent(s) awaited are"
              + " connected after " + Durations.format(limit) + (selector.isEmpty() ? "" : " (selector '" + selector
              + "')") + "; 'rackroll agents' lists the others with their last contact");
          return Rackroll.EXIT_FAILURE;
        }
        Thread.sleep(ASK_EVERY.toMillis());
      }
      if (output.structured()) {
        output.print(System.out, agents);
      } else {
        printTable(System.out, agents, Instant.now());
      }
      return 0;
    });
  }

  private Duration waitLimit() {
    if (waitConnected != null && waitConnected < 0) {
      throw new UsageError("--wait-connected: " + waitConnected + " (expected a number of agents, 0 or more)");
    }
    try {
      return Durations.parse("--timeout", timeout);
    } catch (IllegalArgumentException e) {
      throw new UsageError(e.getMessage());
    }
  }

  private static long connected(List<AgentRecord> agents) {
    return agents.stream().filter(a -> a.getState().equals("connected")).count();
  }

  static void printTable(PrintStream out, List<AgentRecord> agents, Instant now) {
    String format = "%-16s %-20s %-6s %-8s %-12s %-9s %5s %8s %-12s %s%n";
    out.printf(format, "ID", "HOSTNAME", "RACK", "ROLE", "STATE", "LAST SEEN", "CORES", "MEMORY", "VERSION", "UNHEALTHY");
    for (AgentRecord a : agents) {
      out.printf(format, a.getAgentId(), a.getFacts().getHostname(), a.getLabelsOrDefault("rack", "-"),
          a.getLabelsOrDefault("role", "-"), a.getState(), ago(now, a.getLastSeenEpochMillis()),
          a.getFacts().getCpu().getLogicalCores(), bytes(a.getFacts().getMemoryBytes()), a.getAgentVersion(),
          a.getUnhealthyAppsList().isEmpty() ? "-" : String.join(",", a.getUnhealthyAppsList()));
    }
    for (AgentRecord a : agents) {
      for (String w : a.getWarningsList()) {
        out.println("warning: agent " + a.getAgentId() + ": " + w);
      }
    }
  }

  static String ago(Instant now, long epochMillis) {
    long s = Math.max(0, Duration.between(Instant.ofEpochMilli(epochMillis), now).toSeconds());
    return s < 120 ? s + "s ago" : s < 7200 ? s / 60 + "m ago" : s / 3600 + "h ago";
  }

  static String bytes(long n) {
    return n <= 0 ? "unknown" : Sizes.format(n);
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print everything known about one agent.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Agent id.")
    String id;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        AgentRecord a = client.stub(channel).getAgent(GetAgentRequest.newBuilder().setAgentId(id).build());
        if (output.structured()) {
          output.print(System.out, a);
        } else {
          print(System.out, a);
        }
        return 0;
      });
    }

    static void print(PrintStream out, AgentRecord a) {
      Facts f = a.getFacts();
      out.println("agent        " + a.getAgentId());
      out.println("state        " + a.getState() + " since " + Instant.ofEpochMilli(a.getStateSinceEpochMillis()));
      out.println("last seen    " + Instant.ofEpochMilli(a.getLastSeenEpochMillis()));
      out.println("first seen   " + Instant.ofEpochMilli(a.getFirstSeenEpochMillis()));
      out.println("version      " + a.getAgentVersion());
      out.println("labels       " + a.getLabelsMap().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
          .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(",")));
      out.println("certificate  serial " + a.getCertificateSerial() + ", valid until "
          + Instant.ofEpochMilli(a.getCertificateNotAfterEpochMillis()));
      out.println("hostname     " + f.getHostname());
      out.println("system       " + f.getSystem().getVendor() + " " + f.getSystem().getModel()
          + ", serial " + f.getSystem().getSerial() + ", baseboard serial " + f.getSystem().getBaseboardSerial());
      out.println("cpu          " + f.getCpu().getModel() + " (" + f.getCpu().getSockets() + " sockets, "
          + f.getCpu().getPhysicalCores() + " physical / " + f.getCpu().getLogicalCores() + " logical cores, "
          + f.getArch() + ")");
      out.println("memory       " + bytes(f.getMemoryBytes()));
      out.println("os           " + f.getOs().getFamily() + " " + f.getOs().getVersion() + ", kernel " + f.getOs().getKernel());
      out.println("booted       " + (f.getBootTimeEpochSeconds() > 0 ? Instant.ofEpochSecond(f.getBootTimeEpochSeconds()) : "unknown"));
      var trust = f.getReleaseTrust();
      out.println("releases     " + (trust.getRequireSigned() ? "only signed ones" : "signed or not")
          + (trust.getKeyIdsCount() == 0 ? ", no release key trusted" : ", trusts key"
          + (trust.getKeyIdsCount() == 1 ? " " : "s ") + String.join(", ", trust.getKeyIdsList())));
      for (Disk d : f.getDisksList()) {
        out.println("disk         " + d.getName() + " " + d.getModel() + " " + bytes(d.getSizeBytes()));
      }
      for (FileSystem fs : f.getFileSystemsList()) {
        out.println("filesystem   " + fs.getMount() + " (" + fs.getType() + ") " + bytes(fs.getFreeBytes())
            + " free of " + bytes(fs.getTotalBytes()));
      }
      for (Nic n : f.getNicsList()) {
        out.println("nic          " + n.getName() + " " + n.getMac() + " " + String.join(" ", n.getAddressesList())
            + (n.getSpeedBitsPerSecond() > 0 ? " " + n.getSpeedBitsPerSecond() / 1_000_000 + " Mb/s" : ""));
      }
      for (io.rackroll.proto.v1.AppState app : a.getAppsList()) {
        out.println("app          " + app.getApp() + ": current " + (app.getCurrentVersion().isEmpty() ? "none"
            : app.getCurrentVersion()) + ", last job " + app.getVersion() + " " + app.getPhase()
            + (app.getFailure().isEmpty() ? "" : " (" + app.getFailure() + ")") + ", kept "
            + String.join(" ", app.getKeptVersionsList()));
        if (!app.getHealth().isEmpty()) {
          out.println("health       " + app.getApp() + ": " + app.getHealth());
        }
      }
      for (String w : a.getWarningsList()) {
        out.println("warning      " + w);
      }
    }
  }

  @Command(name = "ping", mixinStandardHelpOptions = true,
      description = "Send a ping down an agent's stream and print the round trip.")
  static final class PingCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Agent id.")
    String id;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        PingAgentResponse r = client.stub(channel).pingAgent(
            PingAgentRequest.newBuilder().setAgentId(id).setTimeoutMillis(5_000).build());
        System.out.printf(Locale.ROOT, "agent %s answered in %.1f ms%n", id, r.getRoundTripMicros() / 1000.0);
        return 0;
      });
    }
  }

  @Command(name = "label", mixinStandardHelpOptions = true,
      description = {"Set or remove an agent's labels: KEY=VALUE sets, KEY- removes, e.g."
          + " 'rackroll agents label ag-x rack=r2 canary-'.",
          "Selectors and environments see the change at once; it is in 'rackroll audit'."})
  static final class Label implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(index = "0", paramLabel = "ID", description = "Agent id.")
    String id;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "KEY=VALUE|KEY-", description = "Changes.")
    List<String> changes;

    @Override
    public Integer call() throws Exception {
      LabelAgentRequest.Builder request = LabelAgentRequest.newBuilder().setAgentId(id);
      for (String change : changes) {
        int eq = change.indexOf('=');
        if (eq > 0) {
          request.putSet(change.substring(0, eq), change.substring(eq + 1));
        } else if (change.endsWith("-") && change.length() > 1) {
          request.addRemove(change.substring(0, change.length() - 1));
        } else {
          throw new UsageError("\"" + change + "\": expected KEY=VALUE to set a label or KEY- to remove one");
        }
      }
      return client.call(channel -> {
        AgentRecord a = client.stub(channel).labelAgent(request.build());
        System.out.println("agent " + id + " labels: " + a.getLabelsMap().entrySet().stream()
            .sorted(Map.Entry.comparingByKey()).map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining(",")));
        return 0;
      });
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = {"End an agent's stream now and refuse its certificates from then on (kept across restarts).",
          "The host comes back only by enrolling again with a new token: rackroll-agent enroll --token TOKEN."})
  static final class Revoke implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Agent id.")
    String id;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log.")
    String reason = "";

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        RevokeAgentResponse r = client.stub(channel).revokeAgent(
            RevokeAgentRequest.newBuilder().setAgentId(id).setReason(reason).build());
        System.out.println("revoked agent " + id + ": certificate" + (r.getSerialsCount() == 1 ? " " : "s ")
            + String.join(", ", r.getSerialsList()) + " refused from now on"
            + (r.getWasConnected() ? "; its stream was closed" : ""));
        return 0;
      });
    }
  }

  @Command(name = "remove", mixinStandardHelpOptions = true,
      description = {"Revoke an agent and forget it: its record, labels, apps and flags. Deployments and the audit"
          + " keep their history of it. Refused while a running deployment holds it.",
          "A host removed by mistake comes back by enrolling again with a new token."})
  static final class Remove implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Agent id.")
    String id;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log.")
    String reason = "";

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        RemoveAgentResponse r = client.stub(channel).removeAgent(
            RemoveAgentRequest.newBuilder().setAgentId(id).setReason(reason).build());
        System.out.println("removed agent " + id + (r.getHostname().isEmpty() ? "" : " (" + r.getHostname() + ")")
            + ": certificate" + (r.getSerialsCount() == 1 ? " " : "s ") + String.join(", ", r.getSerialsList())
            + " refused from now on" + (r.getWasConnected() ? ", its stream closed" : "")
            + "; deployments keep their history of it");
        return 0;
      });
    }
  }
}
