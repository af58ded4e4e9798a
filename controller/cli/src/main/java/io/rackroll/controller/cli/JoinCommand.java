package io.rackroll.controller.cli;

import io.rackroll.controller.env.SecretBox;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.proto.v1.JoinNodeRequest;
import io.rackroll.proto.v1.JoinNodeResponse;
import io.rackroll.trust.Keys;
import io.rackroll.trust.Pem;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.SecureFiles;
import io.rackroll.wire.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code rackroll controller join}: makes this machine's data directory a new node beside a
 * running controller on the same PostgreSQL database. Its server key is made here and never
 * leaves; the CA, a server certificate for its names, the secrets key and the database's
 * settings come from the running node over mTLS, for an owner's certificate.
 */
@Command(name = "join", mixinStandardHelpOptions = true,
    description = "Make a new controller node beside a running one on the same PostgreSQL database: CA, server"
        + " certificate, secrets key and database settings come from it over mTLS (an owner's certificate).")
final class JoinCommand implements Callable<Integer> {
  @Option(names = "--data", required = true, paramLabel = "DIR", description = "The new node's data directory.")
  Path data;

  @Option(names = "--controller", required = true, paramLabel = "HOST:PORT",
      description = "A running controller node to join.")
  String controller;

  @Option(names = "--credentials", required = true, paramLabel = "DIR",
      description = "An owner's ca.crt, admin.crt and admin.key (e.g. the first node's <data>/pki).")
  Path credentials;

  @Option(names = "--node", required = true, paramLabel = "NAME", description = "The new node's name, e.g. ctl-2.")
  String node;

  @Option(names = "--san", split = ",", paramLabel = "NAME",
      description = "Host names and IP addresses agents and admins reach the new node at; localhost and 127.0.0.1"
          + " are always added.")
  List<String> sans = List.of();

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Address to listen on (default: 0.0.0.0:7443).")
  String listen;

  @Option(names = "--advertise", paramLabel = "HOST:PORT",
      description = "Where agents and admins reach the new node (default: the listen address, with this machine's"
          + " host name when it listens on every address).")
  String advertise;

  @Option(names = "--config", paramLabel = "FILE",
      description = "Config file to write (default: <data>/controller.yaml; packages: /etc/rackroll/controller.yaml).")
  Path config;

