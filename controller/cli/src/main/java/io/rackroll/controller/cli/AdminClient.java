package io.rackroll.controller.cli;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.rackroll.controller.pki.ControllerPki;
import io.rackroll.controller.server.ControllerServer;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.Pem;
import io.rackroll.wire.HostPort;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/**
 * How the CLI reaches a controller: the admin certificate and the address, from the controller's
 * data directory by default. Used as a picocli mixin by every command that talks to a controller.
 */
final class AdminClient {
  static final String DATA_ENV = "RACKROLL_DATA";
  static final Path DEFAULT_DATA = Path.of("/var/lib/rackroll/controller");

  @Option(names = "--data", paramLabel = "DIR",
      description = "Controller data directory (default: $" + DATA_ENV + ", else " + "/var/lib/rackroll/controller).")
  Path data;

  @Option(names = "--controller", paramLabel = "HOST:PORT",
      description = "Controller address (default: the address the controller in --data recorded when it started).")
  String controller;

  @Option(names = "--credentials", paramLabel = "DIR",
      description = "Directory with ca.crt, admin.crt and admin.key (default: <data>/pki).")
  Path credentials;

  Path dataDir() {
    if (data != null) {
      return data;
    }
    String env = System.getenv(DATA_ENV);
    return env == null || env.isBlank() ? DEFAULT_DATA : Path.of(env);
  }

  HostPort address() {
    if (controller != null) {
      return HostPort.parse("--controller", controller);
    }
    Path file = dataDir().resolve(ControllerServer.ADDRESS_FILE);
    try {
      HostPort recorded = HostPort.parse(file.toString(), Files.readString(file).trim());
      String host = recorded.host().equals("0.0.0.0") || recorded.host().equals("::") ? "127.0.0.1" : recorded.host();
      return new HostPort(host, recorded.port());
    } catch (NoSuchFileException e) {
      throw new IllegalStateException("no controller has run with data directory " + dataDir()
          + "; start one with 'rackroll controller run --data " + dataDir() + "' or pass --controller HOST:PORT");
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /** What a command does on an open admin channel. */
  @FunctionalInterface
  interface Session<T> {
    T run(ManagedChannel channel) throws Exception;
  }

  /** Opens the admin channel, runs {@code work} on it and closes it, whatever happens. */
  <T> T call(Session<T> work) throws Exception {
    ManagedChannel channel = open();
    try {
      return work.run(channel);
    } finally {
      close(channel);
    }
  }

  /** Where this admin's key and certificate are: --credentials, else the data directory's pki. */
  Path credentialsDir() {
    return credentials != null ? credentials : ControllerPki.dir(dataDir());
  }

  /** Opens an mTLS channel as the admin. The caller closes it with {@link #close}. */
  ManagedChannel open() {
    if (credentials == null && !Files.isDirectory(dataDir())) {
      throw new IllegalStateException("no controller data directory at " + dataDir()
          + "; pass --data DIR (made by 'rackroll controller init') or set " + DATA_ENV);
    }
    Path dir = credentialsDir();
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("no admin credentials in " + dir
          + "; pass --data with the controller's data directory or --credentials DIR");
    }
    HostPort address = address();
    // During a CA rotation trust.crt holds the old and the new CA: the CLI works before and after the restart.
    Path trust = Files.exists(dir.resolve("trust.crt")) ? dir.resolve("trust.crt") : dir.resolve("ca.crt");
    return NettyChannelBuilder.forAddress(address.host(), address.port())
        .eventLoopGroup(eventLoop()).channelType(NioSocketChannel.class)
        .sslContext(MutualTls.client(Pem.readPrivateKey(dir.resolve("admin.key")),
            Pem.readCertificates(dir.resolve("admin.crt")), Pem.readCertificates(trust)))
        .build();
  }

  /**
   * The CLI's one network thread, made at the first call and ended by {@link #release}. Its own,
   * not gRPC's shared one: a JVM exits only once its threads blocked in native code (a selector)
   * have stopped, which it waits up to 300 ms for; a thread ended before the exit costs nothing.
   */
  private static EventLoopGroup eventLoop;

  private static synchronized EventLoopGroup eventLoop() {
    if (eventLoop == null) {
      eventLoop = new NioEventLoopGroup(1, new DefaultThreadFactory("rackroll-cli", true));
    }
    return eventLoop;
  }

  /** Ends the network thread, if one was made; channels on it must be closed first. */
  static synchronized void release() {
    if (eventLoop != null) {
      eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(2, TimeUnit.SECONDS);
      eventLoop = null;
    }
  }

  AdminGrpc.AdminBlockingStub stub(ManagedChannel channel) {
    return AdminGrpc.newBlockingStub(channel).withDeadlineAfter(15, TimeUnit.SECONDS);
  }

  static void close(ManagedChannel channel) {
    channel.shutdownNow();
    try {
      channel.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** One line for a failed call: what went wrong and what to do. */
  static String describe(StatusRuntimeException e) {
    Status s = e.getStatus();
    String detail = s.getDescription() != null ? s.getDescription()
        : s.getCause() != null ? s.getCause().getMessage() : s.getCode().toString();
    detail = detail.lines().findFirst().orElse(""); // gRPC appends its channel pipeline on a second line
    for (Throwable c = s.getCause(); c != null; c = c.getCause()) {
      if (c instanceof java.security.cert.CertificateException) {
        // The controller answered, but its certificate does not name the address used.
        return "the controller's certificate was refused: " + String.valueOf(c.getMessage()).lines().findFirst()
            .orElse("") + " (reach it by a name it was initialized with (--san), or pass --controller HOST:PORT)";
      }
    }
    return switch (s.getCode()) {
      // The controller may answer this itself (a node that cannot reach the leader, say): then it says why.
      case UNAVAILABLE -> e.getTrailers() != null && e.getTrailers().containsKey(io.rackroll.wire.Statuses.ANSWERED)
          ? detail
          : "cannot reach the controller: " + detail + " (is it running? start it with 'rackroll controller run')";
      case DEADLINE_EXCEEDED -> "the controller did not answer in time: " + detail;
      case UNAUTHENTICATED, PERMISSION_DENIED -> "refused by the controller: " + detail;
      default -> detail;
    };
  }
}
