package io.rackroll.controller.bench;

import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.Wire;
import io.rackroll.proto.v1.ControllerMessage;
import io.rackroll.wire.HostPort;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Load generator for {@link StreamCapacityBench}, run as its own process so the controller's
 * heap and threads are measured alone: enrolls N agents (each with its own key and certificate,
 * 16 at a time), opens N streams, heartbeats them all, and answers pings, until killed.
 *
 * <p>Args: HOST:PORT TOKEN N HEARTBEAT_MILLIS
 */
public final class StreamLoad {
  public static void main(String[] args) throws Exception {
    Wire wire = Wire.to(HostPort.parse("address", args[0]));
    String token = args[1];
    int n = Integer.parseInt(args[2]);
    long heartbeat = Long.parseLong(args[3]);
    // Hosts enroll and connect concurrently, as a rack powering on does.
    ExecutorService hosts = Executors.newFixedThreadPool(16);
    List<Future<RawAgent.Stream>> pending = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String id = String.format("ag-load-%05d", i);
      int host = i;
      pending.add(hosts.submit(() -> {
        RawAgent agent = new RawAgent(id);
        agent.enroll(wire, token);
        return agent.connect(wire, agent.id, RawAgent.facts("load-" + host, "unknown"));
      }));
    }
    List<RawAgent.Stream> streams = new ArrayList<>();
    for (Future<RawAgent.Stream> f : pending) {
      streams.add(f.get());
    }
    hosts.shutdown();
    for (RawAgent.Stream s : streams) {
      ControllerMessage welcome = s.next();
      if (!welcome.hasWelcome()) {
        throw new IllegalStateException("expected welcome, got " + welcome);
      }
      s.received.clear();
    }
    System.out.println("READY " + n);
    System.out.flush();
    ScheduledExecutorService beat = Executors.newSingleThreadScheduledExecutor();
    beat.scheduleAtFixedRate(() -> {
      for (RawAgent.Stream s : streams) {
        s.heartbeat();
        s.received.clear();
      }
    }, heartbeat, heartbeat, TimeUnit.MILLISECONDS);
    Thread.currentThread().join();
  }
}
