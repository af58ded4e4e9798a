package io.rackroll.agent.link;

import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rackroll.agent.identity.ThrowawayPki;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.Welcome;
import io.rackroll.trust.MutualTls;
import java.net.InetSocketAddress;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The controller's side of the wire, reduced to recording what an agent sends and sending what a
 * test scripts. Real TLS on a loopback port. The agent's link is what the tests check; this is
 * the system edge it talks to.
 */
final class RecordingController implements AutoCloseable {
  final BlockingQueue<AgentMessage> received = new LinkedBlockingQueue<>();
  /** Time each hello arrived (System.nanoTime). */
  final BlockingQueue<Long> hellos = new LinkedBlockingQueue<>();
  private final Server server;
  private final long heartbeatMillis;
  private volatile StreamObserver<ControllerMessage> current;
  /** The controller nodes' addresses each welcome gives (several nodes on one database). */
  volatile List<String> addresses = List.of();

  RecordingController(ThrowawayPki pki, long heartbeatMillis) throws Exception {
    this.heartbeatMillis = heartbeatMillis;
    KeyPair key = pki.serverKey;
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .sslContext(MutualTls.server(key.getPrivate(), List.of(pki.serverCert, pki.ca), List.<X509Certificate>of(pki.ca)))
        .addService(new AgentLinkGrpc.AgentLinkImplBase() {
          @Override
          public StreamObserver<AgentMessage> connect(StreamObserver<ControllerMessage> out) {
            return new StreamObserver<>() {
              @Override
              public void onNext(AgentMessage m) {
                if (m.hasHello()) {
                  hellos.add(System.nanoTime());
                  current = out;
                  synchronized (out) {
                    out.onNext(ControllerMessage.newBuilder().setWelcome(Welcome.newBuilder()
                        .setHeartbeatIntervalMillis(RecordingController.this.heartbeatMillis)
                        .setControllerVersion("recording").addAllControllerAddresses(addresses)).build());
                  }
                }
                received.add(m); // last: a test that saw the hello may use the stream at once
              }

              @Override
              public void onError(Throwable t) { }

              @Override
              public void onCompleted() { }
            };
          }
        })
        .build().start();
  }

  int port() {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  void send(Command command) {
    StreamObserver<ControllerMessage> out = current;
    synchronized (out) {
      out.onNext(ControllerMessage.newBuilder().setCommand(command).build());
    }
  }

  /** Ends the current stream as the controller would when it refuses or drops an agent. */
  void end(Status status, Metadata trailers) {
    StreamObserver<ControllerMessage> out = current;
    synchronized (out) {
      out.onError(status.asRuntimeException(trailers));
    }
  }

  /** The next message of the given kind, skipping others (heartbeats arrive all the time). */
  AgentMessage next(AgentMessage.BodyCase kind) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      AgentMessage m = received.poll(100, TimeUnit.MILLISECONDS);
      if (m != null && m.getBodyCase() == kind) {
        return m;
      }
    }
    throw new AssertionError("no " + kind + " from the agent within 10 s");
  }

  @Override
  public void close() throws InterruptedException {
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
