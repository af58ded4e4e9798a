package io.rackroll.controller.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.store.Enrollment;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.store.Store;
import io.rackroll.trust.PeerIdentity;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
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
    try (Store store = JdbcStore.embedded(data)) {
      store.enrollment().enroll(new Enrollment("ag-kept", Map.of(), "tok00001", "aa01", T0.plusSeconds(900), T0));
      store.enrollment().enroll(new Enrollment("ag-lost", Map.of(), "tok00002", "bb02", T0.plusSeconds(900), T0));
      Revocations first = Revocations.load(store.enrollment(), T0, data);
      first.revoked("ag-kept", store.enrollment().revoke("ag-kept", "admin", T0).orElseThrow());
      // As if the store had lost this one: journaled, never stored.
      first.revoked("ag-lost", List.of("bb02"));
      assertThat(Files.getPosixFilePermissions(data.resolve(Revocations.JOURNAL)))
          .isEqualTo(PosixFilePermissions.fromString("rw-------"));

      Revocations restarted = Revocations.load(store.enrollment(), T0, data);
      assertThat(restarted.refused(new BigInteger("aa01", 16))).isTrue();
      assertThat(restarted.refused(new BigInteger("bb02", 16))).as("from the journal alone").isTrue();
      assertThat(restarted.refused(new BigInteger("cc03", 16))).isFalse();
      assertThat(restarted.lostFromStore(store.enrollment())).containsExactly("ag-lost");
    }
  }

  @Test
  void aRevokedAgentIsRefusedWhateverCertificateItShowsUntilItsIdIsGivenToANewHost() throws Exception {
    try (Store store = JdbcStore.embedded(data)) {
      store.enrollment().enroll(new Enrollment("ag-gone", Map.of(), "tok00001", "dd04", T0.plusSeconds(900), T0));
      Revocations first = Revocations.load(store.enrollment(), T0, data);
      // Journaled only, as if the database lost the revocation to a SIGKILL right after.
      first.revoked("ag-gone", List.of("dd04"));

      Revocations restarted = Revocations.load(store.enrollment(), T0, data);
      X509Certificate unknown = certificate("ag-gone", 0xee05);
      assertThat(restarted.refused(PeerIdentity.agent("ag-gone"), unknown)).as("a serial never recorded").isTrue();
      assertThat(restarted.refused(PeerIdentity.admin("ag-gone"), unknown)).as("an admin of that name is not the agent")
          .isFalse();
      assertThat(restarted.lostFromStore(store.enrollment())).containsExactly("ag-gone");

      // The admin gives the id to a new host: the identity works again, its old certificates do not.
      restarted.replaced("ag-gone", List.of("dd04"));
      Revocations again = Revocations.load(store.enrollment(), T0, data);
      assertThat(again.refused(PeerIdentity.agent("ag-gone"), unknown)).isFalse();
      assertThat(again.refused(PeerIdentity.agent("ag-gone"), certificate("ag-gone", 0xdd04))).isTrue();
      assertThat(again.lostFromStore(store.enrollment())).as("a replaced host's serials revoke no agent").isEmpty();
    }
  }

  /** A certificate of our shape for {@code agent}, with {@code serial}, signed by a throwaway CA. */
  private static X509Certificate certificate(String agent, long serial) throws Exception {
    java.security.KeyPair key = io.rackroll.trust.Keys.newKeyPair();
    org.bouncycastle.cert.X509v3CertificateBuilder b = new org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder(
        new org.bouncycastle.asn1.x500.X500Name("CN=test-ca"), BigInteger.valueOf(serial),
        java.util.Date.from(T0), java.util.Date.from(T0.plusSeconds(900)),
        new org.bouncycastle.asn1.x500.X500Name(PeerIdentity.agent(agent).subject()), key.getPublic());
    return new org.bouncycastle.cert.jcajce.JcaX509CertificateConverter().getCertificate(
        b.build(new org.bouncycastle.operator.jcajce.JcaContentSignerBuilder("SHA256withECDSA").build(key.getPrivate())));
  }
}
