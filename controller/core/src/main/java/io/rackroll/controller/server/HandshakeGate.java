package io.rackroll.controller.server;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import java.util.concurrent.ThreadFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the connections that are accepted but have not finished their TLS handshake, so that
 * neither a reconnect storm nor a stranger holding sockets open can starve the fleet.
 *
 * <p>When a whole fleet reconnects at once (controller restart, network back), every host starts
 * a handshake in the same second. Past the limit, new connections are closed as soon as they
 * are accepted, before any TLS work is spent on them; the agent sees the connection drop and
 * retries with its jittered backoff. A connection stops counting when gRPC reports its
 * transport ready (handshake done) or when it closes.
 *
 * <p>Strangers get less than the whole gate. An address that has shown a certificate from our
 * CA (an admin or an enrolled agent, once) is <em>known</em>, and may use every slot. Any other
 * address may hold at most {@code perAddressLimit} handshakes at once, and all of them together
 * at most three quarters of the slots: one noisy address cannot fill the gate, and many noisy
 * ones still leave room for the admins and agents the controller has seen before. (Many
 * addresses spoofing nothing but holding sockets is a job for the network's own rate limits; the
 * handshake timeout bounds how long each can hold a slot.)
 *
 * <p>gRPC offers no public hook before the handshake, so the gate sits in the accept loop: a
 * handler first in the server channel's pipeline, which drops what it cannot admit.
 */
final class HandshakeGate {
  private static final Logger log = LoggerFactory.getLogger(HandshakeGate.class);
  /** Known addresses remembered; past it, no more are learned (those known stay known). */
  private static final int MAX_KNOWN = 1 << 17;

  private final int limit;
  private final int strangersLimit;
  private final int perAddressLimit;
  private final AtomicInteger inHandshake = new AtomicInteger();
  private final AtomicInteger strangersInHandshake = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  /** Connections still in their handshake, by remote address, and whether a stranger's. */
  private final Map<SocketAddress, Boolean> pending = new ConcurrentHashMap<>();
  /** Strangers' connections in their handshake, per address. */
  private final Map<InetAddress, AtomicInteger> perAddress = new ConcurrentHashMap<>();
  /** Addresses that completed a handshake with one of our certificates. */
  private final Set<InetAddress> known = ConcurrentHashMap.newKeySet();

  HandshakeGate(int limit, int perAddressLimit) {
    if (limit < 1) {
      throw new IllegalArgumentException("maxConcurrentHandshakes: " + limit + " (expected: >= 1)");
    }
    if (perAddressLimit < 1) {
      throw new IllegalArgumentException("maxHandshakesPerAddress: " + perAddressLimit + " (expected: >= 1)");
    }
    this.limit = limit;
    this.strangersLimit = Math.max(1, limit * 3 / 4);
    this.perAddressLimit = perAddressLimit;
  }

  /**
   * The server channels the gate sits in: Linux's native epoll transport where it loads (fewer
   * system calls and less work per message than NIO, which a fleet's heartbeats pay), else NIO.
   * Event loop groups for them come from {@link #eventLoops}.
   */
  ChannelFactory<ServerChannel> channelFactory() {
    return Epoll.isAvailable() ? () -> gated(new EpollServerSocketChannel()) : () -> gated(new NioServerSocketChannel());
  }

  /** Event loops of the transport {@link #channelFactory()} makes channels for. */
  static EventLoopGroup eventLoops(int threads, ThreadFactory names) {
    return Epoll.isAvailable() ? new EpollEventLoopGroup(threads, names) : new NioEventLoopGroup(threads, names);
  }

  private ServerChannel gated(ServerChannel channel) {
    // First in the pipeline: before the acceptor that ServerBootstrap adds when it initialises the channel.
    channel.pipeline().addLast("handshake-gate", new Gate());
    return channel;
  }

  /** Sees each transport become ready, i.e. its handshake complete; learns the addresses of our peers. */
  ServerTransportFilter readiness() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attrs) {
        SocketAddress remote = attrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        if (remote instanceof InetSocketAddress inet && presentedOurCertificate(attrs.get(Grpc.TRANSPORT_ATTR_SSL_SESSION))
            && known.size() < MAX_KNOWN) {
          known.add(inet.getAddress());
        }
        release(remote);
        return attrs;
      }
    };
  }

  /** The handshake verified a client certificate against our CA (client auth is optional only for enrollment). */
  private static boolean presentedOurCertificate(SSLSession session) {
    try {
      return session != null && session.getPeerCertificates().length > 0;
    } catch (SSLPeerUnverifiedException none) {
      return false;
    }
  }

  long refused() {
    return refused.get();
  }

  private void release(SocketAddress remote) {
    Boolean stranger = remote == null ? null : pending.remove(remote);
    if (stranger == null) {
      return;
    }
    inHandshake.decrementAndGet();
    if (stranger) {
      strangersInHandshake.decrementAndGet();
      perAddress.computeIfPresent(((InetSocketAddress) remote).getAddress(),
          (a, n) -> n.decrementAndGet() <= 0 ? null : n);
    }
  }

  /** Admits a new connection from {@code remote}, counting it; false if it must be closed now. */
  private boolean admit(SocketAddress remote) {
    InetAddress address = remote instanceof InetSocketAddress inet ? inet.getAddress() : null;
    boolean stranger = address != null && !known.contains(address);
    if (inHandshake.incrementAndGet() > limit) {
      inHandshake.decrementAndGet();
      return false;
    }
    if (stranger) {
      if (strangersInHandshake.incrementAndGet() > strangersLimit) {
        strangersInHandshake.decrementAndGet();
        inHandshake.decrementAndGet();
        return false;
      }
      if (perAddress.computeIfAbsent(address, a -> new AtomicInteger()).incrementAndGet()
          > perAddressLimit) {
        perAddress.computeIfPresent(address, (a, n) -> n.decrementAndGet() <= 0 ? null : n);
        strangersInHandshake.decrementAndGet();
        inHandshake.decrementAndGet();
        return false;
      }
    }
    pending.put(remote, stranger);
    return true;
  }

  /**
   * Sees each accepted connection before the server sets it up; closes at once what it cannot
   * admit. Runs on the boss event loop: no blocking, no logging per connection.
   */
  private final class Gate extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel child = (Channel) msg;
      SocketAddress remote = child.remoteAddress();
      if (!admit(remote)) {
        child.unsafe().closeForcibly();
        if (refused.incrementAndGet() % 1000 == 1) {
          log.warn("TLS handshakes at their limit ({} in all, {} per unknown address); refusing new connections"
              + " until some finish ({} refused so far)", limit, perAddressLimit, refused.get());
        }
        return;
      }
      child.closeFuture().addListener(f -> release(remote));
      ctx.fireChannelRead(child);
    }
  }
}
