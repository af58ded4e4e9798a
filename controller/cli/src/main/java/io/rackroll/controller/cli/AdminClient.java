package io.rackroll.controller.cli;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.rackroll.controller.cluster.ClusterNode;
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
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
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

  @Option(names = "--controller", paramLabel = "HOST:PORT[,...]",
      description = "Controller address; with several nodes, a comma-separated list: the first that answers is used"
          + " (default: the address the controller in --data recorded when it started, then the other nodes it"
          + " last knew).")
  String controller;

  /** The node the last {@link #open} reached (the first address until then). */
  private HostPort reached;

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

  /** The controller's address: the node the CLI reached, else the first it would try. */
  HostPort address() {
    return reached != null ? reached : addresses().get(0);
  }

  /**
   * Every address to try, in order: those of --controller; else the one the controller in the
   * data directory recorded, then the other nodes it last knew ({@link ClusterNode#NODES_FILE}).
   */
  List<HostPort> addresses() {
    if (controller != null) {
      List<HostPort> given = new ArrayList<>();
      for (String a : controller.split(",")) {
        if (!a.isBlank()) {
          given.add(HostPort.parse("--controller", a.strip()));
        }
      }
      if (given.isEmpty()) {
        throw new UsageError("--controller: empty (expected HOST:PORT, or several separated by commas)");
      }
      return given;
    }
    List<HostPort> all = new ArrayList<>(List.of(recordedAddress()));
    Path nodes = dataDir().resolve(ClusterNode.NODES_FILE);
    try {
      if (Files.exists(nodes)) {
        for (String line : Files.readAllLines(nodes)) {
          if (!line.isBlank()) {
            HostPort node = HostPort.parse(nodes.toString(), line.strip());
            if (!all.contains(node)) {
              all.add(node);
            }
          }
        }
      }
    } catch (IOException | IllegalArgumentException e) {
      // Only the fallback is lost: the recorded address still serves.
    }
    return all;
  }

  private HostPort recordedAddress() {
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
    if (!Files.exists(dir) && !Files.notExists(dir)) {
      // There, most likely, but not for this user: an owner's home, read by 'sudo -u rackroll'.
      String me = System.getProperty("user.name");
      throw new IllegalStateException("cannot read " + dir + " as user " + me + " (permission denied); copy admin.crt,"
          + " admin.key and ca.crt into a directory only " + me + " reads (install -d -m 0700 -o " + me + " DIR), pass"
          + " that, and remove it afterwards");
    }
    if (!Files.isDirectory(dir)) {
      throw new IllegalStateException("no admin credentials in " + dir
          + "; pass --data with the controller's data directory or --credentials DIR");
    }
    List<HostPort> addresses = addresses();
    // During a CA rotation trust.crt holds the old and the new CA: the CLI works before and after the restart.
    Path trust = Files.exists(dir.resolve("trust.crt")) ? dir.resolve("trust.crt") : dir.resolve("ca.crt");
    SslContext tls = MutualTls.client(Pem.readPrivateKey(dir.resolve("admin.key")),
        Pem.readCertificates(dir.resolve("admin.crt")), Pem.readCertificates(trust));
    reached = addresses.get(0);
    if (addresses.size() == 1) {
      return channel(reached, tls); // the call itself says why, if it cannot reach it
    }
    for (HostPort address : addresses) {
      ManagedChannel channel = channel(address, tls);
      if (ready(channel)) {
        if (!address.equals(addresses.get(0))) {
          System.err.println("rackroll: note: controller " + addresses.get(0) + " does not answer; using " + address);
        }
        reached = address;
        return channel;
      }
      close(channel);
    }
    return channel(reached, tls); // none answers: the call says why the first does not
  }

  private static ManagedChannel channel(HostPort address, SslContext tls) {
    return NettyChannelBuilder.forAddress(address.host(), address.port())
        .eventLoopGroup(eventLoop()).channelType(NioSocketChannel.class).sslContext(tls).build();
  }

  /** Whether {@code channel} connects (TLS included) within {@link #CONNECT}. */
  private static boolean ready(ManagedChannel channel) {
    long until = System.nanoTime() + CONNECT.toNanos();
    ConnectivityState state = channel.getState(true);
    while (state != ConnectivityState.READY && state != ConnectivityState.TRANSIENT_FAILURE
        && state != ConnectivityState.SHUTDOWN) {
      CountDownLatch changed = new CountDownLatch(1);
      channel.notifyWhenStateChanged(state, changed::countDown);
      try {
        if (!changed.await(until - System.nanoTime(), TimeUnit.NANOSECONDS)) {
          return false;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
      state = channel.getState(false);
    }
    return state == ConnectivityState.READY;
  }

  /** How long a node of several may take to connect before the next is tried. */
  private static final java.time.Duration CONNECT = java.time.Duration.ofSeconds(5);

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
