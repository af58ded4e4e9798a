package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded default, an H2 file database in a data directory: every part's contract. */
class H2StoreTest {
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

  @Nested
  class Enrollments extends EnrollmentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Agents extends AgentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Releases extends ReleaseStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Deployments extends DeploymentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Environments extends EnvironmentStoreContract {
    @Override
    Store store() {
      return store;
    }
  }

  @Nested
  class Audit extends AuditStoreContract {
    @Override
    Store store() {
      return store;
    }
  }
}
