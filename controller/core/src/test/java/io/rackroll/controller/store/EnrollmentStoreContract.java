package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.proto.v1.Facts;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** What every backend's {@code EnrollmentStore} must do: tokens, enrollment, renewal and revocation. */
abstract class EnrollmentStoreContract extends StoreContract {
  @Test
  void anAdminIsAddedWithItsCertificateRevokedWithEveryCertificateAndMayBeAddedAgain() {
    String name = id("adm");
    Duration year = Duration.ofDays(365);
    assertThat(store().enrollment().addAdmin(name, "deployer", List.of(), "s1-" + name, T0.plus(year), "admin", T0)).isTrue();
    assertThat(store().enrollment().addAdmin(name, "owner", List.of(), "s2-" + name, T0.plus(year), "admin", T0))
        .as("an active name is not given twice, nor its certificate recorded").isFalse();
    store().enrollment().adminIssued(name, "s1-" + name, T0.plus(year), T0); // recorded once only
    assertThat(store().enrollment().admins(T0.plusSeconds(1))).filteredOn(a -> a.name().equals(name)).singleElement()
        .satisfies(a -> {
          assertThat(a.role()).isEqualTo("deployer");
          assertThat(a.active()).isTrue();
          assertThat(a.certificates()).isEqualTo(1);
        });

    assertThat(store().enrollment().revokeAdmin(name, "admin", T0.plusSeconds(10))).hasValue(List.of("s1-" + name));
    assertThat(store().enrollment().revokeAdmin(name, "admin", T0.plusSeconds(11))).isEmpty();
    assertThat(store().enrollment().certificateRevoked("s1-" + name)).isTrue();

    assertThat(store().enrollment().addAdmin(name, "viewer", List.of(), "s3-" + name, T0.plus(year), "admin", T0.plusSeconds(20)))
        .isTrue();
    assertThat(store().enrollment().admins(T0.plusSeconds(21))).filteredOn(a -> a.name().equals(name)).singleElement()
        .satisfies(a -> {
          assertThat(a.role()).isEqualTo("viewer");
          assertThat(a.active()).isTrue();
          assertThat(a.certificates()).as("the old one stays refused").isEqualTo(1);
        });
    assertThat(store().enrollment().admins(T0)).filteredOn(a -> a.name().equals("admin")).singleElement()
        .satisfies(a -> assertThat(a.role()).isEqualTo("owner"));
  }

  @Test
  void tokenIsSpentOnceAndCarriesItsLabels() {
    String t = id("t").substring(0, 8);
    store().enrollment().createToken(token(t, 1, T0.plus(Duration.ofHours(1))));
    Redemption first = store().enrollment().redeemToken(t, "hash-" + t, T0.plusSeconds(1));
    assertThat(first.outcome()).isEqualTo(Redemption.Outcome.ACCEPTED);
    assertThat(first.labels()).containsExactlyInAnyOrderEntriesOf(Map.of("rack", "r1", "role", "web"));
    assertThat(store().enrollment().redeemToken(t, "hash-" + t, T0.plusSeconds(2)).outcome()).isEqualTo(Redemption.Outcome.USED_UP);
  }

  @Test
  void tokenRefusalsAreDistinct() {
    String t = id("t").substring(0, 8);
    store().enrollment().createToken(token(t, 3, T0.plus(Duration.ofHours(1))));
    assertThat(store().enrollment().redeemToken(t, "wrong", T0).outcome()).isEqualTo(Redemption.Outcome.UNKNOWN);
    assertThat(store().enrollment().redeemToken("nosuchid", "hash-x", T0).outcome()).isEqualTo(Redemption.Outcome.UNKNOWN);
    Redemption late = store().enrollment().redeemToken(t, "hash-" + t, T0.plus(Duration.ofHours(1)));
    assertThat(late.outcome()).isEqualTo(Redemption.Outcome.EXPIRED);
    assertThat(late.expiresAt()).isEqualTo(T0.plus(Duration.ofHours(1)));
  }

