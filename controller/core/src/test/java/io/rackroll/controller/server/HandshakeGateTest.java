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

  @Test
  void oneNoisyAddressOrManyCannotLockOutTheAdminWhileTheFloodGoesOn() throws Exception {
    try (TestController controller = TestController.start(data, c -> c.withMaxConcurrentHandshakes(16)
        .withHandshakesPerAddress(4), JdbcStore::embedded)) {
      int port = controller.address().port();
      // The admin has been here before: its address is known.
      controller.freshAdmin().listAgents(ListAgentsRequest.getDefaultInstance());
      List<Socket> flood = new ArrayList<>();
      try {
        // 100 idle sockets from 127.0.0.2: at most 4 are held, the rest closed on accept.
        for (int i = 0; i < 100; i++) {
          flood.add(idleFrom("127.0.0.2", port));
        }
        // (Held sockets time out after 5 s of handshake; so each count is at most, not exactly.)
        assertThat(flood.stream().filter(HandshakeGateTest::open).count()).isBetween(1L, 4L);
        // Strangers on many addresses fill what strangers may have: three quarters of the gate.
        for (int a = 3; a < 40; a++) {
          for (int i = 0; i < 4; i++) {
            flood.add(idleFrom("127.0.0." + a, port));
          }
        }
        assertThat(flood.stream().filter(HandshakeGateTest::open).count()).isLessThanOrEqualTo(12L);
        // Every admin call on a new connection (a new handshake) is still served.
        for (int i = 0; i < 5; i++) {
          assertThat(controller.freshAdmin().listAgents(ListAgentsRequest.getDefaultInstance())).isNotNull();
        }
      } finally {
        for (Socket s : flood) {
          s.close();
        }
      }
    }
  }

  /** A connection from {@code local} that never says a word, as an attacker holds them. */
  private static Socket idleFrom(String local, int port) throws Exception {
    Socket s = new Socket();
    s.bind(new java.net.InetSocketAddress(local, 0));
    s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
    s.setSoTimeout(50);
    return s;
  }

  /** Whether the controller still holds {@code s} open: a read times out instead of seeing the end. */
  private static boolean open(Socket s) {
    if (s.isClosed()) {
      return false;
    }
    try {
      if (s.getInputStream().read() == -1) {
        s.close();
        return false;
      }
      return true;
    } catch (java.net.SocketTimeoutException quiet) {
      return true;
    } catch (java.io.IOException reset) {
      try {
        s.close();
      } catch (java.io.IOException ignored) {
        // already gone
      }
      return false;
    }
  }
}
