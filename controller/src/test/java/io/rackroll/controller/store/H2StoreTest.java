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
}
