package io.rackroll.controller.cluster;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.rackroll.controller.auth.CallerInterceptor;
import io.rackroll.controller.pki.CertificateAuthority;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.trust.Keys;
import io.rackroll.trust.LiveCredentials;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Statuses;
import java.security.KeyPair;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Admin calls made to a node that does not lead go to the node that does, unchanged: the caller
 * is checked here first (its certificate, its role), then the call is passed on over mTLS with
 * this node's own certificate ({@link PeerIdentity.Role#CONTROLLER}) and the admin's certificate
 * in a header; the leader judges it as the admin's own ({@link CallerInterceptor#FORWARDED_FOR}),
 * audits it by the admin's name, and answers through this node. Streams (a push, a watch) are
 * passed on message by message, with flow control both ways. A call already passed on once is
 * never passed on again: if leadership moved in between, the admin is told to retry.
 *
 * <p>Calls about this node itself stay here: signing in to its web console.
 */
public final class LeaderForwarding implements ServerInterceptor, AutoCloseable {
  /**
   * Calls answered by the node they were made to: signing in to its web console, and a ping, which
   * the node that holds the agent answers (see {@link #pingThroughHolder}).
   */
  private static final Set<String> LOCAL = Set.of(
      AdminGrpc.getCreateWebLoginMethod().getBareMethodName(), AdminGrpc.getEndWebSessionsMethod().getBareMethodName(),
      AdminGrpc.getPingAgentMethod().getBareMethodName());
  private static final Duration CERTIFICATE_LIFETIME = Duration.ofDays(30);

  private final BooleanSupplier leading;
  private final Supplier<Optional<String>> leader;
  private final CertificateAuthority ca;
  private final PeerIdentity self;
  private final List<X509Certificate> trusted;
  private final Clock clock;
  private final KeyPair key = Keys.newKeyPair();
  private final LiveCredentials credentials;
  /** Channels to other nodes by address, made on first use. Guarded by {@code this}. */
  private final java.util.Map<String, ManagedChannel> channels = new java.util.HashMap<>();
  private final java.util.function.Function<String, Optional<String>> holderOf;

  /**
   * @param leading whether this node leads now
   * @param leader where the node that leads is reached, when another one does
   * @param ca issues this node the certificate it passes calls on with (renewed as it ages)
   */
  public LeaderForwarding(String node, BooleanSupplier leading, Supplier<Optional<String>> leader,
      java.util.function.Function<String, Optional<String>> holderOf, CertificateAuthority ca,
      List<X509Certificate> trusted, Clock clock) {
    this.holderOf = holderOf;
    this.leading = leading;
    this.leader = leader;
    this.ca = ca;
    this.self = new PeerIdentity(PeerIdentity.Role.CONTROLLER, node);
    this.trusted = trusted;
    this.clock = clock;
    this.credentials = new LiveCredentials(key.getPrivate(), List.of(issue()), trusted);
  }

