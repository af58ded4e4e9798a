package io.rackroll.controller.cli;

import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.PromoteRequest;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "promote", mixinStandardHelpOptions = true,
    description = {"Deploy NAME@VERSION to every agent of an environment, with the environment's strategy (flags"
        + " win over it), once it completed in the environment before it in the lifecycle.",
        "Refused outside the environment's change windows. See environments with 'rackroll envs'."})
final class PromoteCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Parameters(paramLabel = "NAME@VERSION", description = "A pushed release, e.g. web@1.4.2.")
  String ref;

  @Option(names = "--to", required = true, paramLabel = "ENV", description = "The environment, e.g. production.")
  String to;

  @Option(names = "--force", description = "Promote although it has not completed in the environment before;"
      + " needs --reason (audited).")
  boolean force;

  @Mixin WindowOverride window;

  @ArgGroup(exclusive = false, heading = "Rollout options (over the environment's strategy):%n")
  RolloutOptions rollout = new RolloutOptions();

  @Option(names = "--watch", description = "Follow the deployment to its end; exit 0 only if it completed.")
  boolean watch;

  @Override
  public Integer call() throws Exception {
    ReleaseCommand.Ref release = ReleaseCommand.Ref.parse(ref);
    PromoteRequest.Builder req = PromoteRequest.newBuilder().setName(release.name()).setVersion(release.version())
        .setEnvironment(to).putAllOptions(rollout.toMap()).setOverrideWindowReason(window.reason());
    if (force) {
      if (window.reason.isBlank()) {
        throw new UsageError("--force needs --reason TEXT: say why, for the audit log");
      }
      req.setForceReason(window.reason);
    }
    return client.call(channel -> {
      DeploymentRecord d = client.stub(channel).promote(req.build());
      return DeployCommand.follow(client, channel, d, watch);
    });
  }
}
