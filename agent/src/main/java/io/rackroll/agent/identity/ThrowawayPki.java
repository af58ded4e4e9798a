package io.rackroll.agent.identity;

import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway CA, a server certificate for 127.0.0.1 and one agent certificate: for the warm-up
 * (the agent's warm-up) and for tests of the link. Never the host's own identity.
 */
public final class ThrowawayPki {
  public final KeyPair caKey = Keys.newKeyPair();
  public final X509Certificate ca;
  public final KeyPair serverKey = Keys.newKeyPair();
  public final X509Certificate serverCert;
  public final KeyPair agentKey = Keys.newKeyPair();
  public final X509Certificate agentCert;

  public ThrowawayPki(String agentId) throws Exception {
    this(agentId, Duration.ofDays(1));
  }

  /** With the agent's certificate valid for {@code agentLifetime} from now (negative: already expired). */
  public ThrowawayPki(String agentId, Duration agentLifetime) throws Exception {
    ca = sign(new X500Name("CN=Test CA"), new X500Name("CN=Test CA"), caKey.getPublic(), true, null, Duration.ofDays(1));
    serverCert = sign(new X500Name("CN=Test CA"), new X500Name("CN=controller,OU=controller,O=Rackroll"),
        serverKey.getPublic(), false, new GeneralNames(new GeneralName(GeneralName.iPAddress, "127.0.0.1")),
        Duration.ofDays(1));
    agentCert = sign(new X500Name("CN=Test CA"), new X500Name(PeerIdentity.agent(agentId).subject()),
        agentKey.getPublic(), false, null, agentLifetime);
  }

  private X509Certificate sign(X500Name issuer, X500Name subject, PublicKey key, boolean isCa, GeneralNames sans,
      Duration lifetime) throws Exception {
    Instant now = Instant.now();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(System.nanoTime()),
        Date.from(now.minus(Duration.ofDays(2))), Date.from(now.plus(lifetime)), subject, key)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(isCa));
    if (sans != null) {
      b.addExtension(Extension.subjectAlternativeName, false, sans);
    }
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(caKey.getPrivate())));
  }
}
