package io.rackroll.agent.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.Metadata;
import io.grpc.Status;
import io.rackroll.agent.identity.AgentIdentity.Credentials;
import io.rackroll.agent.identity.ThrowawayPki;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.AgentMessage.BodyCase;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import io.rackroll.proto.v1.Ping;
import io.rackroll.trust.LiveCredentials;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.wire.ControllerChannels;
import io.rackroll.wire.HostPort;
import java.security.cert.X509Certificate;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The agent's stream to its controller, against a recording controller over real mTLS. */
class ControllerLinkTest {
  private static final Facts FACTS = Facts.newBuilder().setHostname("r1-s01")
      .addFileSystems(FileSystem.newBuilder().setMount("/").setFreeBytes(100)).build();

  private final AtomicReference<Facts> hostFacts = new AtomicReference<>(FACTS);
  private RecordingController controller;
  private ControllerLink link;
  private ControllerChannels channels;
  private ThrowawayPki pki;
  private final List<List<String>> saved = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile X509Certificate certificate;
  private final BlockingQueue<String> refusals = new LinkedBlockingQueue<>();
  private final ControllerLink.Trust trust = new ControllerLink.Trust() {
    @Override public X509Certificate certificate() { return certificate; }
    @Override public void bundle(String pem) { }
    @Override public void refused(String why) { refusals.add(why); }
  };

  @BeforeEach
  void start() throws Exception {
    pki = new ThrowawayPki("ag-test");
    controller = new RecordingController(pki, 100);
    Credentials credentials = new Credentials("ag-test", pki.agentKey.getPrivate(), List.of(pki.agentCert),
        List.of(pki.ca), Map.of("rack", "r1"));
    HostPort address = new HostPort("127.0.0.1", controller.port());
    LiveCredentials live = new LiveCredentials(credentials.key(), credentials.chain(), credentials.trusted());
    channels = new ControllerChannels(address, List.of(), "ag-test", at -> ControllerLink.channel(at, live), saved::add);
    certificate = pki.agentCert;
    link = new ControllerLink(channels, credentials, hostFacts::get, ControllerLink.PING_ONLY, trust,
        Duration.ofMillis(100), Duration.ofMillis(50), Duration.ofMillis(200), "9.9.9", Clock.systemUTC());
    link.start();
  }

  @AfterEach
  void stop() throws Exception {
    link.close();
    channels.close();
    controller.close();
  }

  @Test
  void saysHelloThenHeartbeatsAtTheIntervalTheControllerAsks() throws Exception {
    AgentMessage hello = controller.next(BodyCase.HELLO);
    assertThat(hello.getHello().getAgentId()).isEqualTo("ag-test");
    assertThat(hello.getHello().getAgentVersion()).isEqualTo("9.9.9");
    assertThat(hello.getHello().getLabelsMap()).isEqualTo(Map.of("rack", "r1"));
    assertThat(hello.getHello().getFacts()).isEqualTo(FACTS);

    long first = controller.next(BodyCase.HEARTBEAT).getHeartbeat().getSequence();
    long second = controller.next(BodyCase.HEARTBEAT).getHeartbeat().getSequence();
    assertThat(second).isEqualTo(first + 1);
  }

  @Test
  void answersPings() throws Exception {
    controller.next(BodyCase.HELLO);
    controller.send(Command.newBuilder().setId("c-1").setPing(Ping.newBuilder().setSentEpochMillis(42)).build());
    AgentMessage result = controller.next(BodyCase.RESULT);
    assertThat(result.getResult().getCommandId()).isEqualTo("c-1");
    assertThat(result.getResult().getOk()).isTrue();
    assertThat(result.getResult().getPong().getPingSentEpochMillis()).isEqualTo(42);
  }

  @Test
  void reportsFactsWhenTheyChangeButNotForFreeSpaceAlone() throws Exception {
    controller.next(BodyCase.HELLO);
    hostFacts.set(FACTS.toBuilder().setFileSystems(0, FACTS.getFileSystems(0).toBuilder().setFreeBytes(1)).build());
    // Let several fact checks pass, marked by heartbeats, with no facts message among them.
    for (int i = 0; i < 5; i++) {
      controller.next(BodyCase.HEARTBEAT);
    }
    assertThat(controller.received).noneMatch(AgentMessage::hasFacts);

    Facts upgraded = FACTS.toBuilder().setMemoryBytes(1L << 36).build();
    hostFacts.set(upgraded);
    assertThat(controller.next(BodyCase.FACTS).getFacts()).isEqualTo(upgraded);
  }

