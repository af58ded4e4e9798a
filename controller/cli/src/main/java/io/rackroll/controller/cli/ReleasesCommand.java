package io.rackroll.controller.cli;

import io.rackroll.proto.v1.ListReleasesRequest;
import io.rackroll.proto.v1.ReleaseHistoryRequest;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.proto.v1.VersionPlacement;
import io.rackroll.release.Sizes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "releases", mixinStandardHelpOptions = true, description = {"List pushed releases, newest first.",
    "With NAME: each version of that application, where it runs now (hosts by environment), and the environments"
        + " where a promotion of it completed, where attempts failed (none completed), and where one is rolling out now."})
final class ReleasesCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Parameters(paramLabel = "NAME", arity = "0..1", description = "Only this application.")
  String name = "";

  @Mixin Output.Option output;

  @Override
  public Integer call() throws Exception {
    return client.call(channel -> {
      if (!name.isEmpty()) {
        List<VersionPlacement> versions = client.stub(channel)
            .releaseHistory(ReleaseHistoryRequest.newBuilder().setName(name).build()).getVersionsList();
        if (versions.isEmpty()) {
          throw new IllegalArgumentException("no releases of " + name + "; push one with 'rackroll release push FILE'");
        }
        if (output.structured()) {
          output.print(System.out, versions);
          return 0;
        }
        String format = "%-14s %-20s  %-28s %-20s %-20s %s%n";
        System.out.printf(format, "VERSION", "PUSHED AT", "RUNNING ON", "COMPLETED IN", "FAILED IN", "ROLLING OUT IN");
        for (VersionPlacement v : versions) {
          String running = v.getRunningMap().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
              .map(e -> (e.getKey().isEmpty() ? "(no env)" : e.getKey()) + " " + e.getValue())
              .collect(Collectors.joining(", "));
          System.out.printf(format, v.getRelease().getVersion(), pushedAt(v.getRelease()), dash(running),
              dash(String.join(", ", v.getCompletedList())), dash(String.join(", ", v.getFailedList())),
              dash(String.join(", ", v.getRollingOutList())));
        }
        return 0;
      }
      List<ReleaseRecord> releases = client.stub(channel)
          .listReleases(ListReleasesRequest.newBuilder().setName(name).build()).getReleasesList();
      if (output.structured()) {
        output.print(System.out, releases);
        return 0;
      }
      String format = "%-20s %-14s %10s  %-12s  %-16s  %-10s %s%n";
      System.out.printf(format, "NAME", "VERSION", "SIZE", "SHA256", "SIGNED BY", "PUSHED BY", "PUSHED AT");
      for (ReleaseRecord r : releases) {
        System.out.printf(format, r.getName(), r.getVersion(), Sizes.format(r.getSizeBytes()),
            r.getDigest().substring(0, 12), r.getSignedBy().isEmpty() ? "-" : r.getSignedBy(), r.getPushedBy(),
            pushedAt(r));
      }
      return 0;
    });
  }

  private static Instant pushedAt(ReleaseRecord r) {
    return Instant.ofEpochMilli(r.getPushedEpochMillis()).truncatedTo(ChronoUnit.SECONDS);
  }

  private static String dash(String s) {
    return s.isEmpty() ? "-" : s;
  }
}
