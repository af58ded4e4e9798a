package io.rackroll.controller.cli;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.AppState;
import io.rackroll.proto.v1.Cpu;
import io.rackroll.proto.v1.Disk;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import io.rackroll.proto.v1.ListAgentsResponse;
import io.rackroll.proto.v1.Nic;
import io.rackroll.proto.v1.OperatingSystem;
import io.rackroll.proto.v1.ReleaseTrust;
import io.rackroll.proto.v1.SystemInfo;
import io.rackroll.trust.MutualTls;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;

/**
 * One admin call, as an operator makes it, against a throwaway server on the loopback: what the
 * packages run under {@code -XX:ArchiveClassesAtExit} to make the CLI's class-data archive, so
 * that every later call starts from classes already parsed and verified.
 */
@Command(name = "warm-up", hidden = true,
    description = "Make one admin call against a throwaway local server (for the class-data archive).")
final class WarmUpCommand implements Callable<Integer> {
  /**
   * One agent with every field set, as a controller answers: an empty answer would leave out
   * the classes that parse and print a real one (some 200 of protobuf's alone).
   */
  private static final AgentRecord SAMPLE = AgentRecord.newBuilder().setAgentId("ag-0123456789ab")
      .putLabels("rack", "r1").putLabels("role", "web").setState("connected").setAgentVersion("0.1.0")
      .setFirstSeenEpochMillis(1).setLastSeenEpochMillis(2).setStateSinceEpochMillis(2).setCertificateSerial("01")
      .setCertificateNotAfterEpochMillis(3).setCertificateCa("ca").addWarnings("warning").addUnhealthyApps("web")
      .addApps(AppState.newBuilder().setApp("web").setCurrentVersion("2").setPhase("ACTIVE").setVersion("2")
          .setFailure("").addKeptVersions("1").addKeptVersions("2").setUpdatedEpochMillis(2).setHealth("ok"))
      .setFacts(Facts.newBuilder().setHostname("web-1").setArch("x86_64").setMemoryBytes(1L << 34)
          .setBootTimeEpochSeconds(1)
          .setSystem(SystemInfo.newBuilder().setVendor("v").setModel("m").setSerial("s").setBaseboardSerial("b"))
          .setCpu(Cpu.newBuilder().setModel("cpu").setSockets(1).setPhysicalCores(8).setLogicalCores(16))
          .addDisks(Disk.newBuilder().setName("sda").setModel("disk").setSizeBytes(1L << 40))
          .addFileSystems(FileSystem.newBuilder().setMount("/").setType("ext4").setTotalBytes(1L << 40)
              .setFreeBytes(1L << 39))
          .addNics(Nic.newBuilder().setName("eth0").setMac("00:00:00:00:00:01").setSpeedBitsPerSecond(1_000_000_000L)
              .addAddresses("192.0.2.1"))
          .setOs(OperatingSystem.newBuilder().setFamily("Debian").setVersion("12").setKernel("6.1").setKind("linux"))
          .setReleaseTrust(ReleaseTrust.newBuilder().setRequireSigned(true).addKeyIds("0123456789abcdef")))
      .build();

  @Override
  public Integer call() throws Exception {
    Path dir = Files.createTempDirectory("rackroll-warm-up");
    try {
      ControllerPki pki = ControllerPki.init(dir, List.of("127.0.0.1"), Clock.systemUTC());
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .sslContext(MutualTls.server(pki.serverKey(), pki.serverChain(), pki.trusted()))
          .addService(new AdminGrpc.AdminImplBase() {
            @Override
            public void listAgents(ListAgentsRequest request, StreamObserver<ListAgentsResponse> response) {
              response.onNext(ListAgentsResponse.newBuilder().addAgents(SAMPLE).build());
              response.onCompleted();
            }
          })
          .build().start();
      PrintStream out = System.out;
      try {
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));
        int exit = Rackroll.run("agents", "--credentials", ControllerPki.dir(dir).toString(), "--controller",
            "127.0.0.1:" + server.getPort());
        if (exit != 0) {
          throw new IllegalStateException("the warm-up call failed (exit " + exit + ")");
        }
      } finally {
        System.setOut(out);
        server.shutdownNow().awaitTermination();
      }
      return 0;
    } finally {
      delete(dir);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
