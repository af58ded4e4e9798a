package io.rackroll.controller.bench;

import io.rackroll.controller.testing.RawAgent;
import io.rackroll.controller.testing.Wire;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.wire.HostPort;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Load generator for {@link TransferThroughputBench}, in its own process: N enrolled agents fetch
 * one artifact at the same time, each on its own mTLS connection, reading as fast as they can and
 * discarding the bytes. Prints per-agent and total throughput.
 *
 * <p>Args: HOST:PORT TOKEN N DIGEST SIZE
 */
public final class FetchLoad {
  public static void main(String[] args) throws Exception {
    Wire wire = Wire.to(HostPort.parse("address", args[0]));
    int n = Integer.parseInt(args[2]);
    String digest = args[3];
    long size = Long.parseLong(args[4]);
    List<ArtifactsGrpc.ArtifactsBlockingStub> agents = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RawAgent a = new RawAgent(String.format("ag-fetch-%03d", i));
      a.enroll(wire, args[1]);
      agents.add(ArtifactsGrpc.newBlockingStub(a.channel(wire)));
    }
    System.out.println("READY");
    System.out.flush();
    // The benchmark deploys the release to these agents (downloads need a deployment), then says GO.
    new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();
    ExecutorService pool = Executors.newFixedThreadPool(n);
    long started = System.nanoTime();
    List<Future<Double>> seconds = new ArrayList<>();
    for (ArtifactsGrpc.ArtifactsBlockingStub stub : agents) {
      seconds.add(pool.submit(() -> {
        long t0 = System.nanoTime();
        long got = 0;
        Iterator<ArtifactChunk> it = stub.withDeadlineAfter(30, TimeUnit.MINUTES)
            .fetch(FetchRequest.newBuilder().setDigest(digest).build());
        while (it.hasNext()) {
          got += it.next().getData().size();
        }
        if (got != size) {
          throw new IllegalStateException("got " + got + " of " + size + " bytes");
        }
        return (System.nanoTime() - t0) / 1e9;
      }));
    }
    double slowest = 0;
    double sumRate = 0;
    for (Future<Double> f : seconds) {
      double s = f.get();
      slowest = Math.max(slowest, s);
      sumRate += size / 1e6 / s;
    }
    double wall = (System.nanoTime() - started) / 1e9;
    System.out.printf(Locale.ROOT, "RESULT agents=%d wall=%.1fs total=%.0fMB/s perAgentAvg=%.1fMB/s slowest=%.1fs%n",
        n, wall, n * size / 1e6 / wall, sumRate / n, slowest);
    System.out.flush();
    pool.shutdown();
    System.exit(0);
  }
}
