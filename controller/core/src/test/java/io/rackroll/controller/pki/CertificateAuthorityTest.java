package io.rackroll.controller.pki;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.Pem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CertificateAuthorityTest {
  private final CertificateAuthority ca = CertificateAuthority.create(Clock.systemUTC(), Duration.ofDays(10));

  @Test
  void caIsSelfSignedEcP256() throws Exception {
    X509Certificate c = ca.certificate();
    c.verify(c.getPublicKey());
    assertThat(c.getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(c.getBasicConstraints()).isEqualTo(0);
  }

  @Test
  void clientCertificateCarriesIdentityAndVerifiesUnderCa() throws Exception {
    KeyPair pair = Keys.newKeyPair();
    X509Certificate c = ca.issueClient(PeerIdentity.agent("ag-one"), pair.getPublic(), Duration.ofDays(1));
    c.verify(ca.certificate().getPublicKey());
    assertThat(PeerIdentity.of(c)).contains(PeerIdentity.agent("ag-one"));
    assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2"); // clientAuth only
    assertThat(c.getBasicConstraints()).isEqualTo(-1);
  }

  @Test
  void serverCertificateHasDnsAndIpNames() throws Exception {
    X509Certificate c = ca.issueServer(Keys.newKeyPair().getPublic(), List.of("localhost", "127.0.0.1", "ctl.dc1"), Duration.ofDays(1));
    assertThat(c.getSubjectAlternativeNames()).extracting(l -> l.get(0) + ":" + l.get(1))
        .containsExactly("2:localhost", "7:127.0.0.1", "2:ctl.dc1");
    assertThat(c.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1"); // serverAuth only
  }

  @Test
  void neverIssuesBeyondItsOwnExpiry() {
    X509Certificate c = ca.issueClient(PeerIdentity.admin("a"), Keys.newKeyPair().getPublic(), Duration.ofDays(400));
    assertThat(c.getNotAfter()).isEqualTo(ca.certificate().getNotAfter());
  }

  @Test
  void verifiesRequestSignatureAndReadsTheRequestedName() throws Exception {
    KeyPair pair = Keys.newKeyPair();
    byte[] csr = csr("CN=ag-two,OU=agent,O=Rackroll", pair, pair);
    assertThat(CertificateAuthority.requestedName(csr)).isEqualTo("ag-two");
    assertThat(CertificateAuthority.verifiedRequestKey(csr)).isEqualTo(pair.getPublic());
  }

  @Test
  void refusesRequestSignedByAnotherKey() throws Exception {
    byte[] forged = csr("CN=ag-two", Keys.newKeyPair(), Keys.newKeyPair());
    assertThatThrownBy(() -> CertificateAuthority.verifiedRequestKey(forged))
        .hasMessage("certificate request signature does not verify");
  }

  @Test
  void refusesGarbage() {
    assertThatThrownBy(() -> CertificateAuthority.verifiedRequestKey(new byte[] {1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PKCS#10");
    assertThatThrownBy(() -> CertificateAuthority.requestedName(new byte[] {1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PKCS#10");
  }

  @Test
  void initWritesKeysOwnerOnlyAndRefusesToOverwrite(@TempDir Path data) throws Exception {
    ControllerPki pki = ControllerPki.init(data, List.of("localhost"), Clock.systemUTC());
    Path dir = ControllerPki.dir(data);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir))).isEqualTo("rwx------");
    for (String key : List.of("ca.key", "server.key", "admin.key")) {
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(key)))).as(key).isEqualTo("rw-------");
    }
    ControllerPki loaded = ControllerPki.load(data, Clock.systemUTC());
    assertThat(loaded.caFingerprint()).isEqualTo(pki.caFingerprint());
    assertThat(PeerIdentity.of(Pem.readCertificates(dir.resolve("admin.crt")).get(0))).contains(PeerIdentity.admin("admin"));
    assertThatThrownBy(() -> ControllerPki.init(data, List.of("localhost"), Clock.systemUTC()))
        .hasMessageContaining("already holds a CA; refusing to overwrite");
  }

  @Test
  void loadWithoutInitSaysWhatToRun(@TempDir Path data) {
    assertThatThrownBy(() -> ControllerPki.load(data, Clock.systemUTC()))
        .hasMessageContaining("run 'rackroll controller init --data");
  }

  private static byte[] csr(String subject, KeyPair subjectKey, KeyPair signer) throws Exception {
    return new JcaPKCS10CertificationRequestBuilder(new X500Name(subject), subjectKey.getPublic())
        .build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())).getEncoded();
  }
}
