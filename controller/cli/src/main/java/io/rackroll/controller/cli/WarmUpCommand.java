package io.rackroll.controller.cli;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.ListAgentsRequest;
import io.rackroll.proto.v1.ListAgentsResponse;
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
              response.onNext(ListAgentsResponse.getDefaultInstance());
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
