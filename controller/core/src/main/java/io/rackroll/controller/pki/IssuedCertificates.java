package io.rackroll.controller.pki;

import io.rackroll.trust.Keys;
import io.rackroll.trust.LiveCredentials;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.bouncycastle.asn1.x509.AuthorityKeyIdentifier;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.SubjectKeyIdentifier;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * The agent certificates this controller issued, known by the SHA-256 of their encoding, so that
 * a reconnecting agent costs the handshake a hash instead of an ECDSA verification.
 *
 * <p>Verifying a client chain in the JDK is one pure-Java ECDSA verification, about 1.3 ms of CPU;
 * when a whole fleet reconnects after a controller restart that is most of the controller's work
 * (bench/README.md, "A big fleet on one controller"). A certificate whose exact encoding we issued
 * needs no signature check: its content, the issuing CA's key identifier included, is what we
 * signed. The fast path still checks that the certificate is within its validity and that the CA
 * named by its authority key identifier is one the server trusts now (a CA dropped after a
 * rotation is refused), and the handshake still proves the peer holds the certificate's key.
 * Revocation is checked per call, as for every certificate ({@code CallerInterceptor}).
 *
 * <p>Anything else takes the JDK's full PKIX check; a certificate that passes it is remembered,
 * and one issued before fingerprints were kept has its fingerprint recorded ({@code learned}).
 */
public final class IssuedCertificates {
  /** Enough for several fleets of the largest size a controller holds, each agent with two live certificates. */
  private static final int MAX = 1 << 20;

  private final Set<String> fingerprints = ConcurrentHashMap.newKeySet();
  /** Told (serial, fingerprint) of each certificate verified in full, off the handshake's thread's critical path. */
  private final BiConsumer<String, String> learned;

  public IssuedCertificates(Collection<String> restored, BiConsumer<String, String> learned) {
    this.learned = learned;
    restored.stream().limit(MAX).forEach(fingerprints::add);
  }

  /** A certificate just issued to an agent, recorded with its fingerprint: known from its first handshake. */
  public void issued(X509Certificate certificate) {
    remember(Keys.fingerprint(certificate));
  }

  public int size() {
    return fingerprints.size();
  }

  private void remember(String fingerprint) {
    if (fingerprints.size() < MAX) {
      fingerprints.add(fingerprint);
    }
  }

  /** The server's trust manager: {@code trusted} CAs, with issued agent certificates known by their hash. */
  public X509ExtendedTrustManager trustManager(List<X509Certificate> trusted) {
    return new KnownFirst(LiveCredentials.trustManager(trusted), keyIdentifiers(trusted));
  }

  private static Set<String> keyIdentifiers(List<X509Certificate> trusted) {
    Set<String> ids = ConcurrentHashMap.newKeySet();
    for (X509Certificate ca : trusted) {
      byte[] ski = ca.getExtensionValue(Extension.subjectKeyIdentifier.getId());
      if (ski != null) {
        try {
          ids.add(Arrays.toString(SubjectKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(ski))
              .getKeyIdentifier()));
        } catch (java.io.IOException | IllegalArgumentException e) {
          // a CA without a readable key identifier is trusted through the full check only
        }
      }
    }
    return Set.copyOf(ids);
  }

  /** The trusted CA key identifier a certificate names as its issuer's, or null. */
  private static String authorityKeyIdentifier(X509Certificate certificate) {
    byte[] aki = certificate.getExtensionValue(Extension.authorityKeyIdentifier.getId());
    if (aki == null) {
      return null;
    }
    try {
      byte[] id = AuthorityKeyIdentifier.getInstance(JcaX509ExtensionUtils.parseExtensionValue(aki)).getKeyIdentifier();
      return id == null ? null : Arrays.toString(id);
    } catch (java.io.IOException | IllegalArgumentException e) {
      return null;
    }
  }

  private final class KnownFirst extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;
    private final Set<String> trustedCaKeys;

    KnownFirst(X509ExtendedTrustManager pkix, Set<String> trustedCaKeys) {
      this.pkix = pkix;
      this.trustedCaKeys = trustedCaKeys;
    }

    /** Whether {@code chain} is led by a certificate we issued, valid now, from a CA trusted now. */
    private boolean known(X509Certificate[] chain) {
      if (chain == null || chain.length == 0 || !fingerprints.contains(Keys.fingerprint(chain[0]))) {
        return false;
      }
      try {
        chain[0].checkValidity();
      } catch (java.security.cert.CertificateExpiredException | java.security.cert.CertificateNotYetValidException e) {
        return false; // the full check says why, in its own words
      }
      String issuer = authorityKeyIdentifier(chain[0]);
      return issuer != null && trustedCaKeys.contains(issuer);
    }

    private void verifiedInFull(X509Certificate[] chain) {
      String fingerprint = Keys.fingerprint(chain[0]);
      if (!fingerprints.contains(fingerprint)) {
        remember(fingerprint);
        learned.accept(chain[0].getSerialNumber().toString(16), fingerprint);
      }
    }

    /** The JDK's check of a client chain, in whichever of its three forms the TLS stack called. */
    private interface FullCheck {
      void run() throws CertificateException;
    }

    private void checkClient(X509Certificate[] chain, FullCheck full) throws CertificateException {
      if (!known(chain)) {
        full.run();
        verifiedInFull(chain);
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checkClient(chain, () -> pkix.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      checkClient(chain, () -> pkix.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      checkClient(chain, () -> pkix.checkClientTrusted(chain, authType));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return pkix.getAcceptedIssuers();
    }
  }
}
