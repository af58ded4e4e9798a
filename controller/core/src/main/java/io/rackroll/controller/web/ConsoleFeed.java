package io.rackroll.controller.web;

import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpContent;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.AuditStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's live pages: one stream of server-sent events per open tab. What changed (hosts,
 * deployments, the audit) is gathered as it happens and sent at most every {@link #FLUSH}, to
 * every tab at once: a storm of changes is one message per tab, never one per change. A host's
 * change carries its new cell; a deployment's change its id (the tab reads what it shows); more
 * hosts changed than {@link #MAX_CELLS} at once is one "reload" instead.
 *
 * <p>A tab that cannot keep up (its connection not writable) is closed: its browser reconnects
 * by itself and reads everything again, so it never falls behind on a backlog.
 */
final class ConsoleFeed implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ConsoleFeed.class);
  static final Duration FLUSH = Duration.ofMillis(500);
  /** A comment this often keeps proxies from closing a quiet stream, and finds dead ones. */
  static final Duration KEEPALIVE = Duration.ofSeconds(15);
  static final int MAX_CELLS = 200;
  /** Open tabs at most; more are refused (HTTP 503) rather than slowing the rest. */
  static final int MAX_STREAMS = 500;

  /** An open tab and the session it belongs to. */
  private record Stream(Channel channel, String sessionSecret) {}

  private final FleetView fleet;
  private final AuditStore audit;
  private final Predicate<String> sessionAlive;
  private final ScheduledExecutorService thread;
  private final Set<Stream> streams = ConcurrentHashMap.newKeySet();
  /** Changes since the last flush. Guarded by this. */
  private Set<String> agents = new HashSet<>();
  private Set<String> deployments = new HashSet<>();
  /** The newest audit entry sent; touched by {@link #thread} only. */
  private long auditSeen = -1;
  private long lastKeepalive;

  ConsoleFeed(FleetView fleet, AuditStore audit, Predicate<String> sessionAlive, ScheduledExecutorService thread) {
    this.fleet = fleet;
    this.audit = audit;
    this.sessionAlive = sessionAlive;
    this.thread = thread;
  }

  void start() {
    thread.scheduleWithFixedDelay(this::flush, FLUSH.toMillis(), FLUSH.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** A tab opened its stream (the response head is written); false when there are too many. */
  boolean open(Channel channel, String sessionSecret) {
    if (streams.size() >= MAX_STREAMS) {
      return false;
    }
    Stream s = new Stream(channel, sessionSecret);
    streams.add(s);
    channel.closeFuture().addListener(f -> streams.remove(s));
    send(s, "event: hello\ndata: {}\n\n");
    return true;
  }

  /** A host changed: connected, went silent, reported a job or its health. */
  synchronized void agentChanged(String agentId) {
    if (!streams.isEmpty()) {
      agents.add(agentId);
    }
  }

  /** A deployment changed. */
  synchronized void deploymentChanged(String deploymentId) {
    if (!streams.isEmpty()) {
      deployments.add(deploymentId);
    }
  }

  /** Ends the streams of sessions that are over (signed out, ended by an admin, expired). */
  void sessionsEnded() {
    thread.execute(this::dropEnded);
  }

  int streams() {
    return streams.size();
  }

  private void flush() {
    try {
      Set<String> a;
      Set<String> d;
      synchronized (this) {
        a = agents;
        d = deployments;
        agents = new HashSet<>();
        deployments = new HashSet<>();
      }
      if (streams.isEmpty()) {
        return;
      }
      StringBuilder events = new StringBuilder();
      if (a.size() > MAX_CELLS) {
        events.append("event: fleet\ndata: {\"reload\":true}\n\n");
      } else if (!a.isEmpty()) {
        events.append("event: fleet\ndata: ").append(Json.write(Map.of("cells", fleet.of(a)))).append("\n\n");
      }
      if (!d.isEmpty()) {
        events.append("event: deployments\ndata: ").append(Json.write(Map.of("ids", List.copyOf(d)))).append("\n\n");
      }
      List<AuditEntry> newest = audit.recent(1);
      long seq = newest.isEmpty() ? 0 : newest.get(0).seq();
      if (auditSeen >= 0 && seq != auditSeen) {
        events.append("event: audit\ndata: {\"seq\":").append(seq).append("}\n\n");
      }
      auditSeen = seq;
      long now = System.nanoTime();
      if (events.isEmpty() && now - lastKeepalive >= KEEPALIVE.toNanos()) {
        events.append(": keepalive\n\n");
        dropEnded();
      }
      if (!events.isEmpty()) {
        lastKeepalive = now;
        String text = events.toString();
        for (Stream s : streams) {
          send(s, text);
        }
      }
    } catch (RuntimeException e) {
      log.warn("cannot send the console's changes: {}", e.getMessage());
    }
  }

  private void dropEnded() {
    for (Stream s : streams) {
      if (!sessionAlive.test(s.sessionSecret())) {
        end(s.channel());
      }
    }
  }

  private static void send(Stream s, String text) {
    Channel c = s.channel();
    if (!c.isActive()) {
      return;
    }
    if (!c.isWritable()) {
      c.close(); // the browser reconnects and reads everything again
      return;
    }
    c.writeAndFlush(new DefaultHttpContent(Unpooled.copiedBuffer(text, StandardCharsets.UTF_8)));
  }

  /** Ends a stream as a response ends (its last chunk), then the connection. */
  private static void end(Channel c) {
    c.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT).addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void close() {
    for (Stream s : streams) {
      end(s.channel());
    }
  }
}
