package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.rackroll.controller.cluster.ClusterNode;
import io.rackroll.wire.HostPort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the operator reads when a call fails: one line, with what to do. */
class AdminClientTest {
  private static final String PIPELINE = "io exception\nChannel Pipeline: [SslHandler#0, ProtocolNegotiators$ClientTlsHandler#0]";

  @Test
  void aControllerThatIsNotThereIsOneLine() {
    String line = AdminClient.describe(Status.UNAVAILABLE.withDescription(PIPELINE).asRuntimeException());
    assertThat(line).isEqualTo("cannot reach the controller: io exception (is it running? start it with"
        + " 'rackroll controller run')");
  }

  @Test
  void aNodeThatAnswersItCannotReachTheLeaderIsQuotedAsItSaidIt() {
    String said = "the controller node that leads (at 10.0.0.1:7443) cannot be reached: io exception; if it is down,"
        + " another node takes over within 12 s: retry then";
    String line = AdminClient.describe(Status.UNAVAILABLE.withDescription(said)
        .asRuntimeException(io.rackroll.wire.Statuses.answered()));
    assertThat(line).isEqualTo(said);
  }

  @Test
  void aCertificateThatDoesNotNameTheAddressUsedSaysSo() {
    SSLHandshakeException tls = new SSLHandshakeException("General SSLEngine problem");
    tls.initCause(new CertificateException("No subject alternative names matching IP address 10.1.2.3 found"));
    String line = AdminClient.describe(Status.UNAVAILABLE.withDescription(PIPELINE).withCause(tls).asRuntimeException());
    assertThat(line).isEqualTo("the controller's certificate was refused: No subject alternative names matching IP"
        + " address 10.1.2.3 found (reach it by a name it was initialized with (--san), or pass --controller HOST:PORT)");
    assertThat(line).doesNotContain("\n");
  }

  /**
   * Where the CLI tries, in order: the address the data directory's controller recorded (a wildcard
   * as loopback), then the other nodes it last knew, each once; --controller's list replaces both.
   */
  @Test
  void theNodesOfADataDirectoryAreTriedAfterItsOwnAndAGivenListReplacesThem(@TempDir Path data) throws Exception {
    Files.writeString(data.resolve("controller.address"), "0.0.0.0:7443\n");
    AdminClient client = new AdminClient();
    client.data = data;
    assertThat(client.addresses()).containsExactly(new HostPort("127.0.0.1", 7443));

    Files.writeString(data.resolve(ClusterNode.NODES_FILE), "ctl-1:7443\n127.0.0.1:7443\nctl-2:7443\n\n");
    assertThat(client.addresses()).containsExactly(new HostPort("127.0.0.1", 7443), new HostPort("ctl-1", 7443),
        new HostPort("ctl-2", 7443));

    Files.writeString(data.resolve(ClusterNode.NODES_FILE), "not an address\n");
    assertThat(client.addresses()).as("an unreadable list only loses the fallback")
        .containsExactly(new HostPort("127.0.0.1", 7443));

    client.controller = "ctl-3:7443, ctl-4:7443,";
    assertThat(client.addresses()).containsExactly(new HostPort("ctl-3", 7443), new HostPort("ctl-4", 7443));
  }
}
