package io.rackroll.trust;

import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509TrustManager;

/**
 * TLS 1.3 contexts for every Rackroll connection.
 *
 * <p>The server asks every client for a certificate and verifies any it gets against the Rackroll
 * CA; a certificate from another CA fails the handshake. The single method callable without a
 * certificate is enrollment (a host cannot hold one before it enrolls); the controller's call
 * interceptor refuses every other call that arrives without one.
 */
public final class MutualTls {
  public static final String PROTOCOL = "TLSv1.3";

  private MutualTls() {}

  public static SslContext server(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
    SslContextBuilder server = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new));
    return build("server", GrpcSslContexts.configure(server)
        .trustManager(trusted.toArray(X509Certificate[]::new))
        .clientAuth(ClientAuth.OPTIONAL));
  }

  /** A server whose clients' certificates {@code trust} judges (it must trust only the Rackroll CA). */
  public static SslContext server(PrivateKey key, List<X509Certificate> chain, X509TrustManager trust) {
    SslContextBuilder server = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new));
    return build("server", GrpcSslContexts.configure(server).trustManager(trust).clientAuth(ClientAuth.OPTIONAL));
  }

  /**
   * A client that presents its certificate and trusts only the Rackroll CA. The key goes to TLS as
   * it is, not through a PKCS#12 key store: storing it there and reading it back costs two key
   * derivations of 10,000 rounds, a tenth of a second of every CLI call.
   */
  public static SslContext client(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
    return client(new LiveCredentials(key, chain, trusted));
  }

  /** A client whose certificate and trusted CAs may change between connections (renewal, CA rotation). */
  public static SslContext client(LiveCredentials credentials) {
    return build("client", GrpcSslContexts.forClient()
        .keyManager(credentials.keyManager())
        .trustManager(credentials.trustManager()));
  }

  /**
   * A client without a certificate that trusts a server only if its chain contains the CA whose
   * fingerprint the enrollment token carries, and the server certificate is signed by that CA.
   */
  public static SslContext pinned(String caFingerprint) {
    return build("client", GrpcSslContexts.forClient().trustManager(new PinnedTrustManager(caFingerprint)));
  }

  /** TLS 1.3 only, for every context. */
  private static SslContext build(String side, SslContextBuilder builder) {
    try {
      return builder.protocols(PROTOCOL).build();
    } catch (SSLException e) {
      throw new IllegalStateException("cannot build " + side + " TLS context: " + e.getMessage(), e);
    }
  }

  private static final class PinnedTrustManager implements X509TrustManager {
    private final String fingerprint;

    PinnedTrustManager(String fingerprint) {
      this.fingerprint = fingerprint;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("controller sent no certificate");
      }
      for (X509Certificate candidate : chain) {
        if (Keys.fingerprint(candidate).equals(fingerprint)) {
          try {
            chain[0].checkValidity();
            chain[0].verify(candidate.getPublicKey());
            return;
          } catch (java.security.GeneralSecurityException e) {
            throw new CertificateException("controller certificate is not valid under the pinned CA", e);
          }
        }
      }
      throw new CertificateException("controller's CA does not match the token's CA fingerprint");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("client side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
