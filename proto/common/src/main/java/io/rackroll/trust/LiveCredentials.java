package io.rackroll.trust;

import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client's certificate and trusted CAs that can change while its channel stays open: every
 * new TLS handshake reads the current ones. A renewed certificate or a CA bundle grown during a
 * rotation takes effect at the next connection, with no channel to rebuild and no call to drop.
 */
public final class LiveCredentials {
  private record Material(PrivateKey key, X509Certificate[] chain, List<X509Certificate> trusted,
      X509ExtendedTrustManager trust) {}

  private volatile Material current;

  public LiveCredentials(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
    current = material(key, chain, trusted);
  }

  /** Switches to a renewed certificate for the same key and to {@code trusted}; safe from any thread. */
  public synchronized void update(List<X509Certificate> chain, List<X509Certificate> trusted) {
    current = material(current.key, chain, trusted);
  }

  public X509Certificate certificate() {
    return current.chain[0];
  }

  public List<X509Certificate> trusted() {
    return current.trusted;
  }

  private static Material material(PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted) {
    if (chain.isEmpty() || trusted.isEmpty()) {
      throw new IllegalArgumentException("a certificate and at least one trusted CA are needed");
    }
    return new Material(key, chain.toArray(X509Certificate[]::new), List.copyOf(trusted), trustManager(trusted));
  }

  /** The JDK's PKIX trust manager over {@code trusted} CAs and nothing else. */
  public static X509ExtendedTrustManager trustManager(List<X509Certificate> trusted) {
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      for (int i = 0; i < trusted.size(); i++) {
        store.setCertificateEntry("ca-" + i, trusted.get(i));
      }
      TrustManagerFactory factory = TrustManagerFactory.getInstance("PKIX");
      factory.init(store);
      for (TrustManager tm : factory.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("no X.509 trust manager available");
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("cannot build a trust store: " + e.getMessage(), e);
    }
  }

  /** Presents the current certificate on every handshake. */
  public X509ExtendedKeyManager keyManager() {
    return new X509ExtendedKeyManager() {
      private static final String ALIAS = "rackroll";

      @Override public String[] getClientAliases(String keyType, Principal[] issuers) { return new String[] {ALIAS}; }
      @Override public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) { return ALIAS; }
      @Override public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) { return ALIAS; }
      @Override public String[] getServerAliases(String keyType, Principal[] issuers) { return null; }
      @Override public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) { return null; }
      @Override public X509Certificate[] getCertificateChain(String alias) { return current.chain.clone(); }
      @Override public PrivateKey getPrivateKey(String alias) { return current.key; }
    };
  }

  /** Verifies the server against the CAs trusted at the time of each handshake. */
  public X509ExtendedTrustManager trustManager() {
    return new X509ExtendedTrustManager() {
      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        current.trust.checkServerTrusted(chain, authType, engine);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
          throws CertificateException {
        current.trust.checkServerTrusted(chain, authType, socket);
      }

      @Override
      public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        current.trust.checkServerTrusted(chain, authType);
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
          throws CertificateException {
        throw new CertificateException("client side only");
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
          throws CertificateException {
        throw new CertificateException("client side only");
      }

      @Override
      public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("client side only");
      }

      @Override
      public X509Certificate[] getAcceptedIssuers() {
        return current.trusted.toArray(X509Certificate[]::new);
      }
    };
  }
}
