package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default, SQLite in a data directory: every part's contract, and what it keeps. */
class EmbeddedStoreTest extends StoreContracts {
  @TempDir Path data;
  private Store store;

  @BeforeEach
  void open() {
    store = JdbcStore.embedded(data);
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void survivesReopening() {
    store.enrollment().enroll(new Enrollment("ag-persist", Map.of("rack", "r1"), "tok00001", "s",
        StoreContract.T0.plusSeconds(9), StoreContract.T0));
    store.close();
    store = JdbcStore.embedded(data);
    assertThat(store.agents().agent("ag-persist")).isPresent();
  }

  @Test
  void aDataDirectoryAnEarlierVersionWroteWithH2IsImportedOnceWithEveryRow() throws Exception {
    store.close();
    Path old = Files.createDirectories(data.resolve("earlier"));
    Instant t = StoreContract.T0;
    try (HikariDataSource h2 = JdbcStore.h2(old.resolve("db"))) {
      Store earlier = JdbcStore.open(h2);
      earlier.enrollment().createToken(new NewToken("tok00009", "h", Map.of("rack", "r1"), t.plusSeconds(60), 2, t,
          "alice"));
      earlier.enrollment().enroll(new Enrollment("ag-old", Map.of("rack", "r1"), "tok00009", "ab01",
          t.plusSeconds(900), t));
      earlier.releases().addRelease(new StoredRelease("web", "1", "e".repeat(64), 10, 20, 3, "name: web", "alice", t));
      earlier.deployments().createDeployment(StoreContract.deployment("d-old", "web",
          java.util.List.of(StoreContract.host("ag-old", "r1", 0, ""))));
      earlier.deployments().hostPhase("d-old", "ag-old", HostPhase.SENT, "", "", t.plusSeconds(1));
      earlier.audit().record(AuditEntry.of(t, "alice", "deploy", "d-old", "web@2"));
      earlier.environments().applyEnvironments("environments: {}\n", "alice", t);
      earlier.environments().putSecret(new EnvironmentStore.StoredSecret("prod", "db.password", "sealed", "alice", t));
    }
    // A crash during an earlier import left a partial file: it is started over.
    Files.writeString(old.resolve("db").resolve(JdbcStore.SQLITE_FILE + ".importing"), "half");

    try (Store imported = JdbcStore.embedded(old)) {
      assertThat(imported.agents().agent("ag-old")).hasValueSatisfying(a -> {
        assertThat(a.labels()).containsEntry("rack", "r1");
        assertThat(a.certificateSerial()).isEqualTo("ab01");
      });
      assertThat(imported.enrollment().redeemToken("tok00009", "h", t).outcome()).isEqualTo(Redemption.Outcome.ACCEPTED);
      assertThat(imported.releases().release("web", "1")).isPresent();
      assertThat(imported.deployments().deployment("d-old").orElseThrow().hosts()).extracting(Deployment.Host::phase)
          .containsExactly(HostPhase.SENT);
      assertThat(imported.deployments().transitions("d-old")).hasSize(1);
      assertThat(imported.environments().secrets()).extracting(EnvironmentStore.StoredSecret::name)
          .containsExactly("db.password");
      assertThat(imported.environments().environmentFile()).isPresent();
      // Numbering goes on after the imported rows.
      long before = imported.audit().recent(10).get(0).seq();
      imported.audit().record(AuditEntry.of(t, "bob", "after", "x", ""));
      assertThat(imported.audit().recent(1).get(0).seq()).isGreaterThan(before);
    }
    Path db = old.resolve("db");
    assertThat(db.resolve(JdbcStore.H2_FILE)).doesNotExist();
    assertThat(db.resolve(JdbcStore.H2_FILE + ".imported")).exists();
    assertThat(db.resolve(JdbcStore.SQLITE_FILE + ".importing")).doesNotExist();
    // Once imported, the next start opens the new store and leaves the old file alone.
    try (Store again = JdbcStore.embedded(old)) {
      assertThat(again.agents().agent("ag-old")).isPresent();
      assertThat(again.audit().recent(10)).extracting(AuditEntry::actor).contains("alice", "bob");
    }
    store = JdbcStore.embedded(data); // for close()
  }

  @Override
  Store store() {
    return store;
  }
}
