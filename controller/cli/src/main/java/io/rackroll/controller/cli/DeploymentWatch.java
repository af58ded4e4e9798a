package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.HostPhase;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.release.FlagValues;
import io.rackroll.proto.v1.GetDeploymentRequest;
import io.rackroll.release.Sizes;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Shows a deployment as it runs, then a summary; the exit code is 0 only for a completed
 * deployment. On a terminal ({@link LiveView}) it redraws one block in place, in colour, with the
 * health gate's countdown; piped, or with {@code NO_COLOR} or {@code TERM=dumb}, it prints a
 * status line (batch i of n, a progress bar, the failure budget used, the state) whenever it
 * changes and a line whenever a host changes.
 */
final class DeploymentWatch {
  private DeploymentWatch() {}

  static int watch(AdminClient client, ManagedChannel channel, String id, PrintStream out, Duration limit)
      throws InterruptedException {
    Screen screen = out == System.out && LiveView.wanted(System.getenv()) ? new LiveView(out) : new Lines(out);
    try {
      return follow(client, channel, id, screen, limit);
    } finally {
      screen.close();
    }
  }

  private static int follow(AdminClient client, ManagedChannel channel, String id, Screen screen, Duration limit)
      throws InterruptedException {
    PrintStream out = screen.out();
    DeploymentRecord d = null;
    try {
      // The controller sends each change as it happens, and completes the stream at the end.
      java.util.Iterator<DeploymentRecord> changes = io.rackroll.proto.v1.AdminGrpc.newBlockingStub(channel)
          .withDeadlineAfter(limit.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
          .watchDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
      while (changes.hasNext()) {
        d = changes.next();
        screen.show(d);
        if (ended(d)) {
          screen.close();
          return summary(d, out);
        }
      }
    } catch (io.grpc.StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.UNIMPLEMENTED) {
        return poll(client, channel, id, screen, limit); // a controller older than WatchDeployment
      }
      if (e.getStatus().getCode() != io.grpc.Status.Code.DEADLINE_EXCEEDED) {
        throw e;
      }
    }
    out.println("deployment " + id + " still " + (d == null ? "running" : d.getState()) + " after " + limit.toHours()
        + " h; follow it with 'rackroll deployment watch " + id + "'");
    return Rackroll.EXIT_FAILURE;
  }

  /** As {@link #watch}, asking every half second. */
  private static int poll(AdminClient client, ManagedChannel channel, String id, Screen screen, Duration limit)
      throws InterruptedException {
    Instant deadline = Instant.now().plus(limit);
    while (true) {
      DeploymentRecord d = client.stub(channel).getDeployment(GetDeploymentRequest.newBuilder().setId(id).build());
      screen.show(d);
      if (ended(d)) {
        screen.close();
        return summary(d, screen.out());
      }
      if (Instant.now().isAfter(deadline)) {
        screen.out().println("deployment " + id + " still " + d.getState() + " after " + limit.toHours() + " h; follow"
            + " it with 'rackroll deployment watch " + id + "'");
        return Rackroll.EXIT_FAILURE;
      }
      Thread.sleep(500); // an older controller: asking between screen updates
    }
  }

  /** Where a followed deployment is shown. */
  interface Screen extends AutoCloseable {
    void show(DeploymentRecord d);

    PrintStream out();

    /** Done showing (the summary comes next). */
    @Override
    void close();
  }

  /** For a pipe or a log: the status line when it changes, a host's line when it changes. */
  private static final class Lines implements Screen {
    final PrintStream out;
    private final Map<String, String> shown = new HashMap<>();
    private String status = "";

    Lines(PrintStream out) {
      this.out = out;
    }

    @Override
    public PrintStream out() {
      return out;
    }

    @Override
    public void close() {
    }

    @Override
    public void show(DeploymentRecord d) {
      String now = status(d);
      if (!now.equals(status)) {
        out.println(now);
        status = now;
      }
      for (DeploymentHost h : d.getHostsList()) {
        String line = line(h, 10); // a long download prints a line per tenth, not per change
        if (!line.equals(shown.put(h.getAgentId(), line))) {
          out.println(line);
        }
      }
    }
  }

  static boolean ended(DeploymentRecord d) {
    return Deployment.ENDED.contains(d.getState());
  }

  static boolean failed(DeploymentRecord d) {
    return ended(d) && !d.getState().equals("completed");
  }

