package io.rackroll.controller.cli;

import io.rackroll.proto.v1.AgentHistoryRequest;
import io.rackroll.proto.v1.AuditRecord;
import io.rackroll.proto.v1.ControlDeploymentRequest;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.ListDeploymentsRequest;
import io.rackroll.proto.v1.TransitionRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rackroll deployment show|watch|pause|resume|approve|abort ID}, and the lists beside it. */
@Command(name = "deployment", mixinStandardHelpOptions = true, description = "Follow and steer one deployment.",
    subcommands = {DeploymentCommand.Show.class, DeploymentCommand.Watch.class, DeploymentCommand.Pause.class,
        DeploymentCommand.Resume.class, DeploymentCommand.Approve.class, DeploymentCommand.Abort.class})
final class DeploymentCommand {

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a deployment and each host's state.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Deployment id, as printed by deploy.")
    String id;

    @Option(names = "--watch", description = "Follow it to its end (as 'deployment watch': exit 0 only if it"
        + " completed).")
    boolean watch;

    @Mixin Output.Option output; // structured output carries every recorded host transition

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        if (watch) {
          return DeploymentWatch.watch(client, channel, id, System.out, Duration.ofHours(24));
        }
        DeploymentRecord d = client.stub(channel).getDeployment(GetDeploymentRequest.newBuilder().setId(id)
            .setTransitions(output.structured()).build());
        if (output.structured()) {
          output.print(System.out, d);
        } else {
          DeploymentWatch.print(d, System.out);
        }
        return 0; // it showed what was asked, however the deployment went ('--watch' says that)
      });
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = "Follow a deployment live to its end; exit 0 only if it completed.")
  static final class Watch implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        return DeploymentWatch.watch(client, channel, id, System.out, Duration.ofHours(24));
      });
    }
  }

  /** The four steering commands differ only in their action. */
  abstract static class Control implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID")
    String id;

    abstract String action();

    boolean rollback() {
      return false;
    }

    String reason() {
      return "";
    }

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        DeploymentRecord d = client.stub(channel).controlDeployment(ControlDeploymentRequest.newBuilder().setId(id)
            .setAction(action()).setRollback(rollback()).setReason(reason()).build());
        System.out.println("deployment " + d.getId() + ": " + d.getState()
            + (d.getReason().isEmpty() ? "" : " (" + d.getReason() + ")"));
        if (action().equals("abort") && !rollback()) {
          System.out.println("hosts it already changed stay on " + d.getApp() + "@" + d.getVersion()
              + "; to return them: rackroll deployment abort " + d.getId() + " --rollback");
        }
        return 0;
      });
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true,
      description = "Start no more hosts; hosts in flight finish.")
  static final class Pause extends Control {
    @Override
    String action() {
      return "pause";
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = {"Go on with a paused deployment.",
      "A deployment waiting for a change window goes on by itself when the window opens; resuming it sooner needs"
          + " --reason, and it then runs outside windows to its end (audited)."})
  static final class Resume extends Control {
    @Option(names = "--reason", paramLabel = "TEXT", description = "Why (kept in the audit log).")
    String reason = "";

    @Override
    String action() {
      return "resume";
    }

    @Override
    String reason() {
      return reason;
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Let a deployment waiting after its canary (--approve-after-canary) go on.")
  static final class Approve extends Control {
    @Override
    String action() {
      return "approve";
    }
  }

  @Command(name = "abort", mixinStandardHelpOptions = true,
      description = "Stop after the hosts in flight finish; with --rollback, then return every host it changed to"
          + " its release before.")
  static final class Abort extends Control {
    @Option(names = "--rollback", description = "Return changed hosts to their release before.")
    boolean rollback;

    @Override
    String action() {
      return "abort";
    }

    @Override
    boolean rollback() {
      return rollback;
    }
  }

  @Command(name = "deployments", mixinStandardHelpOptions = true, description = "List deployments, newest first.")
  static final class ListCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = "--limit", paramLabel = "N", description = "How many (default: 20).")
    int limit = 20;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        var list = client.stub(channel).listDeployments(ListDeploymentsRequest.newBuilder().setLimit(limit).build());
        if (output.structured()) {
          output.print(System.out, list.getDeploymentsList());
          return 0;
        }
        System.out.printf("%-14s %-8s %-24s %-17s %-7s %-9s %s%n", "ID", "KIND", "RELEASE", "STATE", "BATCH",
            "FAILURES", "CREATED");
        for (DeploymentRecord d : list.getDeploymentsList()) {
          System.out.printf("%-14s %-8s %-24s %-17s %-7s %-9s %s by %s%n", d.getId(), d.getKind(),
              DeploymentWatch.what(d), d.getState(),
              (d.getBatch() + 1) + "/" + d.getBatches(), d.getFailures() + "/" + d.getAllowedFailures(),
              Instant.ofEpochMilli(d.getCreatedEpochMillis()), d.getCreatedBy());
        }
        return 0;
      });
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true,
      description = "Every admin action and deployment state change, newest first, with who did it.")
  static final class AuditCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = "--limit", paramLabel = "N", description = "How many entries (default: 100).")
    int limit = 100;

    @Option(names = "--who", paramLabel = "NAME", description = "Only what this admin (or 'controller') did.")
    String who = "";

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        List<AuditRecord> entries = client.stub(channel).listAudit(ListAuditRequest.newBuilder().setLimit(limit)
            .setWho(who).build()).getEntriesList();
        if (output.structured()) {
          output.print(System.out, entries);
          return 0;
        }
        for (AuditRecord e : entries) {
          System.out.printf("%s  %-12s %-18s %-14s %s%n", Instant.ofEpochMilli(e.getAtEpochMillis()), e.getActor(),
              e.getAction(), e.getTarget(), e.getDetail());
        }
        return 0;
      });
    }
  }

  @Command(name = "history", mixinStandardHelpOptions = true,
      description = "A host's releases over time: every recorded transition, newest first.")
  static final class HistoryCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = "--agent", required = true, paramLabel = "ID", description = "The agent.")
    String agent;

    @Option(names = "--limit", paramLabel = "N", description = "How many transitions (default: 200).")
    int limit = 200;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        List<TransitionRecord> transitions = client.stub(channel).agentHistory(AgentHistoryRequest.newBuilder()
            .setAgentId(agent).setLimit(limit).build()).getTransitionsList();
        if (output.structured()) {
          output.print(System.out, transitions);
          return 0;
        }
        for (TransitionRecord t : transitions) {
          System.out.printf("%s  %-14s %-20s %-16s %s%n", Instant.ofEpochMilli(t.getAtEpochMillis()),
              t.getDeploymentId(), t.getApp() + "@" + t.getVersion(), t.getPhase(), t.getDetail());
        }
        return 0;
      });
    }
  }
}
