package io.rackroll.controller.store;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;

/** The embedded default: an H2 file database in a data directory. */
class H2StoreTest extends StoreContract {
  @TempDir Path data;
  private JdbcStore store;

  @BeforeEach
  void open() {
    store = JdbcStore.embedded(data);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Override
  Store store() {
    return store;
  }

  @Test
  void survivesReopening() {
    store.enroll(new Enrollment("ag-persist", java.util.Map.of("rack", "r1"), "tok00001", "s", T0.plusSeconds(9), T0));
    store.close();
    store = JdbcStore.embedded(data);
    assertThat(store.agent("ag-persist")).isPresent();
  }

  @Test
  void aCommitSurvivesTheProcessBeingKilledRightAfterIt() throws Exception {
    store.close();
    // Another JVM commits, says so, and halts at once: no shutdown hook, no close, no background flush.
    Process p = new ProcessBuilder(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), CommitThenDie.class.getName(), data.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isEqualTo(9);
    assertThat(out).contains("committed");
    store = JdbcStore.embedded(data);
    assertThat(store.audit(10)).anyMatch(e -> e.action().equals("agent revoke") && e.target().equals("ag-killed"));
  }

  /** The other JVM of {@link #aCommitSurvivesTheProcessBeingKilledRightAfterIt}. */
  static final class CommitThenDie {
    public static void main(String[] args) {
      JdbcStore s = JdbcStore.embedded(Path.of(args[0]));
      s.audit(AuditEntry.of(T0, "admin", "agent revoke", "ag-killed", ""));
      System.out.println("committed");
      System.out.flush();
      Runtime.getRuntime().halt(9);
    }
  }
}