  /** "batch 2 of 4 [#####.....] 5/10 hosts done, failures 0 of 1 allowed: running". */
  static String status(DeploymentRecord d) {
    long planned = d.getHostsList().stream().filter(h -> h.getBatch() >= 0).count();
    long done = d.getHostsList().stream().filter(h -> h.getBatch() >= 0 && HostPhase.named(h.getPhase()).map(HostPhase::done).orElse(false)).count();
    int width = 20;
    int filled = planned == 0 ? width : (int) (width * done / planned);
    return "batch " + Math.min(d.getBatch() + 1, d.getBatches()) + " of " + d.getBatches() + " ["
        + "#".repeat(filled) + ".".repeat(width - filled) + "] " + done + "/" + planned + " hosts done, failures "
        + d.getFailures() + " of " + d.getAllowedFailures() + " allowed: " + d.getState()
        + (d.getReason().isEmpty() ? "" : " (" + d.getReason() + ")");
  }

  static int summary(DeploymentRecord d, PrintStream out) {
    Map<String, Integer> counts = new TreeMap<>();
    for (DeploymentHost h : d.getHostsList()) {
      // At the end, a host still PENDING was never started: the deployment stopped before its batch.
      String phase = ended(d) && h.getPhase().equals("PENDING") ? "not started" : h.getPhase().toLowerCase().replace('_', ' ');
      counts.merge(phase, 1, Integer::sum);
    }
    long reverted = d.getHostsList().stream().filter(h -> h.getRevert().equals("REVERTED")).count();
    StringBuilder b = new StringBuilder();
    counts.forEach((phase, n) -> b.append(b.length() == 0 ? "" : ", ").append(n).append(' ').append(phase));
    if (reverted > 0) {
      b.append("; ").append(reverted).append(" returned to their release before");
    }
    out.println(d.getKind() + " " + d.getId() + " of " + what(d) + " " + d.getState() + ": " + b + (d.getReason().isEmpty() ? "" : " (" + d.getReason() + ")"));
    return d.getState().equals("completed") ? 0 : Rackroll.EXIT_FAILURE;
  }

  static void print(DeploymentRecord d, PrintStream out) {
    out.println("deployment " + d.getId() + " (" + d.getKind() + " " + what(d)
        + (d.getEnvironment().isEmpty() ? "" : " in " + d.getEnvironment()) + ", selector \"" + d.getSelector() + "\", by "
        + d.getCreatedBy() + " at " + Instant.ofEpochMilli(d.getCreatedEpochMillis()) + "): " + d.getState());
    out.println(status(d));
    for (DeploymentHost h : d.getHostsList()) {
      out.println(line(h, 1));
    }
  }

  /** What it changes: "web@2", "web" (each host's previous release) or "web checkout.v2=true" (flags). */
  static String what(DeploymentRecord d) {
    return d.getApp() + (d.getFlagsCount() > 0 ? " " + FlagValues.show(d.getFlagsMap())
        : d.getVersion().isEmpty() ? "" : "@" + d.getVersion());
  }

  /**
   * One host: batch, phase and, for a failure, whose it is ([hook_failed], [unreachable], ...) and
   * why; while it downloads, how far it got in percent, rounded down to {@code percentStep}.
   */
  static String line(DeploymentHost h, int percentStep) {
    String why = h.getFailureKind().isEmpty() ? h.getFailure() : "[" + h.getFailureKind() + "] " + h.getFailure();
    if (h.getDownloadSize() > 0) {
      long percent = 100 * h.getDownloadedBytes() / h.getDownloadSize();
      why = percent / percentStep * percentStep + "% of " + Sizes.format(h.getDownloadSize());
    }
    String revert = revert(h);
    String tail = why.isEmpty() ? revert.replaceFirst("^; ", "") : why + revert;
    return String.format("  %-3s %-30s %-16s %s", h.getBatch() < 0 ? "-" : Integer.toString(h.getBatch() + 1),
        name(h), h.getPhase(), tail).stripTrailing();
  }

  /** Where the host stands in going back to its release before, after a halt: "; back on 1". */
  private static String revert(DeploymentHost h) {
    String before = h.getBeforeVersion().isEmpty() ? "its release before" : h.getBeforeVersion();
    return switch (h.getRevert()) {
      case "" -> "";
      case "PENDING" -> "; to go back to " + before + " when it reconnects";
      case "SENT" -> "; going back to " + before;
      case "REVERTED" -> "; back on " + before;
      case "FAILED" -> "; could not go back to " + before;
      default -> "; going back: " + h.getRevert().toLowerCase();
    };
  }

  private static String name(DeploymentHost h) {
    return h.getHostname().isEmpty() || h.getHostname().equals(h.getAgentId()) ? h.getAgentId()
        : h.getAgentId() + " (" + h.getHostname() + ")";
  }
}
