package io.rackroll.controller.cli;

import io.rackroll.proto.v1.ApplyEnvironmentsRequest;
import io.rackroll.proto.v1.EnvironmentDiffRequest;
import io.rackroll.proto.v1.EnvironmentDiffResponse;
import io.rackroll.proto.v1.EnvironmentRecord;
import io.rackroll.proto.v1.StaleHost;
import io.rackroll.proto.v1.EnvironmentsRecord;
import io.rackroll.proto.v1.GetEnvironmentsRequest;
import io.rackroll.proto.v1.SetSecretRequest;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code rackroll env apply|show} and {@code rackroll envs}. */
@Command(name = "env", mixinStandardHelpOptions = true,
    description = "Environments: named sets of agents with their strategy and change windows, and the lifecycle a"
        + " release is promoted along.",
    subcommands = {EnvCommand.Apply.class, EnvCommand.Show.class, EnvCommand.Diff.class, EnvCommand.Secret.class})
final class EnvCommand {

  @Command(name = "apply", mixinStandardHelpOptions = true,
      description = {"Check an environments file and put it in force as the next version.",
          "Refused, with nothing changed, when it is invalid or an agent would belong to two environments."})
  static final class Apply implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = {"-f", "--file"}, required = true, paramLabel = "FILE", description = "The environments file.")
    Path file;

    @Option(names = "--dry-run", description = "Only check it against the fleet; change nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
      String yaml = InputFile.text(file, "environments file", InputFile.TEXT_LIMIT);
      return client.call(channel -> {
        EnvironmentsRecord r = client.stub(channel).applyEnvironments(ApplyEnvironmentsRequest.newBuilder()
            .setYaml(yaml).setFileName(file.getFileName().toString()).setDryRun(dryRun).build());
        System.out.println((dryRun ? "checked " + file + ": it would be version " : "applied environments file version ")
            + r.getVersion() + ": " + r.getEnvironmentsList().stream()
                .map(e -> e.getName() + " (" + e.getAgents() + " agents)").collect(Collectors.joining(", ")));
        if (r.getLifecycleCount() > 0) {
          System.out.println("lifecycle: " + String.join(" -> ", r.getLifecycleList()));
        }
        if (r.getUnassignedAgents() > 0) {
          System.out.println(r.getUnassignedAgents() + " agent(s) belong to no environment");
        }
        return 0;
      });
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one environment: its agents,"
      + " strategy, windows and freezes, and whether it may change now.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        EnvironmentsRecord r = client.stub(channel).getEnvironments(GetEnvironmentsRequest.getDefaultInstance());
        EnvironmentRecord e = r.getEnvironmentsList().stream().filter(x -> x.getName().equals(name)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("no environment \"" + name + "\"" + (r.getVersion() == 0
                ? "; apply a file first with 'rackroll env apply -f FILE'"
                : " (defined: " + r.getEnvironmentsList().stream().map(EnvironmentRecord::getName)
                    .collect(Collectors.joining(", ")) + ")")));
        print(e, System.out);
        return 0;
      });
    }

    static void print(EnvironmentRecord e, PrintStream out) {
      out.println(e.getName());
      row(out, "selector", e.getSelector());
      row(out, "after", e.getPrevious().isEmpty() ? "-" : e.getPrevious() + " (promotions need it completed there)");
      row(out, "agents", e.getAgents() + " (" + e.getConnected() + " connected)");
      row(out, "strategy", e.getStrategyCount() == 0 ? "deploy defaults" : e.getStrategyMap().entrySet().stream()
          .map(x -> x.getKey() + "=" + x.getValue()).sorted().collect(Collectors.joining(", "))
          + " (the rest: deploy defaults)");
      row(out, "variables", e.getVariablesCount() == 0 ? "none" : e.getVariablesMap().entrySet().stream()
          .map(x -> x.getKey() + "=" + x.getValue()).sorted().collect(Collectors.joining(", ")));
      // Secrets by name only: their values never leave the controller except to this environment's agents.
      row(out, "secrets", e.getSecretsCount() == 0 ? "none" : e.getSecretsList().stream()
          .map(x -> x.getName() + "=******** (set by " + x.getUpdatedBy() + " at "
              + Instant.ofEpochMilli(x.getUpdatedEpochMillis()).truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
              + ")").collect(Collectors.joining(", ")));
      row(out, "timezone", e.getTimezone());
      row(out, "windows", e.getWindowsCount() == 0 ? "any time" : String.join("; ", e.getWindowsList()));
      row(out, "freezes", e.getFreezesCount() == 0 ? "none" : String.join("; ", e.getFreezesList()));
      row(out, "changes", changes(e));
    }

    private static void row(PrintStream out, String key, String value) {
      out.printf("  %-10s %s%n", key, value);
    }
  }

  @Command(name = "diff", mixinStandardHelpOptions = true,
      description = {"List hosts whose current release runs with other values than their environment has now"
          + " (a variable or secret changed since it was installed). Changes nothing.",
          "They take the new values at their next deployment."})
  static final class Diff implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ENV", arity = "0..1", description = "Only this environment.")
    String environment = "";

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        EnvironmentDiffResponse r = client.stub(channel).environmentDiff(EnvironmentDiffRequest.newBuilder()
            .setEnvironment(environment).build());
        if (r.getStaleCount() == 0) {
          System.out.println("every host runs with its environment's current values (" + r.getCurrent() + " app(s))");
          return 0;
        }
        String format = "%-14s %-24s %-24s %s%n";
        System.out.printf(format, "ENVIRONMENT", "HOST", "RELEASE", "WHY");
        for (StaleHost h : r.getStaleList()) {
          String host = h.getHostname().isEmpty() ? h.getAgentId() : h.getHostname() + " (" + h.getAgentId() + ")";
          System.out.printf(format, h.getEnvironment(), host, h.getApp() + "@" + h.getVersion(), h.getWhy());
        }
        System.out.println(r.getStaleCount() + " stale, " + r.getCurrent() + " current");
        return 0;
      });
    }
  }

  @Command(name = "secret", mixinStandardHelpOptions = true,
      description = {"Set or remove a secret of an environment: a variable whose value is encrypted at rest, sent"
          + " only to that environment's agents and never shown.",
          "Hosts take a new value at their next deployment of a release."},
      subcommands = {SecretSet.class, SecretUnset.class})
  static final class Secret {}

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Set secret NAME of ENV to the value read from standard input (one trailing newline dropped),"
          + " so it never appears in the shell's history or the process list.")
  static final class SecretSet implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(index = "0", paramLabel = "ENV")
    String environment;

    @Parameters(index = "1", paramLabel = "NAME", description = "As templates name it, e.g. db.password.")
    String name;

    @Override
    public Integer call() throws Exception {
      String value = InputFile.text(System.in, "the secret on standard input", 64 << 10);
      value = value.endsWith("\r\n") ? value.substring(0, value.length() - 2)
          : value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
      String v = value;
      return client.call(channel -> {
        client.stub(channel).setSecret(SetSecretRequest.newBuilder().setEnvironment(environment).setName(name)
            .setValue(v).build());
        System.out.println("secret " + name + " of " + environment + " set; hosts take it at their next deployment");
        return 0;
      });
    }
  }

  @Command(name = "unset", mixinStandardHelpOptions = true, description = "Remove secret NAME of ENV.")
  static final class SecretUnset implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(index = "0", paramLabel = "ENV")
    String environment;

    @Parameters(index = "1", paramLabel = "NAME")
    String name;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        client.stub(channel).setSecret(SetSecretRequest.newBuilder().setEnvironment(environment).setName(name)
            .setUnset(true).build());
        System.out.println("secret " + name + " of " + environment + " removed");
        return 0;
      });
    }
  }

  /** "open until ...", "open", or "closed until ...: why". */
  static String changes(EnvironmentRecord e) {
    if (e.getOpen()) {
      return e.getOpenUntilEpochMillis() == 0 ? "open" : "open until " + e.getOpenUntilShown();
    }
    return "closed until " + e.getNextOpenShown() + ": " + e.getClosedReason();
  }

  @Command(name = "envs", mixinStandardHelpOptions = true,
      description = "List environments: agents, lifecycle order and whether each may change now.")
  static final class ListCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", description = "text (default), json, or yaml (the"
        + " file in force, as applied).")
    String output = "text";

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        EnvironmentsRecord r = client.stub(channel).getEnvironments(GetEnvironmentsRequest.getDefaultInstance());
        switch (output) {
          case "json" -> System.out.print(Output.write(Output.tree(r), Output.Format.json));
          case "yaml" -> System.out.print(r.getYaml());
          case "text" -> print(r);
          default -> throw new IllegalArgumentException("--output: expected text, json or yaml, got \"" + output + "\"");
        }
        return 0;
      });
    }

    private static void print(EnvironmentsRecord r) {
      if (r.getVersion() == 0) {
        System.out.println("no environments; define them in a file and apply it: rackroll env apply -f FILE");
        return;
      }
      System.out.println("environments file version " + r.getVersion() + ", applied by " + r.getAppliedBy() + " at "
          + Instant.ofEpochMilli(r.getAppliedEpochMillis()) + (r.getLifecycleCount() == 0 ? ""
              : "; lifecycle " + String.join(" -> ", r.getLifecycleList())));
      String format = "%-14s %-24s %7s %10s  %s%n";
      System.out.printf(format, "NAME", "SELECTOR", "AGENTS", "CONNECTED", "CHANGES");
      for (EnvironmentRecord e : r.getEnvironmentsList()) {
        System.out.printf(format, e.getName(), e.getSelector(), e.getAgents(), e.getConnected(), changes(e));
      }
      if (r.getUnassignedAgents() > 0) {
        System.out.println(r.getUnassignedAgents() + " agent(s) belong to no environment");
      }
    }
  }

  private EnvCommand() {}
}
