package io.rackroll.controller.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/** The handshake's client check: certificates we issued are known by their hash, anything else is checked in full. */
class IssuedCertificatesTest {
  private final CertificateAuthority ca = CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(10));
  private final List<String> learned = new ArrayList<>();
  private final IssuedCertificates issued = new IssuedCertificates(Set.of(),
      (serial, fingerprint) -> learned.add(serial + " " + fingerprint));

  private X509Certificate agentCertificate(CertificateAuthority by, String id) {
    return by.issueClient(PeerIdentity.agent(id), Keys.newKeyPair().getPublic(), Duration.ofDays(1));
  }

  private static void check(X509ExtendedTrustManager tm, X509Certificate leaf) throws CertificateException {
    tm.checkClientTrusted(new X509Certificate[] {leaf}, "UNKNOWN");
  }

  @Test
  void anIssuedCertificateIsKnownWithoutBeingLearned() throws Exception {
    X509Certificate cert = agentCertificate(ca, "ag-one");
    issued.issued(cert);
    check(issued.trustManager(List.of(ca.certificate())), cert);
    assertThat(learned).as("known by its hash: nothing to learn").isEmpty();
  }

  @Test
  void aCertificateFromOurCaThatIsNotKnownIsCheckedInFullThenLearnedOnce() throws Exception {
    X509Certificate cert = agentCertificate(ca, "ag-old");
    X509ExtendedTrustManager tm = issued.trustManager(List.of(ca.certificate()));
    check(tm, cert);
    check(tm, cert);
    assertThat(learned).containsExactly(cert.getSerialNumber().toString(16) + " " + Keys.fingerprint(cert));
    assertThat(issued.size()).isEqualTo(1);
  }

  @Test
  void aCertificateFromAnotherCaIsRefusedAndNotLearned() {
    X509Certificate stranger = agentCertificate(CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(1)), "ag-x");
    assertThatThrownBy(() -> check(issued.trustManager(List.of(ca.certificate())), stranger))
        .isInstanceOf(CertificateException.class);
    assertThat(learned).isEmpty();
  }

  @Test
  void aKnownCertificateFromACaNoLongerTrustedIsRefused() throws Exception {
    // After a CA rotation drops the old CA, what it issued is refused even though its hash is known.
    CertificateAuthority old = CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(1));
    X509Certificate cert = agentCertificate(old, "ag-rotated");
    issued.issued(cert);
    check(() -> issued.trustManager(List.of(old.certificate(), ca.certificate())), cert);
    assertThatThrownBy(() -> check(issued.trustManager(List.of(ca.certificate())), cert))
        .isInstanceOf(CertificateException.class);
  }

  @Test
  void aKnownCertificateOutsideItsValidityIsRefused() {
    // A CA made five days ago (valid ten), and a one-day certificate it issued then.
    CertificateAuthority then = CertificateAuthority.create(
        Clock.fixed(Instant.now().minus(Duration.ofDays(5)), ZoneOffset.UTC), Duration.ofDays(10));
    X509Certificate expired = agentCertificate(then, "ag-expired");
    issued.issued(expired);
    assertThatThrownBy(() -> check(issued.trustManager(List.of(then.certificate())), expired))
        .isInstanceOf(CertificateException.class);
  }

  @Test
  void whatIsKnownIsWhatTheCaIssuedItsSignatureIsNotCheckedAgain() throws Exception {
    // The set holds only what this controller signed; a hash in it stands for a verified signature.
    // This certificate names our CA but another key signed it: the full check refuses it, and
    // had it been recorded as issued (it cannot be, by the store), the hash would be the proof.
    CertificateAuthority impostor = new CertificateAuthority(ca.certificate(),
        Keys.newKeyPair().getPrivate(), Clock.systemUTC());
    X509Certificate forged = agentCertificate(impostor, "ag-forged");
    X509ExtendedTrustManager tm = issued.trustManager(List.of(ca.certificate()));
    assertThatThrownBy(() -> check(tm, forged)).isInstanceOf(CertificateException.class);
    assertThat(learned).isEmpty();
    issued.issued(forged);
    check(tm, forged);
  }

  private static void check(java.util.function.Supplier<X509ExtendedTrustManager> tm, X509Certificate leaf)
      throws CertificateException {
    check(tm.get(), leaf);
  }
}
