package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.PlanRequest;
import io.rackroll.proto.v1.PlanResponse;
import io.rackroll.proto.v1.PlannedBatch;
import io.rackroll.proto.v1.PlannedHost;
import io.rackroll.proto.v1.ReconfigureRequest;
import io.rackroll.proto.v1.RollbackRequest;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = {"Roll NAME@VERSION out to the agents the selector chooses: a canary, then batches, each behind a"
        + " health gate; past the failure budget it halts and returns changed hosts to their release before.",
        "Healthy hosts already on the release are left alone. See the plan first with 'rackroll plan'.",
        "With --reconfigure --env ENV: install the version NAME runs in ENV again with ENV's values now (after a"
            + " variable or secret changed; see 'rackroll env diff'), in batches, reverting to the earlier values"
            + " on failure."})
final class DeployCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Parameters(paramLabel = "NAME@VERSION|NAME", description = "A pushed release, e.g. web@1.4.2; with --reconfigure"
      + " the application.")
  String ref;

  @Option(names = {"-l", "--selector"}, paramLabel = "EXPR", description = "Which agents, e.g. 'role=web,rack=r1'.")
  String selector;

  @Option(names = "--reconfigure", description = "Redeploy what ENV runs with ENV's values now; needs --env.")
  boolean reconfigure;

  @Option(names = "--env", paramLabel = "ENV", description = "With --reconfigure: the environment.")
  String env;

  @ArgGroup(exclusive = false, heading = "Rollout options:%n")
  RolloutOptions rollout = new RolloutOptions();

  @Option(names = "--watch", description = "Follow the deployment to its end; exit 0 only if it completed.")
  boolean watch;

  @Mixin WindowOverride window;

  @Option(names = "--force", description = "Deploy although the selector reaches hosts of an environment that takes"
      + " releases by promotion only (requirePromotion); needs --reason (audited).")
  boolean force;

  @Override
  public Integer call() throws Exception {
    if (force && window.reason.isBlank()) {
      throw new UsageError("--force needs --reason TEXT: say why, for the audit log");
    }
    if (reconfigure) {
      return reconfigure();
    }
    if (env != null) {
      throw new UsageError("--env goes with --reconfigure; to deploy to an environment use"
          + " 'rackroll promote " + ref + " --to " + env + "'");
    }
    if (selector == null) {
      throw new UsageError("deploy needs --selector EXPR (which agents), e.g. -l 'role=web,rack=r1'");
    }
    return client.call(channel -> {
      DeploymentRecord d = client.stub(channel).deploy(request(ref, selector, rollout.toMap()).toBuilder()
          .setOverrideWindowReason(window.reason()).setForceReason(force ? window.reason : "").build());
      return follow(client, channel, d, watch);
    });
  }

  private int reconfigure() throws Exception {
    if (env == null || env.isBlank()) {
      throw new IllegalArgumentException("--reconfigure needs --env ENV: the environment whose values to roll out");
    }
    if (selector != null) {
      throw new IllegalArgumentException("--reconfigure takes the environment's hosts; leave out --selector");
    }
    if (ref.contains("@")) {
      throw new IllegalArgumentException("--reconfigure redeploys the version " + env + " runs: give the application"
          + " name only (" + ref.substring(0, ref.indexOf('@')) + ")");
    }
    ReconfigureRequest req = ReconfigureRequest.newBuilder().setName(ref).setEnvironment(env)
        .putAllOptions(rollout.toMap()).setOverrideWindowReason(window.reason()).build();
    return client.call(channel -> follow(client, channel, client.stub(channel).reconfigure(req), watch));
  }

  static DeployRequest request(String ref, String selector, Map<String, String> options) {
    ReleaseCommand.Ref release = ReleaseCommand.Ref.parse(ref);
    return DeployRequest.newBuilder().setName(release.name()).setVersion(release.version()).setSelector(selector)
        .putAllOptions(options).build();
  }

  static int follow(AdminClient client, ManagedChannel channel, DeploymentRecord d, boolean watch) throws InterruptedException {
    long skipped = d.getHostsList().stream().filter(h -> h.getBatch() < 0).count();
    System.out.println("started " + d.getKind() + " " + d.getId() + " of " + DeploymentWatch.what(d)
        + " on " + (d.getHostsCount() - skipped) + " host(s)"
        + " in " + d.getBatches() + " batch(es)" + (skipped == 0 ? "" : ", " + skipped + " skipped"));
    if (!watch) {
      System.out.println("follow it with: rackroll deployment watch " + d.getId());
      return 0;
    }
    return DeploymentWatch.watch(client, channel, d.getId(), System.out, Duration.ofHours(24));
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = {"Return the selected agents to a release they still keep (each host's previous one by default);"
          + " with --to a version they no longer keep, it is deployed normally.",
          "A deployment like any other, with emergency defaults: every selected host at once, no health gate,"
              + " no canary, never waits for an approval."})
  static final class RollbackCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME", description = "The application.")
    String name;

    @Option(names = {"-l", "--selector"}, required = true, paramLabel = "EXPR", description = "Which agents, e.g. 'rack=r12'.")
    String selector;

    @Option(names = "--to", paramLabel = "VERSION", description = "The version to return to.")
    String to = "";

    @ArgGroup(exclusive = false, heading = "Rollout options:%n")
    RolloutOptions rollout = new RolloutOptions();

    @Option(names = "--watch", description = "Follow it to its end; exit 0 only if it completed.")
    boolean watch;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        DeploymentRecord d = client.stub(channel).rollback(request(name, to, selector, rollout.toMap()));
        return follow(client, channel, d, watch);
      });
    }

    static RollbackRequest request(String name, String to, String selector, Map<String, String> options) {
      return RollbackRequest.newBuilder().setName(name).setToVersion(to).setSelector(selector)
          .putAllOptions(options).build();
    }
  }

  @Command(name = "plan", mixinStandardHelpOptions = true,
      description = "Print the batches a deploy (or with --rollback, a rollback) would run and the hosts it would"
          + " skip and why, without changing anything.")
  static final class PlanCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME@VERSION|NAME", description = "The release to deploy, or the app to roll back.")
    String ref;

    @Option(names = {"-l", "--selector"}, required = true, paramLabel = "EXPR", description = "Which agents.")
    String selector;

    @Option(names = "--rollback", description = "Plan 'rackroll rollback NAME' instead.")
    boolean rollback;

    @Option(names = "--to", paramLabel = "VERSION", description = "With --rollback: the version to return to.")
    String to = "";

    @ArgGroup(exclusive = false, heading = "Rollout options:%n")
    RolloutOptions rollout = new RolloutOptions();

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      PlanRequest.Builder req = PlanRequest.newBuilder();
      if (rollback) {
        req.setRollback(RollbackCommand.request(ref, to, selector, rollout.toMap()));
      } else {
        req.setDeploy(request(ref, selector, rollout.toMap()));
      }
      return client.call(channel -> {
        PlanResponse plan = client.stub(channel).plan(req.build());
        if (output.structured()) {
          output.print(System.out, plan);
        } else {
          print(plan);
        }
        return 0;
      });
    }

    private static void print(PlanResponse plan) {
      int hosts = plan.getBatchesList().stream().mapToInt(PlannedBatch::getHostsCount).sum();
      System.out.println(hosts + " host(s) in " + plan.getBatchesCount() + " batch(es); failure budget "
          + plan.getAllowedFailures() + " host(s)");
      StringBuilder opts = new StringBuilder();
      plan.getOptionsMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
          .forEach(e -> opts.append(opts.length() == 0 ? "" : ", ").append(e.getKey()).append('=').append(e.getValue()));
      System.out.println("options: " + opts);
      for (int i = 0; i < plan.getBatchesCount(); i++) {
        PlannedBatch b = plan.getBatches(i);
        System.out.println("batch " + (i + 1) + (i == 0 && plan.getCanary() ? " (canary)" : "") + ": "
            + b.getHostsCount() + " host(s)");
        b.getHostsList().forEach(h -> System.out.println("  " + host(h)));
      }
      if (plan.getSkippedCount() > 0) {
        System.out.println("skipped: " + plan.getSkippedCount() + " host(s)");
        plan.getSkippedList().forEach(h -> System.out.println("  " + host(h)));
      }
      if (plan.getUnfitCount() > 0) {
        System.out.println("unfit: " + plan.getUnfitCount() + " host(s) cannot take the release by the facts they"
            + " reported; deploy refuses this plan (--skip-unfit skips them)");
        plan.getUnfitList().forEach(h -> System.out.println("  " + host(h)));
      }
      if (plan.getWouldRefuseCount() > 0) {
        System.out.println("would refuse: " + plan.getWouldRefuseCount() + " host(s) will refuse the release by their"
            + " signature policy, as they last reported it; each counts as a failure");
        plan.getWouldRefuseList().forEach(h -> System.out.println("  " + host(h)));
      }
    }

    private static String host(PlannedHost h) {
      return String.format("%-24s %-10s %s", h.getHostname() + (h.getHostname().equals(h.getAgentId()) ? ""
          : " (" + h.getAgentId() + ")"), h.getDomain().isEmpty() ? "-" : h.getDomain(), h.getNote()).stripTrailing();
    }
  }
}
