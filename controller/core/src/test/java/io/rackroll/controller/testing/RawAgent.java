package io.rackroll.controller.testing;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.rackroll.proto.v1.AgentLinkGrpc;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.CommandResult;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.proto.v1.EnrollRequest;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.Heartbeat;
import io.rackroll.proto.v1.Hello;
import io.rackroll.proto.v1.Pong;
import io.rackroll.proto.v1.SystemInfo;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.Pem;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A test driver speaking the agent side of the wire directly, so controller tests can send
 * exactly what they need, including what a real agent never would (another agent's id).
 * The controller is what these tests check; this class is only the client at the wire edge.
 */
public final class RawAgent {
  /** What the test calls this host; its CSR asks for it as CN, which the controller ignores. */
  public final String name;
  /** The agent id the controller assigned at enrollment (the name until then). */
  public String id;
  public final KeyPair key = Keys.newKeyPair();
  public X509Certificate certificate;
  public List<X509Certificate> ca;

  public RawAgent(String name) {
    this.name = name;
    this.id = name;
  }

  /** Enrolls over the pinned, certificate-less TLS channel, as a fresh host would. */
  public EnrollResponse enroll(Wire controller, String token) throws Exception {
    byte[] csr = Keys.agentCsr(name, key);
    ManagedChannel channel = controller.channel(MutualTls.pinned(BootstrapToken.parse(token).caFingerprint()));
    EnrollResponse r = EnrollmentGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
        .enroll(EnrollRequest.newBuilder().setToken(token).setCsrDer(ByteString.copyFrom(csr)).setAgentVersion("test").build());
    certificate = Pem.certificates(r.getCertificatePem()).get(0);
    ca = Pem.certificates(r.getCaPem());
    id = r.getAgentId();
    return r;
  }

  public ManagedChannel channel(Wire controller) {
    return controller.channel(MutualTls.client(key.getPrivate(), List.of(certificate), ca));
  }

  public static Facts facts(String hostname, String serial) {
    return Facts.newBuilder().setHostname(hostname).setArch("x86_64")
        .setSystem(SystemInfo.newBuilder().setSerial(serial).setVendor("Acme")).build();
  }

  /** Opens the stream and says hello as {@code claimedId}. Pings are answered like a real agent's. */
  public Stream connect(Wire controller, String claimedId, Facts facts) {
    Stream s = new Stream();
    s.requests = AgentLinkGrpc.newStub(channel(controller)).connect(s);
    s.send(AgentMessage.newBuilder().setHello(Hello.newBuilder().setAgentId(claimedId).setAgentVersion("test")
        .setFacts(facts)).build());
    return s;
  }

  public Stream connect(Wire controller) {
    return connect(controller, id, facts("host-" + id, "unknown"));
  }

  public static final class Stream implements StreamObserver<ControllerMessage> {
    private StreamObserver<AgentMessage> requests;
    public final BlockingQueue<ControllerMessage> received = new LinkedBlockingQueue<>();
    public final CompletableFuture<Status> closed = new CompletableFuture<>();
    /** Trailers of the status the stream ended with, if it ended with an error. */
    public volatile io.grpc.Metadata trailers;

    public synchronized void send(AgentMessage m) {
      requests.onNext(m);
    }

    public void heartbeat() {
      send(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSequence(1)).build());
    }

    public synchronized void hangUp() {
      requests.onCompleted();
    }

    public ControllerMessage next() throws InterruptedException {
      ControllerMessage m = received.poll(10, TimeUnit.SECONDS);
      if (m == null) {
        throw new AssertionError("no message from the controller within 10 s; stream closed: " + closed.getNow(null));
      }
      return m;
    }

    @Override
    public void onNext(ControllerMessage m) {
      if (m.hasCommand() && m.getCommand().hasPing()) {
        send(AgentMessage.newBuilder().setResult(CommandResult.newBuilder().setCommandId(m.getCommand().getId())
            .setOk(true).setPong(Pong.newBuilder().setPingSentEpochMillis(m.getCommand().getPing().getSentEpochMillis())))
            .build());
      }
      received.add(m);
    }

    @Override
    public void onError(Throwable t) {
      trailers = Status.trailersFromThrowable(t);
      closed.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      closed.complete(Status.OK);
    }
  }
}
