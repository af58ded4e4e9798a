package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.rackroll.proto.v1.DeployRequest;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.proto.v1.RollbackRequest;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "deploy", mixinStandardHelpOptions = true,
    description = "Deploy NAME@VERSION to every agent the selector chooses. Each host verifies, installs, activates,"
        + " checks health and rolls back by itself on failure.")
final class DeployCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Parameters(paramLabel = "NAME@VERSION", description = "A pushed release, e.g. web@1.4.2.")
  String ref;

  @Option(names = {"-l", "--selector"}, required = true, paramLabel = "EXPR", description = "Which agents, e.g. 'role=web,rack=r1'.")
  String selector;

  @Option(names = "--watch", description = "Follow the deployment until every host ends; exit 0 only if all are ACTIVE.")
  boolean watch;

  @Override
  public Integer call() throws Exception {
    ReleaseCommand.Ref release = ReleaseCommand.Ref.parse(ref);
    ManagedChannel channel = client.open();
    try {
      DeploymentRecord d = client.stub(channel).deploy(DeployRequest.newBuilder().setName(release.name())
          .setVersion(release.version()).setSelector(selector).build());
      return follow(client, channel, d, watch);
    } finally {
      AdminClient.close(channel);
    }
  }

  static int follow(AdminClient client, ManagedChannel channel, DeploymentRecord d, boolean watch) throws InterruptedException {
    System.out.println("started " + d.getKind() + " " + d.getId() + " of " + d.getApp()
        + (d.getVersion().isEmpty() ? "" : "@" + d.getVersion()) + " on " + d.getHostsCount() + " host(s)");
    if (!watch) {
      System.out.println("follow it with: rackroll deployment show " + d.getId() + " --watch");
      return 0;
    }
    return DeploymentWatch.watch(client, channel, d.getId(), System.out, Duration.ofMinutes(30));
  }

  @Command(name = "rollback", mixinStandardHelpOptions = true,
      description = "Switch the selected agents back to a release they still keep (each host's previous one by default).")
  static final class RollbackCommand implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME", description = "The application.")
    String name;

    @Option(names = {"-l", "--selector"}, required = true, paramLabel = "EXPR", description = "Which agents, e.g. 'rack=r12'.")
    String selector;

    @Option(names = "--to", paramLabel = "VERSION", description = "A version still kept on the hosts.")
    String to = "";

    @Option(names = "--watch", description = "Follow it until every host ends; exit 0 only if all are ACTIVE.")
    boolean watch;

    @Override
    public Integer call() throws Exception {
      ManagedChannel channel = client.open();
      try {
        DeploymentRecord d = client.stub(channel).rollback(RollbackRequest.newBuilder().setName(name).setToVersion(to)
            .setSelector(selector).build());
        return follow(client, channel, d, watch);
      } finally {
        AdminClient.close(channel);
      }
    }
  }

  @Command(name = "deployment", mixinStandardHelpOptions = true, description = "Inspect deployments.",
      subcommands = DeployCommand.Show.class)
  static final class DeploymentCommand {
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show a deployment and each host's state.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "ID", description = "Deployment id, as printed by deploy.")
    String id;

    @Option(names = "--watch", description = "Follow it until every host ends; exit 0 only if all are ACTIVE.")
    boolean watch;

    @Override
    public Integer call() throws Exception {
      ManagedChannel channel = client.open();
      try {
        if (watch) {
          return DeploymentWatch.watch(client, channel, id, System.out, Duration.ofMinutes(30));
        }
        DeploymentRecord d = client.stub(channel).getDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
        DeploymentWatch.print(d, System.out);
        return d.getState().equals("failed") ? Rackroll.EXIT_FAILURE : 0;
      } finally {
        AdminClient.close(channel);
      }
    }
  }
}
