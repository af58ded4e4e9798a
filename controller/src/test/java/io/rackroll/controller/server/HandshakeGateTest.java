package io.rackroll.controller.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.StatusRuntimeException;
import io.rackroll.controller.store.JdbcStore;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.ListAgentsRequest;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connections stuck before or in their TLS handshake cannot crowd out the controller beyond the limit. */
class HandshakeGateTest {
  @TempDir Path data;

  @Test
  void connectionsBeyondTheHandshakeLimitAreClosedOnAccept() throws Exception {
    try (TestController controller = TestController.start(data, c -> c.withMaxConcurrentHandshakes(2), JdbcStore::embedded)) {
      int port = controller.address().port();
      List<Socket> silent = new ArrayList<>();
      try {
        // Two connections that never send a ClientHello fill the gate.
        for (int i = 0; i < 2; i++) {
          silent.add(new Socket("127.0.0.1", port));
        }
        // A third is accepted by the kernel, then closed by the controller before any TLS.
        await("third connection closed by the controller").atMost(Duration.ofSeconds(10)).until(() -> {
          try (Socket third = new Socket("127.0.0.1", port)) {
            third.setSoTimeout(5_000);
            InputStream in = third.getInputStream();
            return in.read() == -1;
          } catch (SocketException reset) {
            return true;
          }
        });
      } finally {
        for (Socket s : silent) {
          s.close();
        }
      }
      // Once the silent ones go away, real clients get in again.
      await("admin served again").atMost(Duration.ofSeconds(30)).ignoreException(StatusRuntimeException.class)
          .until(() -> controller.admin().listAgents(ListAgentsRequest.getDefaultInstance()) != null);
    }
  }
}
