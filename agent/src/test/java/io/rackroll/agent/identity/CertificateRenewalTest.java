package io.rackroll.agent.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rackroll.trust.LiveCredentials;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** A controller away while the certificate is due: retried, and said once, in one line. */
class CertificateRenewalTest {
  @TempDir Path dir;

  @Test
  void aControllerAwayAtRenewalIsLoggedOnceInOneLine() throws Exception {
    ThrowawayPki pki = new ThrowawayPki("ag-renewing", Duration.ofSeconds(5)); // due now; retried every second
    int closed;
    try (ServerSocket probe = new ServerSocket(0)) {
      closed = probe.getLocalPort(); // nobody listens there once the probe is closed
    }
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", closed).usePlaintext().build();
    Logger logger = (Logger) LoggerFactory.getLogger(CertificateRenewal.class);
    ListAppender<ILoggingEvent> events = new ListAppender<>();
    events.start();
    logger.addAppender(events);
    Level level = logger.getLevel();
    logger.setLevel(Level.DEBUG);
    try (CertificateRenewal renewal = new CertificateRenewal(new AgentIdentity(dir.resolve("state"), dir.resolve("pki")),
        new LiveCredentials(pki.agentKey.getPrivate(), List.of(pki.agentCert), List.of(pki.ca)), channel,
        Clock.systemUTC(), why -> { })) {
      renewal.start();
      await("three attempts").atMost(Duration.ofSeconds(60)).until(() -> events.list.size() >= 3);
    } finally {
      logger.detachAppender(events);
      logger.setLevel(level);
      channel.shutdownNow();
    }
    List<ILoggingEvent> seen = List.copyOf(events.list);
    assertThat(seen).filteredOn(e -> e.getLevel() == Level.WARN).hasSize(1);
    assertThat(seen).allSatisfy(e -> {
      assertThat(e.getThrowableProxy()).isNull();
      assertThat(e.getFormattedMessage()).startsWith("cannot renew this agent's certificate").doesNotContain("\n");
    });
    assertThat(seen.get(0).getFormattedMessage()).contains(": UNAVAILABLE (", "further attempts are logged at debug");
  }
}
