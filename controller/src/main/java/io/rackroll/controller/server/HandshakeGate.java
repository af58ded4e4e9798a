package io.rackroll.controller.server;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.ServerTransportFilter;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFactory;
import io.grpc.netty.shaded.io.netty.channel.ServerChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import java.net.SocketAddress;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds the connections that are accepted but have not finished their TLS handshake.
 *
 * <p>When a whole fleet reconnects at once (controller restart, network back), every host starts
 * a handshake in the same second. Past the limit, new connections are closed as soon as they
 * are accepted, before any TLS work is spent on them; the agent sees the connection drop and
 * retries with its jittered backoff. A connection stops counting when gRPC reports its
 * transport ready (handshake done) or when it closes.
 *
 * <p>gRPC offers no public hook before the handshake, so the gate sits in the accept loop: a
 * server channel whose {@code doReadMessages} drops what it cannot admit.
 */
final class HandshakeGate {
  private static final Logger log = LoggerFactory.getLogger(HandshakeGate.class);

  private final int limit;
  private final AtomicInteger inHandshake = new AtomicInteger();
  private final AtomicLong refused = new AtomicLong();
  /** Remote addresses of connections still in their handshake. */
  private final Set<SocketAddress> pending = ConcurrentHashMap.newKeySet();

  HandshakeGate(int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("maxConcurrentHandshakes: " + limit + " (expected: >= 1)");
    }
    this.limit = limit;
  }

  ChannelFactory<ServerChannel> channelFactory() {
    return GatedServerChannel::new;
  }

  /** Sees each transport become ready, i.e. its handshake complete. */
  ServerTransportFilter readiness() {
    return new ServerTransportFilter() {
      @Override
      public Attributes transportReady(Attributes attrs) {
        release(attrs.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR));
        return attrs;
      }
    };
  }

  long refused() {
    return refused.get();
  }

  private void release(SocketAddress remote) {
    if (remote != null && pending.remove(remote)) {
      inHandshake.decrementAndGet();
    }
  }

  /** Runs on the boss event loop: no blocking, no logging per connection. */
  private final class GatedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int first = buf.size();
      int read = super.doReadMessages(buf);
      for (int i = buf.size() - 1; i >= first; i--) {
        Channel child = (Channel) buf.get(i);
        if (inHandshake.incrementAndGet() > limit) {
          inHandshake.decrementAndGet();
          buf.remove(i);
          read--;
          child.unsafe().closeForcibly();
          if (refused.incrementAndGet() % 1000 == 1) {
            log.warn("{} connections in TLS handshake (limit {}); refusing new ones until some finish ({} so far)",
                limit, limit, refused.get());
          }
          continue;
        }
        SocketAddress remote = child.remoteAddress();
        pending.add(remote);
        child.closeFuture().addListener(f -> release(remote));
      }
      return read;
    }
  }
}