  @Test
  void keepsTheNodesAWelcomeListsAndMovesToAnotherWhenItsNodeGoesAway() throws Exception {
    controller.next(BodyCase.HELLO);
    try (RecordingController other = new RecordingController(pki, 100)) {
      String here = "127.0.0.1:" + controller.port();
      String there = "127.0.0.1:" + other.port();
      controller.addresses = List.of(here, there);
      controller.end(Status.UNAVAILABLE.withDescription("restarting"), new Metadata()); // welcomed again, with the list
      await("the list is kept").atMost(10, TimeUnit.SECONDS).until(() -> saved.contains(
          java.util.stream.Stream.of(here, there).sorted().toList()));

      controller.close(); // the node goes away for good
      AgentMessage hello = other.next(BodyCase.HELLO);
      assertThat(hello.getHello().getAgentId()).isEqualTo("ag-test");
      assertThat(channels.current().toString()).isEqualTo(there);
    }
  }

  @Test
  void reconnectsAfterTheControllerDropsTheStream() throws Exception {
    controller.next(BodyCase.HELLO);
    controller.end(Status.UNAVAILABLE.withDescription("restarting"), new Metadata());
    assertThat(controller.next(BodyCase.HELLO).getHello().getAgentId()).isEqualTo("ag-test");
    controller.next(BodyCase.HEARTBEAT);
  }

  @Test
  void waitsAtLeastAsLongAsTheControllerAsks() throws Exception {
    controller.next(BodyCase.HELLO);
    long refusedAt = System.nanoTime();
    Metadata trailers = new Metadata();
    trailers.put(Metadata.Key.of("retry-after-ms", Metadata.ASCII_STRING_MARSHALLER), "1500");
    controller.hellos.clear();
    controller.end(Status.RESOURCE_EXHAUSTED.withDescription("busy"), trailers);

    Long again = controller.hellos.poll(10, TimeUnit.SECONDS);
    assertThat(again).as("the agent came back").isNotNull();
    // A lower bound, not a speed check: the backoff alone (cap 200 ms) would have retried sooner.
    assertThat(TimeUnit.NANOSECONDS.toMillis(again - refusedAt)).isGreaterThanOrEqualTo(1500);
  }

  @Test
  void stopsForGoodWhenTheControllerSaysItsCertificateIsRevoked() throws Exception {
    controller.next(BodyCase.HELLO);
    controller.hellos.clear();
    controller.end(Status.PERMISSION_DENIED.withDescription(PeerIdentity.REVOKED + ": certificate 1f of agent ag-test"
        + " was revoked; enroll the host again with a new token"), new Metadata());

    assertThat(refusals.poll(10, TimeUnit.SECONDS)).startsWith("certificate revoked: certificate 1f");
    // Backoff is capped at 200 ms here: a link that was going to reconnect would have done so many times over.
    assertThat(controller.hellos.poll(2, TimeUnit.SECONDS)).as("no reconnect").isNull();
  }

  @Test
  void refusesToDialWithAnExpiredCertificateAndSaysWhatToDo() throws Exception {
    controller.next(BodyCase.HELLO);
    controller.hellos.clear();
    certificate = new ThrowawayPki("ag-test", Duration.ofSeconds(-60)).agentCert;
    controller.end(Status.UNAVAILABLE.withDescription("restarting"), new Metadata());

    assertThat(refusals.poll(10, TimeUnit.SECONDS))
        .contains("certificate expired at").contains("rackroll-agent enroll --controller 127.0.0.1:");
    assertThat(controller.hellos.poll(1, TimeUnit.SECONDS)).as("no reconnect").isNull();
  }

  @Test
  void otherRefusalsAreRetried() throws Exception {
    controller.next(BodyCase.HELLO);
    controller.end(Status.PERMISSION_DENIED.withDescription("agent ag-test is not enrolled with this controller"),
        new Metadata());
    assertThat(controller.next(BodyCase.HELLO).getHello().getAgentId()).isEqualTo("ag-test");
    assertThat(refusals).isEmpty();
  }
}
