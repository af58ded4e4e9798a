package io.rackroll.controller.cli;

import io.rackroll.controller.enroll.Labels;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.CreateTokenResponse;
import io.rackroll.wire.Durations;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "token", mixinStandardHelpOptions = true, description = "Bootstrap tokens for enrolling hosts.",
    subcommands = TokenCommand.Create.class)
final class TokenCommand {

  @Command(name = "create", mixinStandardHelpOptions = true,
      description = "Create a token that enrolls hosts with the given labels. Prints only the token on stdout.")
  static final class Create implements Callable<Integer> {
    @Mixin AdminClient client;

    @Option(names = "--labels", paramLabel = "K=V,...", description = "Labels enrolled hosts get, e.g. rack=r1,role=web.")
    String labels = "";

    @Option(names = "--ttl", paramLabel = "DURATION", description = "How long the token works (default: 1h, at most 30d).")
    String ttl = "1h";

    @Option(names = "--uses", paramLabel = "N", description = "How many hosts may enroll with it (default: 1).")
    int uses = 1;

    @Option(names = "--replaces", paramLabel = "AGENT", description = "Enroll one host as this existing agent"
        + " (a reinstalled or replaced machine): it keeps the agent's id, history and labels (unless --labels),"
        + " and every certificate the agent had before is refused from then on.")
    String replaces = "";

    @Option(names = "--release-key", paramLabel = "PUBFILE", description = "A release key (NAME.pub, from 'rackroll"
        + " release keygen') hosts enrolling with it trust from then on; repeat for more.")
    java.util.List<java.nio.file.Path> releaseKeys = new java.util.ArrayList<>();

    @Override
    public Integer call() throws Exception {
      CreateTokenRequest request = CreateTokenRequest.newBuilder()
          .putAllLabels(Labels.parse(labels))
          .setTtlSeconds(Durations.parse("--ttl", ttl).toSeconds())
          .setUses(uses)
          .setReplaces(replaces)
          .addAllReleaseKeys(releaseKeys.stream().map(k -> SigningCommand.readPublic(k).format("")).toList())
          .build();
      if (uses < 1) {
        throw new IllegalArgumentException("--uses: " + uses + " (expected: >= 1)");
      }
      return client.call(channel -> {
        CreateTokenResponse r = client.stub(channel).createToken(request);
        System.out.println(r.getToken());
        System.err.println("token " + r.getTokenId() + ": " + r.getUses() + " use(s), expires "
            + Instant.ofEpochMilli(r.getExpiresEpochMillis())
            + (replaces.isEmpty() ? "" : "; the host that enrolls with it becomes agent " + replaces));
        return 0;
      });
    }
  }
}
