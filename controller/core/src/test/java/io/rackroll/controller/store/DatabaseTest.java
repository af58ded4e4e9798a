package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.controller.server.ControllerConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The controller's choice of store, as an operator writes it in controller.yaml, and its mistakes. */
class DatabaseTest {
  @TempDir Path dir;

  private ControllerConfig config(String yaml) throws Exception {
    Path file = dir.resolve("controller.yaml");
    Files.writeString(file, yaml);
    return ControllerConfig.load(file);
  }

  @Test
  void embeddedUnlessAPostgresqlUrlIsGiven() throws Exception {
    assertThat(ControllerConfig.defaults().database().embedded()).isTrue();
    assertThat(config("database: embedded\n").database()).hasToString("embedded SQLite");
    Database pg = config("database: jdbc:postgresql://db1:5432/rackroll?password=hunter2\ndatabaseUser: rackroll\n")
        .database();
    assertThat(pg.embedded()).isFalse();
    assertThat(pg).as("never the URL's parameters").hasToString("PostgreSQL at jdbc:postgresql://db1:5432/rackroll?..."
        + " as rackroll");
  }

  @Test
  void mistakesInTheConfigurationSayWhatToGive() {
    assertThatThrownBy(() -> config("database: mysql://db1/rackroll\n"))
        .hasMessageEndingWith("controller.yaml: database: mysql://db1/rackroll (expected: embedded, or a PostgreSQL URL"
            + " such as jdbc:postgresql://db1:5432/rackroll)");
    assertThatThrownBy(() -> config("databaseUser: rackroll\n"))
        .hasMessageEndingWith("controller.yaml: databaseUser and databasePasswordFile go with a PostgreSQL database;"
            + " set database to its URL, e.g. jdbc:postgresql://db1:5432/rackroll");
    assertThatThrownBy(() -> config("databse: jdbc:postgresql://db1/rackroll\n"))
        .hasMessageContaining("line 1: unknown key \"databse\"");
  }

  @Test
  void aPasswordFileOthersCanReadOrNoneAtAllIsRefused() throws Exception {
    Path password = dir.resolve("db-password");
    Files.writeString(password, "s3cret\n");
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-r--r--"));
    Database db = Database.of("jdbc:postgresql://127.0.0.1:1/rackroll", "rackroll", password.toString());
    assertThatThrownBy(() -> db.open(dir)).hasMessage("databasePasswordFile " + password + " is readable by others"
        + " (rw-r--r--); make it owner-only: chmod 600 " + password);

    Path missing = dir.resolve("nowhere");
    assertThatThrownBy(() -> Database.of("jdbc:postgresql://127.0.0.1:1/rackroll", "rackroll", missing.toString())
        .open(dir)).hasMessage("databasePasswordFile " + missing + " does not exist; write the database password on its"
        + " first line (chmod 600)");

    Path directory = Files.createDirectory(dir.resolve("a-directory"));
    Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwx------"));
    assertThatThrownBy(() -> Database.of("jdbc:postgresql://127.0.0.1:1/rackroll", "rackroll", directory.toString())
        .open(dir)).hasMessageStartingWith("databasePasswordFile " + directory + " cannot be read (")
        .hasMessageEndingWith("); it must be a file of the controller's user (the packages run it as rackroll), mode"
            + " 0600");
  }

  @Test
  void aDatabaseThatIsNotThereIsNamedWithoutItsParameters() {
    Database db = Database.of("jdbc:postgresql://127.0.0.1:1/rackroll?password=hunter2&connectTimeout=2", "", "");
    assertThatThrownBy(() -> db.open(dir))
        .hasMessageStartingWith("cannot connect to the database jdbc:postgresql://127.0.0.1:1/rackroll?...: ")
        .hasMessageEndingWith("; check database, databaseUser and databasePasswordFile in the controller's configuration")
        .message().doesNotContain("hunter2");
  }

  @Test
  void opensAndMigratesARealPostgresqlWithAPasswordFromItsFile() throws Exception {
    Path password = dir.resolve("db-password");
    Files.writeString(password, "anything\n"); // the embedded server trusts local logins; the file is still read
    Files.setPosixFilePermissions(password, PosixFilePermissions.fromString("rw-------"));
    try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
        Store store = Database.of(postgres.getJdbcUrl("postgres", "postgres"), "postgres", password.toString())
            .open(dir)) {
      store.audit().record(AuditEntry.of(java.time.Instant.EPOCH, "admin", "test", "db", "opened"));
      assertThat(store.audit().recent(10)).extracting(AuditEntry::detail).containsExactly("opened");
      assertThat(dir.resolve("db")).as("nothing embedded beside it").doesNotExist();

      // A second controller opens the same database beside the first, as another node: the lease,
      // not the opening, decides which one runs rollouts (ClusterNodesTest).
      Database same = Database.of(postgres.getJdbcUrl("postgres", "postgres"), "", "");
      try (Store second = same.open(dir.resolve("other"))) {
        assertThat(second.audit().recent(10)).extracting(AuditEntry::detail).containsExactly("opened");
        assertThat(second.lease()).isPresent();
        assertThat(second.cluster()).isPresent();
      }
    }
  }
}