  @Override
  public Integer call() throws Exception {
    ControllerConfig.NodeSettings settings = new ControllerConfig.NodeSettings(node,
        advertise == null ? null : HostPort.parse("--advertise", advertise));
    if (node.isEmpty()) {
      throw new UsageError("--node: empty (expected the new node's name, e.g. ctl-2)");
    }
    if (listen != null) {
      HostPort.parse("--listen", listen);
    }
    if (ControllerPki.exists(data)) {
      throw new IllegalStateException(ControllerPki.dir(data) + " already holds a CA; a node joins with an empty"
          + " --data directory");
    }
    Path config = this.config != null ? this.config : data.resolve(ControllerConfig.FILE);
    // As the data directory's owner, or as root, who hands every file it writes there to that owner
    // (root can read an owner's credentials in a home directory, and write /etc/rackroll).
    java.nio.file.attribute.UserPrincipal owner = Files.exists(data) && System.getProperty("user.name").equals("root")
        ? Files.getOwner(data) : null;
    if (owner == null) {
      DataOwner.require(data, "controller join");
    }
    Path configDir = config.toAbsolutePath().getParent();
    if (Files.exists(config) ? !Files.isWritable(config)
        : configDir != null && Files.isDirectory(configDir) && !Files.isWritable(configDir)) {
      throw new IllegalStateException("user " + System.getProperty("user.name") + " may not write " + config
          + "; run the join as root (it hands what it writes in " + data + " to its owner) or pass a --config it may"
          + " write");
    }
    KeyPair key = Keys.newKeyPair();
    AdminClient client = new AdminClient();
    client.controller = controller;
    client.credentials = credentials;
    JoinNodeResponse r = client.call(channel -> client.stub(channel).joinNode(JoinNodeRequest.newBuilder()
        .setNode(node).addAllSans(sans)
        .setCsrPem(Pem.encodeCsr(Keys.csr(new PeerIdentity(PeerIdentity.Role.CONTROLLER, node), key))).build()));

    SecureFiles.privateDirectory(data);
    Path pki = ControllerPki.dir(data);
    SecureFiles.privateDirectory(pki);
    handOver(owner, pki);
    // Everything else first, the CA key last: a directory is a controller's once ca.key is there.
    SecureFiles.writeString(pki.resolve("server.key"), Pem.encode(key.getPrivate()), SecureFiles.OWNER_ONLY);
    SecureFiles.writeString(pki.resolve("server.crt"), r.getServerCertificatePem(), SecureFiles.PUBLIC);
    SecureFiles.writeString(pki.resolve("ca.crt"), r.getCaCertificatePem(), SecureFiles.PUBLIC);
    handOver(owner, pki.resolve("server.key"), pki.resolve("server.crt"), pki.resolve("ca.crt"));
    if (!r.getTrustPem().isEmpty()) {
      SecureFiles.writeString(pki.resolve("trust.crt"), r.getTrustPem(), SecureFiles.PUBLIC);
      handOver(owner, pki.resolve("trust.crt"));
    }
    SecureFiles.write(data.resolve(SecretBox.KEY_FILE), r.getSecretsKey().toByteArray(), SecureFiles.OWNER_ONLY);
    handOver(owner, data.resolve(SecretBox.KEY_FILE));
    Path password = data.resolve("database.password");
    if (!r.getDatabasePassword().isEmpty()) {
      SecureFiles.writeString(password, r.getDatabasePassword() + "\n", SecureFiles.OWNER_ONLY);
      handOver(owner, password);
    }
    String text = ControllerConfig.TEMPLATE
        .replace("database: embedded", "database: " + quoted(r.getDatabase()))
        .replace("databaseUser: \"\"", "databaseUser: " + quoted(r.getDatabaseUser()))
        .replace("databasePasswordFile: \"\"", "databasePasswordFile: "
            + quoted(r.getDatabasePassword().isEmpty() ? "" : password.toAbsolutePath().toString()))
        .replace("node: \"\"", "node: " + quoted(settings.name()))
        .replace("advertise: \"\"", "advertise: " + quoted(advertise == null ? "" : advertise));
    if (listen != null) {
      text = text.replace("listen: 0.0.0.0:7443", "listen: " + listen);
    }
    SecureFiles.writeString(config, text, SecureFiles.PUBLIC);
    if (config.toAbsolutePath().startsWith(data.toAbsolutePath())) {
      handOver(owner, config);
    }
    ControllerConfig.load(config); // what was written must read back
    // Its owner's before it has its name: a crash in between leaves no CA the controller cannot read.
    Path caKey = pki.resolve("ca.key.joining");
    SecureFiles.writeString(caKey, r.getCaKeyPem(), SecureFiles.OWNER_ONLY);
    handOver(owner, caKey);
    Files.move(caKey, pki.resolve("ca.key"), java.nio.file.StandardCopyOption.ATOMIC_MOVE);

    System.out.println("Joined node " + node + " in " + data.toAbsolutePath());
    System.out.println("  CA fingerprint  " + Keys.fingerprint(Pem.certificates(r.getCaCertificatePem()).get(0)));
    System.out.println("  server names    " + String.join(", ", ControllerPki.serverNames(sans)));
    System.out.println("  database        " + r.getDatabase());
    System.out.println("  config          " + config);
    System.out.println("  nodes now       " + (r.getNodesList().isEmpty() ? controller : String.join(", ", r.getNodesList())));
    System.out.println("Next: rackroll controller run --data " + data
        + (this.config != null ? " --config " + config : "") + " (packages: systemctl enable --now rackroll-controller);"
        + " connected agents are told of it once it runs");
    return 0;
  }

  /** Gives {@code files} to {@code owner} (null: they are the caller's, who owns the data directory). */
  private static void handOver(java.nio.file.attribute.UserPrincipal owner, Path... files) throws java.io.IOException {
    if (owner != null) {
      for (Path f : files) {
        Files.setOwner(f, owner);
      }
    }
  }

  private static String quoted(String value) {
    return "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}