  @Test
  void racingRedeemersNeverOverspendAToken() throws Exception {
    String t = id("t").substring(0, 8);
    store().enrollment().createToken(token(t, 3, T0.plus(Duration.ofHours(1))));
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<Redemption.Outcome>> racers = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        racers.add(() -> store().enrollment().redeemToken(t, "hash-" + t, T0).outcome());
      }
      long accepted = 0;
      for (Future<Redemption.Outcome> f : pool.invokeAll(racers)) {
        if (f.get() == Redemption.Outcome.ACCEPTED) {
          accepted++;
        }
      }
      assertThat(accepted).isEqualTo(3);
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void enrolledAgentStartsEnrolledWithLabelsAndCertificate() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r2"), "tok00001", "abc123", T0.plus(Duration.ofDays(90)), T0));
    StoredAgent got = store().agents().agent(a).orElseThrow();
    assertThat(got.state()).isEqualTo(ConnectionState.ENROLLED);
    assertThat(got.labels()).isEqualTo(Map.of("rack", "r2"));
    assertThat(got.certificateSerial()).isEqualTo("abc123");
    assertThat(got.certificateNotAfter()).isEqualTo(T0.plus(Duration.ofDays(90)));
    assertThat(got.firstSeen()).isEqualTo(T0);
    assertThat(got.facts()).isEqualTo(Facts.getDefaultInstance());
  }

  @Test
  void replacingAHostKeepsTheAgentsHistoryAndRefusesEveryCertificateItHadBefore() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r2", "role", "db"), "tok00001", "s1-" + a, T0.plusSeconds(100), T0));
    store().enrollment().renewed(a, "s1-" + a, "s2-" + a, T0.plusSeconds(150), "ca", "");
    store().enrollment().renewed(a, "s2-" + a, "s3-" + a, T0.plusSeconds(160), "ca", "");
    assertThat(store().enrollment().certificatesOf(a, T0)).containsExactlyInAnyOrder("s1-" + a, "s2-" + a, "s3-" + a);

    // Enrolling the id again takes a token that says so: a token holder cannot take it over.
    assertThatThrownBy(() -> store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00002", "x-" + a, T0.plusSeconds(200), T0)))
        .isInstanceOf(StoreException.class).hasMessageContaining("already exists");
    assertThat(store().enrollment().enroll(new Enrollment(a, Map.of("rack", "r3"), "tok00002", "s4-" + a, T0.plusSeconds(200),
        T0.plusSeconds(50)).replacing())).containsExactlyInAnyOrder("s1-" + a, "s2-" + a, "s3-" + a);

    StoredAgent got = store().agents().agent(a).orElseThrow();
    assertThat(got.labels()).isEqualTo(Map.of("rack", "r3"));
    assertThat(got.certificateSerial()).isEqualTo("s4-" + a);
    assertThat(got.firstSeen()).isEqualTo(T0);
    assertThat(store().enrollment().revokedSerials(T0.plusSeconds(60))).contains("s1-" + a, "s2-" + a, "s3-" + a)
        .doesNotContain("s4-" + a);
    assertThatThrownBy(() -> store().enrollment().enroll(new Enrollment(id("ag-"), Map.of(), "t", "s", T0, T0).replacing()))
        .hasMessageContaining("does not exist, so it cannot be replaced");
  }

  @Test
  void renewalFromCurrentOrPreviousCertificateOnly() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00001", "c1", T0.plusSeconds(100), T0));
    assertThat(store().enrollment().renewed(a, "c1", "c2", T0.plusSeconds(200), "ca2", "")).isTrue();
    assertThat(store().agents().agent(a).orElseThrow().certificateSerial()).isEqualTo("c2");
    // The answer was lost: the agent asks again with the certificate it still holds.
    assertThat(store().enrollment().renewed(a, "c1", "c3", T0.plusSeconds(210), "ca2", "")).isTrue();
    assertThat(store().agents().agent(a).orElseThrow().certificateSerial()).isEqualTo("c3");
    assertThat(store().enrollment().renewed(a, "c3", "c4", T0.plusSeconds(300), "ca2", "")).isTrue();
    assertThat(store().enrollment().renewed(a, "c1", "c5", T0.plusSeconds(300), "ca2", "")).as("two renewals old").isFalse();
    assertThat(store().enrollment().renewed(a, "zz", "c5", T0.plusSeconds(300), "ca2", "")).as("never issued").isFalse();
    assertThat(store().agents().agent(a).orElseThrow().certificateSerial()).isEqualTo("c4");
    assertThat(store().agents().agent(a).orElseThrow().certificateCa()).isEqualTo("ca2");
  }

  @Test
  void revocationRefusesEveryUnexpiredCertificateUntilTheAgentIsGivenToANewHost() {
    String a = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00001", "r1-" + a, T0.plusSeconds(100), T0));
    store().enrollment().renewed(a, "r1-" + a, "r2-" + a, T0.plusSeconds(200), "ca2", "");
    store().agents().connected(a, "1.0.0", Facts.getDefaultInstance(), T0.plusSeconds(1));

    assertThat(store().enrollment().revoke(a, "admin", T0.plusSeconds(50)).orElseThrow())
        .containsExactlyInAnyOrder("r2-" + a, "r1-" + a);
    assertThat(store().enrollment().revokedAgents()).contains(a);
    assertThat(store().enrollment().revokedSerials(T0.plusSeconds(60))).contains("r1-" + a, "r2-" + a);
    assertThat(store().enrollment().revokedSerials(T0.plusSeconds(150))).as("r1 expired").contains("r2-" + a)
        .doesNotContain("r1-" + a);
    store().agents().stateChanged(a, ConnectionState.DISCONNECTED, T0.plusSeconds(51));
    assertThat(store().agents().agent(a).orElseThrow().state()).as("the stream closing does not unrevoke")
        .isEqualTo(ConnectionState.REVOKED);
    assertThat(store().enrollment().renewed(a, "r2-" + a, "r3-" + a, T0.plusSeconds(52), "ca2", "")).isFalse();
    assertThat(store().enrollment().revoke("ag-nobody", "admin", T0)).isEmpty();

    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00002", "r4-" + a, T0.plusSeconds(300), T0.plusSeconds(60)).replacing());
    assertThat(store().agents().agent(a).orElseThrow().state()).isEqualTo(ConnectionState.ENROLLED);
    assertThat(store().enrollment().revokedAgents()).doesNotContain(a);
    assertThat(store().enrollment().revokedSerials(T0.plusSeconds(60))).doesNotContain("r4-" + a).contains("r2-" + a);
    assertThat(store().enrollment().renewed(a, "r4-" + a, "r5-" + a, T0.plusSeconds(400), "ca2", "")).isTrue();
  }

  @Test
  void fingerprintsOfLiveAgentCertificatesAreKeptAndLearned() {
    String a = id("ag-");
    String b = id("ag-");
    store().enrollment().enroll(new Enrollment(a, Map.of(), "tok00001", "fa1-" + a, T0.plusSeconds(100), "ca",
        "fp-a1-" + a, T0, false));
    store().enrollment().renewed(a, "fa1-" + a, "fa2-" + a, T0.plusSeconds(200), "ca", "fp-a2-" + a);
    store().enrollment().enroll(new Enrollment(b, Map.of(), "tok00001", "fb1-" + b, T0.plusSeconds(100), T0));
    assertThat(store().enrollment().issuedFingerprints(T0)).contains("fp-a1-" + a, "fp-a2-" + a)
        .noneMatch(f -> f.contains(b));
    assertThat(store().enrollment().issuedFingerprints(T0.plusSeconds(150))).as("a1 expired")
        .contains("fp-a2-" + a).doesNotContain("fp-a1-" + a);

    // One issued before fingerprints were kept: recorded once a handshake has verified it in full, and only then.
    store().enrollment().learnedFingerprint("fb1-" + b, "fp-b1-" + b);
    store().enrollment().learnedFingerprint("fb1-" + b, "fp-other-" + b);
    store().enrollment().learnedFingerprint("never-issued-" + b, "fp-never-" + b);
    store().enrollment().learnedFingerprint("fa2-" + a, "fp-replaced-" + a);
    assertThat(store().enrollment().issuedFingerprints(T0)).contains("fp-b1-" + b, "fp-a2-" + a)
        .doesNotContain("fp-other-" + b, "fp-never-" + b, "fp-replaced-" + a);

    store().enrollment().revoke(a, "admin", T0.plusSeconds(10));
    assertThat(store().enrollment().issuedFingerprints(T0.plusSeconds(20))).as("revoked")
        .doesNotContain("fp-a1-" + a, "fp-a2-" + a).contains("fp-b1-" + b);
  }
}
