package io.rackroll.controller.env;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.NewToken;
import io.rackroll.controller.store.Store;
import io.rackroll.controller.store.StoredAgent;
import io.rackroll.controller.env.EnvironmentService.Configuration;
import io.rackroll.controller.testing.MutableClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A host's configuration: its environment's variables with the secrets opened, made once per
 * environment and made again after every change to the file or the secrets, and the same after a
 * restart (loaded from the store).
 */
class EnvironmentServiceTest {
  private static final Instant T0 = Instant.parse("2026-06-01T08:00:00Z");
  @TempDir Path dir;
  private final MutableClock clock = new MutableClock(T0);
  private Store store;
  private EnvironmentService service;

  @BeforeEach
  void open() throws Exception {
    store = JdbcStore.embedded(dir);
    store.enrollment().createToken(new NewToken("tok1", "h", Map.of("env", "prod"), T0.plus(Duration.ofDays(1)), 1,
        T0, "alice"));
    store.enrollment().enroll(new Enrollment("ag-1", Map.of("env", "prod"), "tok1", "s1", T0.plusSeconds(900), T0));
    service = load();
    service.apply(file("info"), "envs.yaml", false, "alice");
  }

  @AfterEach
  void close() {
    store.close();
  }

  @Test
  void aConfigurationIsOpenedOncePerEnvironmentAndAgainAfterEveryChange() throws Exception {
    Configuration first = service.configurationOf(agent());
    assertThat(first.environment()).isEqualTo("production");
    assertThat(first.variables()).isEqualTo(Map.of("log.level", "info"));
    assertThat(service.configurationOf(agent())).as("opened once, then reused").isSameAs(first);

    service.setSecret("production", "db.password", "s3cret", "alice");
    Configuration withSecret = service.configurationOf(agent());
    assertThat(withSecret.variables()).isEqualTo(Map.of("log.level", "info", "db.password", "s3cret"));
    assertThat(withSecret.digest()).isNotEqualTo(first.digest());

    service.setSecret("production", "db.password", "rotated", "alice");
    assertThat(service.configurationOf(agent()).variables()).containsEntry("db.password", "rotated");

    service.apply(file("debug"), "envs.yaml", false, "alice");
    assertThat(service.configurationOf(agent()).variables()).containsEntry("log.level", "debug")
        .containsEntry("db.password", "rotated");

    service.unsetSecret("production", "db.password", "alice");
    Configuration without = service.configurationOf(agent());
    assertThat(without.variables()).isEqualTo(Map.of("log.level", "debug"));

    // A restarted controller opens the same configuration from what the store holds.
    assertThat(load().configurationOf(agent())).isEqualTo(without);
    assertThat(without.toString()).as("values never in a log line").doesNotContain("debug");
  }

  private EnvironmentService load() throws Exception {
    return EnvironmentService.load(store.environments(), store.agents(), store.audit(), clock, SecretBox.open(dir));
  }

  private StoredAgent agent() {
    return store.agents().agent("ag-1").orElseThrow();
  }

  private static String file(String level) {
    return "environments:\n  production:\n    selector: env=prod\n    variables: {log.level: " + level + "}\n";
  }
}
