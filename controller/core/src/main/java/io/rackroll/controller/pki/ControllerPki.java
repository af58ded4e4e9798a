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
 *
 * <p>A CA rotation adds, for its duration, {@code trust.crt} (every CA trusted, the signing one
 * first), {@code ca-next.crt}/{@code ca-next.key} (the CA to come) and then {@code ca-previous.crt}:
 * see {@link #beginRotation}, {@link #finishRotation} and {@link #dropPreviousCa}.
 */
public record ControllerPki(CertificateAuthority ca, PrivateKey serverKey, List<X509Certificate> serverChain,
    List<X509Certificate> trusted) {
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

  /** Names every server certificate carries, whatever an operator lists: the CLI on the controller's host connects through them. */
  static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1");

  /** The names a server certificate for {@code sans} carries: those, then the loopback names not among them. */
  public static List<String> serverNames(List<String> sans) {
    java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>(sans);
    names.addAll(LOOPBACK);
    return List.copyOf(names);
  }

  /** Creates the CA, the server certificate for {@code sans} (and the loopback) and the first admin certificate. */
  public static ControllerPki init(Path dataDir, List<String> sans, Clock clock) throws IOException {
    Path dir = dir(dataDir);
    if (exists(dataDir)) {
      throw new IllegalStateException(dir + " already holds a CA; refusing to overwrite it (use a new --data directory)");
    }
    SecureFiles.privateDirectory(dataDir); // the CA key, the secrets key and the database: the owner's alone
    SecureFiles.privateDirectory(dir);
    CertificateAuthority ca = CertificateAuthority.create(clock, CA_LIFETIME);
    KeyPair server = Keys.newKeyPair();
    X509Certificate serverCert = ca.issueServer(server.getPublic(), serverNames(sans), SERVER_LIFETIME);
    KeyPair admin = Keys.newKeyPair();
    X509Certificate adminCert = ca.issueClient(PeerIdentity.admin(ADMIN_NAME), admin.getPublic(), ADMIN_LIFETIME);

    // Keys first, CA key last: exists() looks for ca.key, so an interrupted init is redone, never half-used.
    SecureFiles.writeString(dir.resolve("server.key"), Pem.encode(server.getPrivate()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve("server.crt"), Pem.encode(serverCert, ca.certificate()), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("admin.key"), Pem.encode(admin.getPrivate()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve("admin.crt"), Pem.encode(adminCert), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("ca.crt"), Pem.encode(ca.certificate()), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("ca.key"), Pem.encode(ca.privateKey()), SecureFiles.OWNER_ONLY);
    return new ControllerPki(ca, server.getPrivate(), List.of(serverCert, ca.certificate()), List.of(ca.certificate()));
  }

  /** Loads what {@link #init} wrote; a missing or unreadable file fails with its path. */
  public static ControllerPki load(Path dataDir, Clock clock) {
    Path dir = dir(dataDir);
    if (!exists(dataDir)) {
      throw new IllegalStateException("no CA in " + dir + "; run 'rackroll controller init --data " + dataDir + "' first");
    }
    X509Certificate caCert = Pem.readCertificates(dir.resolve("ca.crt")).get(0);
    CertificateAuthority ca = new CertificateAuthority(caCert, Pem.readPrivateKey(dir.resolve("ca.key")), clock);
    List<X509Certificate> trusted = Files.exists(dir.resolve(TRUST)) ? Pem.readCertificates(dir.resolve(TRUST))
        : List.of(caCert);
    if (!trusted.get(0).equals(caCert)) {
      throw new IllegalStateException(dir.resolve(TRUST) + " must list the signing CA (ca.crt) first");
    }
    return new ControllerPki(ca, Pem.readPrivateKey(dir.resolve("server.key")),
        Pem.readCertificates(dir.resolve("server.crt")), trusted);
  }

  private static final String TRUST = "trust.crt";
  private static final String NEXT_CRT = "ca-next.crt";
  private static final String NEXT_KEY = "ca-next.key";
  private static final String PREVIOUS_CRT = "ca-previous.crt";

  /** Where a CA rotation stands, from the files in the pki directory. */
  public enum Rotation { NONE, BEGUN, FINISHED }

  public static Rotation rotation(Path dataDir) {
    Path dir = dir(dataDir);
    return Files.exists(dir.resolve(NEXT_KEY)) ? Rotation.BEGUN
        : Files.exists(dir.resolve(PREVIOUS_CRT)) ? Rotation.FINISHED : Rotation.NONE;
  }

  /** When the rotation began (the new CA's file time), to check the controller restarted since. */
  public static java.time.Instant rotationBegan(Path dataDir) throws IOException {
    return Files.getLastModifiedTime(dir(dataDir).resolve(NEXT_CRT)).toInstant();
  }

  /**
   * Step 1: makes the next CA and trusts it beside the current one. Nothing is signed by it yet;
   * after a restart the controller hands the two-CA bundle to every agent that connects.
   */
  public static X509Certificate beginRotation(Path dataDir, Clock clock) throws IOException {
    Path dir = dir(dataDir);
    if (rotation(dataDir) != Rotation.NONE) {
      throw new IllegalStateException("a CA rotation is already under way in " + dir + " (" + rotation(dataDir)
          .name().toLowerCase() + "); continue it with --finish or --drop-old");
    }
    ControllerPki pki = load(dataDir, clock);
    CertificateAuthority next = CertificateAuthority.create(clock, CA_LIFETIME);
    SecureFiles.writeString(dir.resolve(NEXT_KEY), Pem.encode(next.privateKey()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve(NEXT_CRT), Pem.encode(next.certificate()), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve(TRUST), Pem.encode(pki.ca().certificate(), next.certificate()), SecureFiles.PUBLIC);
    return next.certificate();
  }

  /**
   * Step 2: the next CA signs from now on. The server and admin certificates are re-issued by it
   * for the keys they have (one atomic file each), the old CA stays trusted so agents holding its
   * certificates keep connecting while they renew. Safe to run again if interrupted.
   */
  public static X509Certificate finishRotation(Path dataDir, Clock clock) throws IOException {
    Path dir = dir(dataDir);
    if (rotation(dataDir) != Rotation.BEGUN) {
      throw new IllegalStateException("no CA rotation to finish in " + dir + "; begin one with 'rackroll controller rotate-ca'");
    }
    X509Certificate nextCert = Pem.readCertificates(dir.resolve(NEXT_CRT)).get(0);
    CertificateAuthority next = new CertificateAuthority(nextCert, Pem.readPrivateKey(dir.resolve(NEXT_KEY)), clock);
    X509Certificate current = Pem.readCertificates(dir.resolve("ca.crt")).get(0);
    X509Certificate previous = current.equals(nextCert) ? Pem.readCertificates(dir.resolve(PREVIOUS_CRT)).get(0) : current;
    SecureFiles.writeString(dir.resolve(PREVIOUS_CRT), Pem.encode(previous), SecureFiles.PUBLIC);

    X509Certificate oldServer = Pem.readCertificates(dir.resolve("server.crt")).get(0);
    X509Certificate server = next.issueServer(oldServer.getPublicKey(), sans(oldServer), SERVER_LIFETIME);
    SecureFiles.writeString(dir.resolve("server.crt"), Pem.encode(server, nextCert), SecureFiles.PUBLIC);
    X509Certificate oldAdmin = Pem.readCertificates(dir.resolve("admin.crt")).get(0);
    X509Certificate admin = next.issueClient(PeerIdentity.of(oldAdmin).orElseThrow(), oldAdmin.getPublicKey(),
        ADMIN_LIFETIME);
    SecureFiles.writeString(dir.resolve("admin.crt"), Pem.encode(admin), SecureFiles.PUBLIC);
    // Trust before the switch, and the key before the certificate that load() pairs it with.
    SecureFiles.writeString(dir.resolve(TRUST), Pem.encode(nextCert, previous), SecureFiles.PUBLIC);
    SecureFiles.writeString(dir.resolve("ca.key"), Pem.encode(next.privateKey()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(dir.resolve("ca.crt"), Pem.encode(nextCert), SecureFiles.PUBLIC);
    Files.delete(dir.resolve(NEXT_KEY));
    Files.delete(dir.resolve(NEXT_CRT));
    return nextCert;
  }

  /** Step 3: only the current CA is trusted; certificates from the previous one stop working. */
  public static void dropPreviousCa(Path dataDir) throws IOException {
    Path dir = dir(dataDir);
    if (rotation(dataDir) != Rotation.FINISHED) {
      throw new IllegalStateException("no finished CA rotation in " + dir + " (run 'rackroll controller rotate-ca'"
          + " and then --finish first)");
    }
    Files.deleteIfExists(dir.resolve(TRUST));
    Files.delete(dir.resolve(PREVIOUS_CRT));
  }

  /** The names the server certificate carries, the first given at init first. */
  public List<String> serverCertificateNames() {
    return sans(serverChain.get(0));
  }

  private static List<String> sans(X509Certificate cert) {
    try {
      List<String> names = new java.util.ArrayList<>();
      if (cert.getSubjectAlternativeNames() != null) {
        for (List<?> san : cert.getSubjectAlternativeNames()) {
          names.add(san.get(1).toString());
        }
      }
      return names;
    } catch (java.security.cert.CertificateParsingException e) {
      throw new IllegalStateException("cannot read the server certificate's names: " + e.getMessage(), e);
    }
  }

  public String caFingerprint() {
    return Keys.fingerprint(ca.certificate());
  }
}
