package io.rackroll.controller.pki;

import io.rackroll.trust.Keys;
import io.rackroll.trust.Pem;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The controller's key material on disk, under {@code <data>/pki/} (mode 0700):
 * {@code ca.crt ca.key server.crt server.key admin.crt admin.key}, keys 0600.
 *
 * <p>The admin pair is what the {@code rackroll} CLI presents; copy {@code ca.crt},
 * {@code admin.crt} and {@code admin.key} to administer from another machine.
 */
public record ControllerPki(CertificateAuthority ca, PrivateKey serverKey, List<X509Certificate> serverChain) {
  public static final Duration CA_LIFETIME = Duration.ofDays(3650);
  public static final Duration SERVER_LIFETIME = Duration.ofDays(825);
  public static final Duration ADMIN_LIFETIME = Duration.ofDays(365);
  public static final String ADMIN_NAME = "admin";

  public static Path dir(Path dataDir) {
    return dataDir.resolve("pki");
  }

  public static boolean exists(Path dataDir) {
    return Files.exists(dir(dataDir).resolve("ca.key"));
  }

  /** Creates the CA, the server certificate for {@code sans} and the first admin certificate. */
  public static ControllerPki init(Path dataDir, List<String> sans, Clock clock) throws IOException {
    Path dir = dir(dataDir);
    if (exists(dataDir)) {
      throw new IllegalStateException(dir + " already holds a CA; refusing to overwrite it (use a new --data directory)");
    }
    SecureFiles.privateDirectory(dir);
    CertificateAuthority ca = CertificateAuthority.create(clock, CA_LIFETIME);
    KeyPair server = Keys.newKeyPair();
    X509Certificate serverCert = ca.issueServer(server.getPublic(), sans, SERVER_LIFETIME);
    KeyPair admin = Keys.newKeyPair();
    X509Certificate adminCert = ca.issueClient(PeerIdentity.admin(ADMIN_NAME), admin.getPublic(), ADMIN_LIFETIME);

    // Keys first, CA key last: exists() looks for ca.key, so an interrupted init is redone, never half-used.
    SecureFiles.writeString(dir.resolve("server.key"), Pem.encode(server.getPrivate()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve("server.crt"), Pem.encode(serverCert, ca.certificate()), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("admin.key"), Pem.encode(admin.getPrivate()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve("admin.crt"), Pem.encode(adminCert), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("ca.crt"), Pem.encode(ca.certificate()), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("ca.key"), Pem.encode(ca.privateKey()), SecureFiles.OWNER_ONLY);
    return new ControllerPki(ca, server.getPrivate(), List.of(serverCert, ca.certificate()));
  }

  /** Loads what {@link #init} wrote; a missing or unreadable file fails with its path. */
  public static ControllerPki load(Path dataDir, Clock clock) {
    Path dir = dir(dataDir);
    if (!exists(dataDir)) {
      throw new IllegalStateException("no CA in " + dir + "; run 'rackroll controller init --data " + dataDir + "' first");
    }
    X509Certificate caCert = Pem.readCertificates(dir.resolve("ca.crt")).get(0);
    CertificateAuthority ca = new CertificateAuthority(caCert, Pem.readPrivateKey(dir.resolve("ca.key")), clock);
    return new ControllerPki(ca, Pem.readPrivateKey(dir.resolve("server.key")),
        Pem.readCertificates(dir.resolve("server.crt")));
  }

  public List<X509Certificate> trusted() {
    return List.of(ca.certificate());
  }

  public String caFingerprint() {
    return Keys.fingerprint(ca.certificate());
  }
}
