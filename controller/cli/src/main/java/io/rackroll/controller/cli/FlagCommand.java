package io.rackroll.controller.cli;

import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.EnvironmentFlags;
import io.rackroll.proto.v1.GetFlagsRequest;
import io.rackroll.proto.v1.GetFlagsResponse;
import io.rackroll.proto.v1.HostFlags;
import io.rackroll.proto.v1.SetFlagsRequest;
import io.rackroll.release.FlagValues;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rackroll flag set|unset} and {@code rackroll flags}. */
@Command(name = "flag", mixinStandardHelpOptions = true,
    description = "Runtime flags: per app and environment, read by the running release from flags.json; changed in"
        + " rolling batches behind the health gate, and put back on failure.",
    subcommands = {FlagCommand.Set.class, FlagCommand.Unset.class})
final class FlagCommand {

  /** What set and unset share: where, how, and following it. */
  static final class Target {
    @Option(names = "--env", required = true, paramLabel = "ENV", description = "The environment, e.g. production.")
    String env;

    @Option(names = {"-l", "--selector"}, paramLabel = "EXPR", description = "Only the environment's agents that"
        + " also match, e.g. 'rack=r1' to turn a feature on for one rack first.")
    String selector = "";

    @ArgGroup(exclusive = false, heading = "Rollout options (over the environment's strategy):%n")
    RolloutOptions rollout = new RolloutOptions();

    @Mixin WindowOverride window;

    @Option(names = "--watch", description = "Follow the change to its end; exit 0 only if it completed.")
    boolean watch;

    int send(AdminClient client, String app, Map<String, String> changes) throws Exception {
      SetFlagsRequest req = SetFlagsRequest.newBuilder().setApp(app).setEnvironment(env).setSelector(selector)
          .putAllChanges(changes).putAllOptions(rollout.toMap()).setOverrideWindowReason(window.reason()).build();
      return client.call(channel -> {
        DeploymentRecord d = client.stub(channel).setFlags(req);
        return DeployCommand.follow(client, channel, d, watch);
      });
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = {"Set flags of APP on ENV's hosts: true/false are booleans, numbers are numbers, anything else"
          + " (or a value in double quotes) a string. Other flags stay as they are.",
          "Each batch writes flags.json, runs the release's flagsChanged hook and waits out the health gate; a host"
              + " that fails puts its flags back, and past the failure budget every changed host does."})
  static final class Set implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(index = "0", paramLabel = "APP", description = "The application, e.g. web.")
    String app;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME=VALUE", description = "e.g. checkout.v2=true")
    List<String> assignments;

    @Mixin Target target;

    @Override
    public Integer call() throws Exception {
      Map<String, String> changes = new java.util.TreeMap<>();
      for (String a : assignments) {
        Map.Entry<String, String> e = FlagValues.assignment(a);
        if (changes.put(e.getKey(), e.getValue()) != null) {
          throw new IllegalArgumentException("flag " + e.getKey() + " is given twice; give each flag once");
        }
      }
      return target.send(client, app, changes);
    }
  }

  @Command(name = "unset", mixinStandardHelpOptions = true,
      description = "Remove flags of APP from ENV's hosts, rolled out like 'rackroll flag set'.")
  static final class Unset implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(index = "0", paramLabel = "APP", description = "The application, e.g. web.")
    String app;

    @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME", description = "e.g. checkout.v2")
    List<String> names;

    @Mixin Target target;

    @Override
    public Integer call() throws Exception {
      Map<String, String> changes = new java.util.TreeMap<>();
      names.forEach(n -> changes.put(FlagValues.name(n), FlagValues.REMOVE));
      return target.send(client, app, changes);
    }
  }

  @Command(name = "flags", mixinStandardHelpOptions = true,
      description = "Each host's flags of APP, as its agent last reported them, and the history of flag changes.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "APP", description = "The application, e.g. web.")
    String app;

    @Option(names = "--env", paramLabel = "ENV", description = "Only this environment's hosts and changes.")
    String env = "";

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        GetFlagsResponse r = client.stub(channel).getFlags(GetFlagsRequest.newBuilder().setApp(app)
            .setEnvironment(env).build());
        if (output.structured()) {
          output.print(System.out, r);
          return 0;
        }
        if (r.getHostsCount() == 0) {
          System.out.println("no host reported flags of " + app + (env.isEmpty() ? "" : " in " + env));
        } else {
          String format = "%-14s %-32s %s%n";
          System.out.printf(format, "ENVIRONMENT", "HOST", "FLAGS");
          for (HostFlags h : r.getHostsList()) {
            System.out.printf(format, h.getEnvironment().isEmpty() ? "-" : h.getEnvironment(),
                h.getHostname().isEmpty() || h.getHostname().equals(h.getAgentId()) ? h.getAgentId()
                    : h.getAgentId() + " (" + h.getHostname() + ")",
                h.getFlagsCount() == 0 ? "(none)" : FlagValues.show(h.getFlagsMap()));
          }
        }
        if (r.getEnvironmentsCount() > 0) {
          System.out.println();
          String format = "%-14s %s%n";
          System.out.printf(format, "ENVIRONMENT", "FLAGS (what its changes to every host left; hosts new to "
              + app + " start with them)");
          for (EnvironmentFlags e : r.getEnvironmentsList()) {
            System.out.printf(format, e.getEnvironment(), e.getFlagsCount() == 0 ? "(none)" : FlagValues.show(e.getFlagsMap()));
          }
        }
        if (r.getChangesCount() > 0) {
          System.out.println();
          String format = "%-14s %-24s %-10s %-12s %-16s %-28s %s%n";
          System.out.printf(format, "CHANGE", "CREATED", "BY", "ENVIRONMENT", "SELECTOR", "FLAGS", "STATE");
          for (DeploymentRecord d : r.getChangesList()) {
            System.out.printf(format, d.getId(), Instant.ofEpochMilli(d.getCreatedEpochMillis()), d.getCreatedBy(),
                d.getEnvironment(), d.getSelector(), FlagValues.show(d.getFlagsMap()),
                d.getState() + (d.getReason().isEmpty() ? "" : " (" + d.getReason() + ")"));
          }
        }
        return 0;
      });
    }
  }

  private FlagCommand() {}
}