  private X509Certificate issue() {
    return ca.issueClient(self, key.getPublic(), CERTIFICATE_LIFETIME);
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers,
      ServerCallHandler<Q, A> next) {
    if (!call.getMethodDescriptor().getServiceName().equals(AdminGrpc.SERVICE_NAME)
        || LOCAL.contains(call.getMethodDescriptor().getBareMethodName()) || leading.getAsBoolean()) {
      return next.startCall(call, headers);
    }
    if (CallerInterceptor.forwardedBy().isPresent()) {
      call.close(Status.UNAVAILABLE.withDescription("the controller node that led when this call was made no longer"
          + " does; retry in a few seconds"), Statuses.answered());
      return new ServerCall.Listener<>() { };
    }
    Optional<String> to = leader.get();
    if (to.isEmpty()) {
      call.close(Status.UNAVAILABLE.withDescription("no controller node leads right now (a takeover takes up to "
          + ClusterNode.LEASE.plus(ClusterNode.BEAT).toSeconds() + " s); retry in a few seconds"), Statuses.answered());
      return new ServerCall.Listener<>() { };
    }
    Metadata out;
    try {
      out = forwardedFor();
    } catch (CertificateEncodingException e) {
      call.close(Status.INTERNAL.withDescription("cannot pass the call on: " + e.getMessage()), new Metadata());
      return new ServerCall.Listener<>() { };
    }
    CallOptions options = CallOptions.DEFAULT;
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      options = options.withDeadline(deadline);
    }
    return new Relay<>(call, channel(to.get()).newCall(call.getMethodDescriptor(), options), out, to.get()).start();
  }

  /**
   * The admin's certificate of the current call, as a node passes the call on. A web console's call
   * has none (its admin signed in with a link): the node vouches for that admin with a certificate
   * of a few minutes it issues itself, as it may, holding the CA (the leader still judges the call
   * by the admin's current role).
   */
  private Metadata forwardedFor() throws CertificateEncodingException {
    X509Certificate admin = CallerInterceptor.callerCertificateIfAny()
        .orElseGet(() -> consoleCertificate(CallerInterceptor.caller().name()));
    Metadata out = new Metadata();
    out.put(CallerInterceptor.FORWARDED_FOR, Base64.getEncoder().encodeToString(admin.getEncoded()));
    return out;
  }

  private static final Duration CONSOLE_CERTIFICATE = Duration.ofMinutes(5);
  /** By admin name; renewed once less than half their life is left. Guarded by itself. */
  private final java.util.Map<String, X509Certificate> consoleCertificates = new java.util.HashMap<>();

  private X509Certificate consoleCertificate(String admin) {
    synchronized (consoleCertificates) {
      X509Certificate c = consoleCertificates.get(admin);
      if (c == null || c.getNotAfter().toInstant().isBefore(clock.instant().plus(CONSOLE_CERTIFICATE.dividedBy(2)))) {
        c = ca.issueClient(PeerIdentity.admin(admin), key.getPublic(), CONSOLE_CERTIFICATE);
        consoleCertificates.put(admin, c);
      }
      return c;
    }
  }

  /**
   * A ping of an agent this node does not hold: asked of the node that holds it (the database
   * says which), as the admin's own call; false when no node holds it (the caller says it is not
   * connected). A ping a node passed on is never passed on again.
   */
  public boolean pingThroughHolder(io.rackroll.proto.v1.PingAgentRequest request,
      io.grpc.stub.StreamObserver<io.rackroll.proto.v1.PingAgentResponse> response, Duration timeout) {
    if (CallerInterceptor.forwardedBy().isPresent()) {
      return false;
    }
    Optional<String> holder = holderOf.apply(request.getAgentId());
    if (holder.isEmpty()) {
      return false;
    }
    Metadata out;
    try {
      out = forwardedFor();
    } catch (CertificateEncodingException e) {
      return false;
    }
    AdminGrpc.newStub(channel(holder.get()))
        .withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(out))
        .withDeadlineAfter(timeout.plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS)
        .pingAgent(request, response);
    return true;
  }

  /** The channel to the node at {@code address}, made on first use. */
  private synchronized ManagedChannel channel(String address) {
    X509Certificate mine = credentials.certificate();
    if (Duration.between(clock.instant(), mine.getNotAfter().toInstant()).compareTo(CERTIFICATE_LIFETIME.dividedBy(2)) < 0) {
      credentials.update(List.of(issue()), trusted); // the next handshake presents it
    }
    return channels.computeIfAbsent(address, a -> {
      HostPort at = HostPort.parse("controller node", a);
      return NettyChannelBuilder.forAddress(at.host(), at.port()).sslContext(MutualTls.client(credentials))
          .maxInboundMessageSize(4 * 1024 * 1024).build();
    });
  }

  /**
   * One call passed on: the admin's messages to the leader, the leader's back, each side asked
   * for its next message only when the other can take it. Both calls' methods are called under
   * this relay's lock: neither is safe from two threads at once.
   */
  private static final class Relay<Q, A> {
    private final ServerCall<Q, A> in;
    private final ClientCall<Q, A> out;
    private final Metadata headers;
    private final String leader;
    /** Guarded by {@code this}: whether the leader answered at all (sent its headers). */
    private boolean answered;
    /** Guarded by {@code this}: a message is owed to a side that was not ready when one arrived. */
    private boolean owedIn;
    private boolean owedOut;

    Relay(ServerCall<Q, A> in, ClientCall<Q, A> out, Metadata headers, String leader) {
      this.leader = leader;
      this.in = in;
      this.out = out;
      this.headers = headers;
    }

    ServerCall.Listener<Q> start() {
      synchronized (this) {
        out.start(new ClientCall.Listener<>() {
          @Override
          public void onHeaders(Metadata h) {
            synchronized (Relay.this) {
              answered = true;
              in.sendHeaders(new Metadata());
            }
          }

          @Override
          public void onMessage(A message) {
            synchronized (Relay.this) {
              in.sendMessage(message);
              if (in.isReady()) {
                out.request(1);
              } else {
                owedOut = true;
              }
            }
          }

          @Override
          public void onClose(Status status, Metadata trailers) {
            synchronized (Relay.this) {
              if (!answered && status.getCode() == Status.Code.UNAVAILABLE) {
                // Not the leader's answer: it could not be reached (it died, and its lease has not lapsed yet).
                in.close(Status.UNAVAILABLE.withDescription("the controller node that leads (at " + leader
                    + ") cannot be reached: " + status.getDescription() + "; if it is down, another node takes over"
                    + " within " + ClusterNode.LEASE.plus(ClusterNode.BEAT).toSeconds() + " s: retry then"),
                    Statuses.answered());
                return;
              }
              in.close(status, trailers);
            }
          }

          @Override
          public void onReady() {
            synchronized (Relay.this) {
              if (owedIn && out.isReady()) {
                owedIn = false;
                in.request(1);
              }
            }
          }
        }, headers);
        out.request(1);
        in.request(1);
      }
      return new ServerCall.Listener<>() {
        @Override
        public void onMessage(Q message) {
          synchronized (Relay.this) {
            out.sendMessage(message);
            if (out.isReady()) {
              in.request(1);
            } else {
              owedIn = true;
            }
          }
        }

        @Override
        public void onHalfClose() {
          synchronized (Relay.this) {
            out.halfClose();
          }
        }

        @Override
        public void onCancel() {
          synchronized (Relay.this) {
            out.cancel("the admin's call was cancelled", null);
          }
        }

        @Override
        public void onReady() {
          synchronized (Relay.this) {
            if (owedOut && in.isReady()) {
              owedOut = false;
              out.request(1);
            }
          }
        }
      };
    }
  }

  @Override
  public synchronized void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
    try {
      for (ManagedChannel c : channels.values()) {
        c.awaitTermination(2, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    channels.clear();
  }
}
