package io.rackroll.controller.pki;

import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentVerifierProvider;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.PKCSException;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * The Rackroll certificate authority: an EC P-256 key that signs the controller's server
 * certificate, admin certificates for the CLI and every agent's client certificate.
 *
 * <p>It exists so that identity is decided in exactly one place: whatever name and role
 * this class writes into a certificate is what the controller later trusts on every call.
 */
public final class CertificateAuthority {
  private static final String SIGNATURE = "SHA256withECDSA";
  /**
   * Certificates start a little in the past so a host whose clock lags slightly accepts them:
   * five minutes, or a tenth of a short lifetime (so that two thirds of the validity, when agents
   * renew, still lies in the future).
   */
  private static final Duration BACKDATE = Duration.ofMinutes(5);

  /** Used directly, never registered globally: JDK providers stay the default for TLS. */
  private static final java.security.Provider BC = new org.bouncycastle.jce.provider.BouncyCastleProvider();

  private final X509Certificate certificate;
  private final PrivateKey key;
  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public CertificateAuthority(X509Certificate certificate, PrivateKey key, Clock clock) {
    this.certificate = certificate;
    this.key = key;
    this.clock = clock;
  }

  /** Creates a new self-signed CA valid for {@code lifetime}. */
  public static CertificateAuthority create(Clock clock, Duration lifetime) {
    KeyPair pair = Keys.newKeyPair();
    Instant now = clock.instant();
    X500Name name = new X500Name("CN=Rackroll CA,O=" + PeerIdentity.ORGANIZATION);
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          name, newSerial(new SecureRandom()), Date.from(now.minus(BACKDATE)), Date.from(now.plus(lifetime)),
          name, pair.getPublic())
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(pair.getPublic()));
      X509Certificate cert = sign(builder, pair.getPrivate());
      return new CertificateAuthority(cert, pair.getPrivate(), clock);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot create CA: " + e.getMessage(), e);
    }
  }

  public X509Certificate certificate() {
    return certificate;
  }

  public PrivateKey privateKey() {
    return key;
  }

  /** The controller's TLS server certificate, valid for each DNS name or IP address in {@code sans}. */
  public X509Certificate issueServer(PublicKey subjectKey, List<String> sans, Duration lifetime) {
    if (sans.isEmpty()) {
      throw new IllegalArgumentException("san: empty (expected: at least one host name or IP address)");
    }
    List<GeneralName> names = new ArrayList<>();
    for (String san : sans) {
      names.add(isIpAddress(san) ? new GeneralName(GeneralName.iPAddress, san) : new GeneralName(GeneralName.dNSName, san));
    }
    return issue(new PeerIdentity(PeerIdentity.Role.CONTROLLER, "controller"), subjectKey, lifetime,
        KeyPurposeId.id_kp_serverAuth, new GeneralNames(names.toArray(GeneralName[]::new)));
  }

  /** A client certificate naming {@code identity}, for an agent or an admin. */
  public X509Certificate issueClient(PeerIdentity identity, PublicKey subjectKey, Duration lifetime) {
    return issue(identity, subjectKey, lifetime, KeyPurposeId.id_kp_clientAuth, null);
  }

  /**
   * Verifies a PKCS#10 request's signature (proof that the requester holds the private key) and
   * returns the public key it carries. The subject it asks for is ignored: the caller decides it.
   */
  public static PublicKey verifiedRequestKey(byte[] csrDer) {
    try {
      JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csrDer))
          .setProvider(BC);
      ContentVerifierProvider verifier = new JcaContentVerifierProviderBuilder().setProvider(BC)
          .build(csr.getSubjectPublicKeyInfo());
      if (!csr.isSignatureValid(verifier)) {
        throw new IllegalArgumentException("certificate request signature does not verify");
      }
      return csr.getPublicKey();
    } catch (java.io.IOException | IllegalStateException | ClassCastException e) {
      throw new IllegalArgumentException("certificate request is not valid DER PKCS#10", e);
    } catch (OperatorCreationException | PKCSException | GeneralSecurityException e) {
      throw new IllegalArgumentException("certificate request cannot be verified: " + e.getMessage(), e);
    }
  }

  /** The common name a PKCS#10 request asks for (the agent id an agent generated). */
  public static String requestedName(byte[] csrDer) {
    try {
      PKCS10CertificationRequest csr = new PKCS10CertificationRequest(csrDer);
      var rdns = csr.getSubject().getRDNs(org.bouncycastle.asn1.x500.style.BCStyle.CN);
      if (rdns.length != 1) {
        throw new IllegalArgumentException("certificate request must carry exactly one CN (the agent id)");
      }
      return rdns[0].getFirst().getValue().toString();
    } catch (java.io.IOException | IllegalStateException | ClassCastException e) {
      throw new IllegalArgumentException("certificate request is not valid DER PKCS#10", e);
    }
  }

  private X509Certificate issue(PeerIdentity identity, PublicKey subjectKey, Duration lifetime,
      KeyPurposeId purpose, GeneralNames sans) {
    Instant now = clock.instant();
    Instant notAfter = now.plus(lifetime);
    if (notAfter.isAfter(certificate.getNotAfter().toInstant())) {
      notAfter = certificate.getNotAfter().toInstant(); // never outlive the issuer
    }
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
          certificate, newSerial(random), Date.from(now.minus(min(BACKDATE, lifetime.dividedBy(10)))), Date.from(notAfter),
          new X500Name(identity.subject()), subjectKey)
          .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
          .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
          .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
          .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(certificate))
          .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
      if (sans != null) {
        builder.addExtension(Extension.subjectAlternativeName, false, sans);
      }
      return sign(builder, key);
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot issue certificate for " + identity + ": " + e.getMessage(), e);
    }
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, PrivateKey signer)
      throws GeneralSecurityException {
    try {
      return new JcaX509CertificateConverter().getCertificate(
          builder.build(new JcaContentSignerBuilder(SIGNATURE).setProvider(BC).build(signer)));
    } catch (OperatorCreationException e) {
      throw new GeneralSecurityException(e);
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static BigInteger newSerial(SecureRandom random) {
    return new BigInteger(127, random).add(BigInteger.ONE); // positive, unpredictable, < 20 octets
  }

  private static boolean isIpAddress(String s) {
    if (!s.matches("[0-9.]+") && !s.contains(":")) {
      return false;
    }
    try {
      InetAddress.getByName(s); // a literal never touches DNS
      return true;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("san: " + s + " (expected: a host name or an IP address)", e);
    }
  }
}
