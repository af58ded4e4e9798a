package io.rackroll.agent.identity;

import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.Pem;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Who this agent is, on disk.
 *
 * <p>The id is the one the controller assigned at enrollment, kept in {@code
 * <state>/identity.properties}; it is never derived from hardware serials, which read as
 * "unknown" in VMs and repeat on cloned images, nor chosen by the host, so that no token holder
 * can claim an existing agent's id.
 * Key material lives in the pki directory (0700): {@code agent.key} (0600, never leaves the
 * host), {@code agent.crt} and {@code ca.crt}.
 */
public final class AgentIdentity {
  private static final String FILE = "identity.properties";

  private final Path stateDir;
  private final Path pkiDir;

  public AgentIdentity(Path stateDir, Path pkiDir) {
    this.stateDir = stateDir;
    this.pkiDir = pkiDir;
  }

  /** The certificate and key this agent presents, once enrolled. */
  public record Credentials(String agentId, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> trusted,
      Map<String, String> labels) {
    public Instant notAfter() {
      return chain.get(0).getNotAfter().toInstant();
    }
  }

  /** The agent id the controller assigned at enrollment; empty before the first enrollment. */
  public Optional<String> id() throws IOException {
    return Optional.ofNullable(read().getProperty("id"));
  }

  /**
   * The controller this agent enrolled with ({@code HOST:PORT}), kept beside its id: enrollment
   * never edits the packaged config file, so that package upgrades never ask about it. Empty
   * before the first enrollment, or for an agent enrolled by a version that wrote the address
   * into the config file instead.
   */
  public Optional<String> controller() throws IOException {
    return Optional.ofNullable(read().getProperty("controller"));
  }

  /** Records the controller this agent enrolled with; see {@link #controller()}. */
  public void saveController(String hostPort) throws IOException {
    Properties p = read();
    p.setProperty("controller", hostPort);
    write(p);
  }

  /**
   * Every controller node this agent may connect to, as the controllers last told it (at enrollment
   * and in each welcome); empty before any told it, when only {@link #controller()} is known.
   */
  public List<String> controllers() throws IOException {
    String list = read().getProperty("controllers", "");
    return list.isBlank() ? List.of() : List.of(list.split(","));
  }

  /** Records the controller nodes' addresses; see {@link #controllers()}. */
  public void saveControllers(List<String> hostPorts) throws IOException {
    Properties p = read();
    p.setProperty("controllers", String.join(",", hostPorts));
    write(p);
  }

  public boolean enrolled() {
    return Files.exists(pkiDir.resolve("agent.crt")) && Files.exists(pkiDir.resolve("agent.key"))
        && Files.exists(pkiDir.resolve("ca.crt"));
  }

  /** Saves the key before the enrollment call, so the certificate that comes back always has its key on disk. */
  void saveKey(PrivateKey key) throws IOException {
    SecureFiles.privateDirectory(pkiDir);
    SecureFiles.writeString(pkiDir.resolve("agent.key"), Pem.encode(key), SecureFiles.OWNER_ONLY);
  }

  /** Saves what enrollment returned. The certificate is written last: {@link #enrolled} looks for it. */
  void saveEnrollment(String agentId, String certificatePem, String caPem, Map<String, String> labels)
      throws IOException {
    PeerIdentity.checkName(agentId);
    Properties p = read();
    p.setProperty("id", agentId);
    p.keySet().removeIf(k -> k.toString().startsWith("label."));
    new TreeMap<>(labels).forEach((k, v) -> p.setProperty("label." + k, v));
    write(p);
    SecureFiles.writeString(pkiDir.resolve("ca.crt"), caPem, SecureFiles.PUBLIC);
    SecureFiles.writeString(pkiDir.resolve("agent.crt"), certificatePem, SecureFiles.PUBLIC);
  }

  /** Replaces the certificate with a renewed one for the same key: one atomic rename, so never torn. */
  public void saveCertificate(String certificatePem) throws IOException {
    SecureFiles.writeString(pkiDir.resolve("agent.crt"), certificatePem, SecureFiles.PUBLIC);
  }

  /** Replaces the trusted CAs (one, or two during a CA rotation). */
  public void saveTrust(String bundlePem) throws IOException {
    SecureFiles.writeString(pkiDir.resolve("ca.crt"), bundlePem, SecureFiles.PUBLIC);
  }

  public Optional<Credentials> credentials() throws IOException {
    if (!enrolled()) {
      return Optional.empty();
    }
    Map<String, String> labels = new LinkedHashMap<>();
    Properties p = read();
    p.stringPropertyNames().stream().filter(k -> k.startsWith("label.")).sorted()
        .forEach(k -> labels.put(k.substring("label.".length()), p.getProperty(k)));
    String id = id().orElseThrow(() -> new IOException(stateDir.resolve(FILE) + ": no agent id; enroll the host again"));
    return Optional.of(new Credentials(id, Pem.readPrivateKey(pkiDir.resolve("agent.key")),
        Pem.readCertificates(pkiDir.resolve("agent.crt")), Pem.readCertificates(pkiDir.resolve("ca.crt")), labels));
  }

  public Path pkiDir() {
    return pkiDir;
  }

  private Properties read() throws IOException {
    Properties p = new Properties();
    Path file = stateDir.resolve(FILE);
    if (Files.exists(file)) {
      p.load(new StringReader(Files.readString(file)));
    }
    return p;
  }

  private void write(Properties p) throws IOException {
    StringWriter text = new StringWriter();
    p.store(text, "Rackroll agent identity: do not edit; the id is bound into this agent's certificate");
    SecureFiles.writeString(stateDir.resolve(FILE), text.toString(), SecureFiles.PUBLIC);
  }
}
