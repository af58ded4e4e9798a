package io.rackroll.controller.cli;

import io.rackroll.proto.v1.ListReleasesRequest;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.release.Sizes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "releases", mixinStandardHelpOptions = true, description = "List pushed releases, newest first.")
final class ReleasesCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Parameters(paramLabel = "NAME", arity = "0..1", description = "Only this application.")
  String name = "";

  @Override
  public Integer call() throws Exception {
    return client.call(channel -> {
      List<ReleaseRecord> releases = client.stub(channel)
          .listReleases(ListReleasesRequest.newBuilder().setName(name).build()).getReleasesList();
      String format = "%-20s %-14s %10s  %-12s  %-10s %s%n";
      System.out.printf(format, "NAME", "VERSION", "SIZE", "SHA256", "PUSHED BY", "PUSHED AT");
      for (ReleaseRecord r : releases) {
        System.out.printf(format, r.getName(), r.getVersion(), Sizes.format(r.getSizeBytes()),
            r.getDigest().substring(0, 12), r.getPushedBy(),
            Instant.ofEpochMilli(r.getPushedEpochMillis()).truncatedTo(ChronoUnit.SECONDS));
      }
      return 0;
    });
  }
}
