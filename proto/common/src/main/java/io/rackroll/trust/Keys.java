package io.rackroll.trust;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/** Key generation and certificate fingerprints: the small bits of PKI both sides need. */
public final class Keys {
  private Keys() {}

  /** A fresh EC P-256 key pair. */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available in this JVM", e);
    }
  }

  /**
   * A PKCS#10 certificate signing request (DER) for agent {@code agentId}, signed by {@code pair}:
   * what an agent sends with its bootstrap token. The private key never leaves the caller.
   */
  public static byte[] agentCsr(String agentId, KeyPair pair) {
    return csr(PeerIdentity.agent(agentId), pair);
  }

  /** A PKCS#10 request (DER) for {@code identity}, signed by {@code pair}: an agent's, or a person's. */
  public static byte[] csr(PeerIdentity identity, KeyPair pair) {
    try {
      return new JcaPKCS10CertificationRequestBuilder(new X500Name(identity.subject()),
          pair.getPublic()).build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
    } catch (OperatorCreationException | java.io.IOException e) {
      throw new IllegalStateException("cannot sign a certificate request: " + e.getMessage(), e);
    }
  }

  /** SHA-256 of the certificate's DER encoding, base64url without padding (43 characters). */
  public static String fingerprint(X509Certificate certificate) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded());
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
      throw new IllegalStateException("cannot fingerprint certificate", e);
    }
  }
}
