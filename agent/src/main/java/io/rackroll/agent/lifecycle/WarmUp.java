package io.rackroll.agent.lifecycle;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rackroll.agent.artifact.ArtifactCache;
import io.rackroll.agent.identity.ThrowawayPki;
import io.rackroll.proto.v1.ArtifactChunk;
import io.rackroll.proto.v1.ArtifactsGrpc;
import io.rackroll.proto.v1.FetchRequest;
import io.rackroll.release.Artifact;
import io.rackroll.release.HostFit;
import io.rackroll.trust.MutualTls;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One deploy of a tiny release, from a throwaway server on the loopback over mutual TLS to a
 * healthy activation in a scratch directory, through the agent's own download, lifecycle, hooks
 * and state files: what the package runs under {@code -XX:ArchiveClassesAtExit} to make the
 * agent's class-data archive, so that an agent starts, and runs its first deploy, with those
 * classes already parsed and verified. It touches nothing of the host's own: no identity, no
 * state directory, no network beyond the loopback.
 */
public final class WarmUp {
  private WarmUp() {
  }

  /** Runs the deploy in a new directory under {@code parent}, removed afterwards; the job's end phase. */
  public static String run(Path parent) throws Exception {
    Path dir = Files.createTempDirectory(Files.createDirectories(parent), "rackroll-agent-warm-up");
    try {
      Path artifact = release(dir);
      byte[] bytes = Files.readAllBytes(artifact);
      String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      ThrowawayPki pki = new ThrowawayPki("ag-warmupwarmup");
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .sslContext(MutualTls.server(pki.serverKey.getPrivate(), List.of(pki.serverCert), List.of(pki.ca)))
          .addService(new ArtifactsGrpc.ArtifactsImplBase() {
            @Override
            public void fetch(FetchRequest request, StreamObserver<ArtifactChunk> out) {
              out.onNext(ArtifactChunk.newBuilder().setOffset(0).setTotalSize(bytes.length)
                  .setData(ByteString.copyFrom(bytes)).build());
              out.onCompleted();
            }
          })
          .build().start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort())
          .sslContext(MutualTls.client(pki.agentKey.getPrivate(), List.of(pki.agentCert), List.of(pki.ca)))
          .build();
      try {
        Lifecycle lifecycle = new Lifecycle(dir.resolve("apps"), new ArtifactCache(dir.resolve("cache"), channel,
            Duration.ofMinutes(1)), () -> new HostFit.Host("", "", 0, 0), Map.of(), 2, Clock.systemUTC(), job -> { });
        Job job = lifecycle.deploy("warm-up", "warm-up", "1", digest, bytes.length);
        return job.phase().name();
      } finally {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
      }
    } finally {
      HostFiles.deleteTree(dir);
    }
  }

  /** A release with an activate hook and an exec health check, packed as {@code rackroll release pack} does. */
  private static Path release(Path dir) throws Exception {
    Path src = Files.createDirectories(dir.resolve("release/hooks"));
    Files.writeString(src.resolveSibling("rackroll.yaml"), """
        name: warm-up
        version: "1"
        hooks:
          activate: hooks/ok.sh
        health:
          checks:
            - exec: hooks/ok.sh
          interval: 1s
          timeout: 1s
          healthyAfter: 1
          deadline: 30s
        """);
    Path ok = src.resolve("ok.sh");
    Files.writeString(ok, "#!/bin/sh\nexit 0\n");
    Files.setPosixFilePermissions(ok, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path artifact = dir.resolve("warm-up-1.tar.gz");
    Artifact.pack(src.getParent(), artifact);
    return artifact;
  }
}
