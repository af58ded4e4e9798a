package io.rackroll.controller.store;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * A process that writes to the embedded store as fast as it can and says "ack KIND ID" on its
 * standard output after each commit returned: what {@link StoreKillSweepTest} kills at random
 * moments. Every kind of record the controller acknowledges to someone: tokens and enrollments,
 * releases, deployments with their hosts and transitions, audit lines.
 *
 * <p>Arguments: the data directory, and a prefix that makes this run's ids its own.
 */
public final class StoreWriter {
  private StoreWriter() {}

  public static void main(String[] args) {
    Path data = Path.of(args[0]);
    String run = args[1];
    PrintStream out = System.out;
    Instant t = Instant.parse("2026-06-01T00:00:00Z");
    try (Store store = JdbcStore.embedded(data)) {
      for (int i = 0; ; i++) {
        String id = run + "-" + i;
        switch (i % 4) {
          case 0 -> {
            store.enrollment().createToken(new NewToken("t" + id, "h", Map.of("rack", "r1"), t.plusSeconds(3600), 1, t,
                "sweep"));
            out.println("ack token t" + id);
            store.enrollment().enroll(new Enrollment("ag-" + id, Map.of("rack", "r1"), "t" + id, "s" + id,
                t.plusSeconds(3600), t));
            out.println("ack agent ag-" + id);
          }
          case 1 -> {
            store.releases().addRelease(new StoredRelease("app" + id, "1", "d".repeat(64), 1, 1, 1, "name: app", "sweep",
                t));
            out.println("ack release app" + id);
          }
          case 2 -> {
            Deployment.Host host = new Deployment.Host("ag-" + id, "h", "r1", 0, HostPhase.PENDING, "", "", "1", "", "",
                "", t);
            store.deployments().createDeployment(new Deployment("d-" + id, "deploy", "app", "1", "rack=r1", "sweep", t,
                Map.of("batch", "1"), "running", 0, 1, 0, "", t, "", "", Map.of(), List.of(host)));
            out.println("ack deployment d-" + id);
            store.deployments().hostPhase("d-" + id, "ag-" + id, HostPhase.SENT, "", "", t);
            out.println("ack transition d-" + id);
          }
          default -> {
            store.audit().record(AuditEntry.of(t, "sweep", "write", id, "line " + i));
            out.println("ack audit " + id);
          }
        }
        out.flush();
      }
    }
  }
}
