package io.rackroll.controller.cluster;

import io.grpc.Status;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerConfig;
import io.rackroll.controller.store.ClusterStore;
import io.rackroll.controller.store.Database;
import io.rackroll.controller.env.SecretBox;
import io.rackroll.proto.v1.JoinNodeRequest;
import io.rackroll.proto.v1.JoinNodeResponse;
import io.rackroll.trust.Pem;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;

/**
 * What a new controller node is given to serve beside the others ({@code rackroll controller
 * join}): the CA, a server certificate for its names, the secrets key and the database's
 * settings. Only the new node's own server key stays with it; everything else is the nodes' in
 * common, since every node enrolls agents, reads secrets and writes the same database.
 */
public final class NodeJoin {
  private final CertificateAuthority ca;
  private final List<X509Certificate> trusted;
  private final Path dataDir;
  private final Database database;
  private final Supplier<List<String>> nodes;
  private final ClusterStore cluster;

  public NodeJoin(CertificateAuthority ca, List<X509Certificate> trusted, Path dataDir, Database database,
      Supplier<List<String>> nodes, ClusterStore cluster) {
    this.cluster = cluster;
    this.ca = ca;
    this.trusted = trusted;
    this.dataDir = dataDir;
    this.database = database;
    this.nodes = nodes;
  }

  /** Answers a join; a bad request is INVALID_ARGUMENT with what to do. */
  public JoinNodeResponse answer(JoinNodeRequest request) {
    try {
      new ControllerConfig.NodeSettings(request.getNode(), null); // the name's rules
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
    if (request.getNode().isEmpty()) {
      throw Status.INVALID_ARGUMENT.withDescription("node: empty (expected the new node's name, e.g. ctl-2)")
          .asRuntimeException();
    }
    cluster.holderOf(request.getNode()).filter(h -> h.silent().compareTo(ClusterNode.LEASE) < 0).ifPresent(h -> {
      throw Status.ALREADY_EXISTS.withDescription("controller node name " + request.getNode() + " is in use by the"
          + " node at " + h.address() + "; give the new node a name of its own with --node").asRuntimeException();
    });
    List<String> sans = ControllerPki.serverNames(request.getSansList());
    PublicKey key;
    try {
      key = CertificateAuthority.verifiedRequestKey(Pem.decodeCsr(request.getCsrPem()));
    } catch (RuntimeException e) {
      throw Status.INVALID_ARGUMENT.withDescription("the node's certificate request is not a valid PKCS#10 request ("
          + e.getMessage() + ")").asRuntimeException();
    }
    X509Certificate server;
    try {
      server = ca.issueServer(key, sans, ControllerPki.SERVER_LIFETIME);
    } catch (IllegalArgumentException e) {
      throw Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException();
    }
    try {
      byte[] secretsKey = Files.readAllBytes(dataDir.resolve(SecretBox.KEY_FILE));
      boolean rotating = trusted.size() > 1;
      return JoinNodeResponse.newBuilder()
          .setCaCertificatePem(Pem.encode(ca.certificate()))
          .setCaKeyPem(Pem.encode(ca.privateKey()))
          .setServerCertificatePem(Pem.encode(server, ca.certificate()))
          .setTrustPem(rotating ? Pem.encode(trusted.toArray(X509Certificate[]::new)) : "")
          .setSecretsKey(ByteString.copyFrom(secretsKey))
          .setDatabase(database.url())
          .setDatabaseUser(database.user())
          .setDatabasePassword(database.password())
          .addAllNodes(nodes.get())
          .build();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("cannot read what a new node needs from " + dataDir + ": " + e.getMessage())
          .asRuntimeException();
    }
  }
}
