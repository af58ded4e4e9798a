package io.rackroll.controller.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.JdbcStore;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The revocation journal: what a store that lost a revocation in an unclean stop no longer knows. */
class RevocationsTest {
  private static final Instant T0 = Instant.parse("2026-11-23T10:00:00Z");
  @TempDir Path data;

  @Test
  void aJournaledRevocationIsRefusedAndRecordedAgainWhereTheStoreLostIt() throws Exception {
    try (JdbcStore store = JdbcStore.embedded(data)) {
      store.enroll(new Enrollment("ag-kept", Map.of(), "tok00001", "aa01", T0.plusSeconds(900), T0));
      store.enroll(new Enrollment("ag-lost", Map.of(), "tok00002", "bb02", T0.plusSeconds(900), T0));
      Revocations first = Revocations.load(store, T0, data);
      first.revoked("ag-kept", store.revoke("ag-kept", "admin", T0).orElseThrow());
      // As if the store had lost this one: journaled, never stored.
      first.revoked("ag-lost", List.of("bb02"));
      assertThat(Files.getPosixFilePermissions(data.resolve(Revocations.JOURNAL)))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));

      Revocations restarted = Revocations.load(store, T0, data);
      assertThat(restarted.refused(new BigInteger("aa01", 16))).isTrue();
      assertThat(restarted.refused(new BigInteger("bb02", 16))).as("from the journal alone").isTrue();
      assertThat(restarted.refused(new BigInteger("cc03", 16))).isFalse();
      assertThat(restarted.lostFromStore(store)).containsExactly("ag-lost");
    }
  }
}
