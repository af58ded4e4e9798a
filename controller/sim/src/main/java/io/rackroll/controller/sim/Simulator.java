package io.rackroll.controller.sim;

import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.CreateTokenRequest;
import io.rackroll.proto.v1.Cpu;
import io.rackroll.proto.v1.EnrollRequest;
import io.rackroll.proto.v1.EnrollResponse;
import io.rackroll.proto.v1.EnrollmentGrpc;
import io.rackroll.proto.v1.Facts;
import io.rackroll.proto.v1.FileSystem;
import io.rackroll.proto.v1.Nic;
import io.rackroll.proto.v1.OperatingSystem;
import io.rackroll.proto.v1.SystemInfo;
import io.rackroll.trust.BootstrapToken;
import io.rackroll.trust.Keys;
import io.rackroll.trust.MutualTls;
import io.rackroll.trust.Pem;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Ids;
import io.rackroll.wire.Threads;
import java.io.PrintStream;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A fleet of simulated hosts in one JVM, for testing and measuring the controller at scale: each
 * host enrolls with a bootstrap token for its rack and gets its own certificate, then speaks the
 * real protocol over its own mTLS connection ({@link SimAgent}). It is a client of a real
 * controller, not a stand-in for one.
 *
 * <p>Threads: one Netty event loop group and a small callback pool shared by every connection,
 * and one scheduler thread that owns every simulated host's state. None per host.
 */
public final class Simulator implements AutoCloseable {
  /**
   * @param agents hosts to simulate
   * @param racks racks they are spread over, round robin: label {@code rack=r1} .. {@code rack=rR}
   * @param stepTime mean time of each installer phase (each step takes 0.5x to 1.5x of it)
   * @param failureRate probability that a deploy fails its health check and rolls back
   * @param seed for the simulated facts, step times and failures
   */
  public record Settings(int agents, int racks, Duration stepTime, double failureRate, long seed) {
    public Settings {
      if (agents < 1) {
        throw new IllegalArgumentException("--agents: " + agents + " (expected: at least 1)");
      }
      if (racks < 1 || racks > agents) {
        throw new IllegalArgumentException("--racks: " + racks + " (expected: from 1 to the number of agents, " + agents
            + ")");
      }
      if (stepTime.isNegative()) {
        throw new IllegalArgumentException("--step-time: " + stepTime + " (expected: 0s or more)");
      }
      if (!(failureRate >= 0 && failureRate <= 1)) {
        throw new IllegalArgumentException("--failure-rate: " + failureRate + " (expected: from 0 to 1, e.g. 0.05)");
      }
    }
  }

  /** What every simulated host shares: the one thread that runs them all, randomness, settings. */
  record Shared(ScheduledExecutorService loop, Random random, Settings settings, Clock clock) {
    long stepMillis() {
      long mean = settings.stepTime().toMillis();
      return mean == 0 ? 0 : mean / 2 + (long) (random.nextDouble() * mean);
    }
  }

  /** Enrollments in flight at once: enough to keep the controller busy, few enough not to swamp it. */
  private static final int ENROLLING = 16;
  /** First connection attempts in flight at once (the controller admits 256 hellos at a time by default). */
  private static final int CONNECTING = 64;

  private final Settings settings;
  private final HostPort controller;
  private final PrintStream out;
  private final NioEventLoopGroup network = new NioEventLoopGroup(Math.max(2, Runtime.getRuntime().availableProcessors()),
      Threads.daemons("sim-network"));
  private final ExecutorService callbacks = Executors.newFixedThreadPool(2, Threads.daemons("sim-callbacks"));
  private final Shared shared;
  private final List<SimAgent> agents = new ArrayList<>();
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  public Simulator(Settings settings, HostPort controller, PrintStream out) {
    this.settings = settings;
    this.controller = controller;
    this.out = out;
    this.shared = new Shared(Threads.serial("sim"), new Random(settings.seed()), settings, Clock.systemUTC());
  }

  /**
   * Creates one token per rack through the admin API, enrolls every host with it (each with its
   * own key pair and certificate) and connects them all. Returns once every host is enrolled; the
   * connections come up in the background ({@link #connected()}).
   */
  public void start(AdminGrpc.AdminBlockingStub admin) throws InterruptedException {
    long started = System.nanoTime();
    List<String> tokens = new ArrayList<>();
    for (int r = 0; r < settings.racks(); r++) {
      int inRack = settings.agents() / settings.racks() + (r < settings.agents() % settings.racks() ? 1 : 0);
      tokens.add(admin.createToken(CreateTokenRequest.newBuilder().putLabels("rack", rack(r)).putLabels("sim", "true")
          .setUses(inRack).setTtlSeconds(3600).build()).getToken());
    }
    ManagedChannel enrollment = channel(NettyChannelBuilder.forAddress(controller.host(), controller.port())
        .sslContext(MutualTls.pinned(BootstrapToken.parse(tokens.get(0)).caFingerprint())));
    // Key pairs, CSRs and TLS contexts cost CPU on this side: made on every core, a few enrollments each in flight.
    ExecutorService setup = Executors.newFixedThreadPool(ENROLLING, Threads.daemons("sim-enroll"));
    try {
      List<Future<SimAgent>> enrolled = new ArrayList<>();
      for (int i = 0; i < settings.agents(); i++) {
        int index = i;
        enrolled.add(setup.submit(() -> enroll(enrollment, index, tokens.get(index % settings.racks()))));
      }
      for (Future<SimAgent> f : enrolled) {
        agents.add(f.get());
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    } finally {
      setup.shutdownNow();
      enrollment.shutdownNow();
    }
    out.printf("enrolled %d simulated agents in %d racks (labels rack=%s..%s, sim=true) in %.1f s%n", agents.size(),
        settings.racks(), rack(0), rack(settings.racks() - 1), (System.nanoTime() - started) / 1e9);
    out.flush();
    shared.loop().execute(() -> {
      Iterator<SimAgent> next = agents.iterator();
      for (int i = 0; i < CONNECTING && next.hasNext(); i++) {
        connectNext(next);
      }
    });
  }

  /**
   * Starts the next agent's first connection, and the one after when that attempt settles: at most
   * {@link #CONNECTING} first handshakes at once, below the controller's hello admission limit, so
   * a fleet comes up at the pace the controller admits it instead of in waves of refusals.
   */
  private void connectNext(Iterator<SimAgent> next) {
    if (next.hasNext()) {
      next.next().start(() -> connectNext(next));
    }
  }

  static String rack(int index) {
    return "r" + (index + 1);
  }

  /** Enrolls host {@code index} with its own key pair and certificate, as a fresh host would. */
  private SimAgent enroll(ManagedChannel enrollment, int index, String token) {
    String id = Ids.random("sim-", 10);
    KeyPair key = Keys.newKeyPair();
    EnrollResponse r;
    try {
      r = EnrollmentGrpc.newBlockingStub(enrollment).withDeadlineAfter(60, TimeUnit.SECONDS)
          .enroll(EnrollRequest.newBuilder().setToken(token).setCsrDer(ByteString.copyFrom(Keys.agentCsr(id, key)))
              .setAgentVersion("simulated").build());
    } catch (StatusRuntimeException e) {
      throw new IllegalStateException("enrollment of simulated agent " + (index + 1) + " failed: "
          + e.getStatus().getCode() + ": " + e.getStatus().getDescription(), e);
    }
    var tls = MutualTls.client(key.getPrivate(), Pem.certificates(r.getCertificatePem()), Pem.certificates(r.getCaPem()));
    // Unlike an agent, which spreads over the nodes its enrollment names, a simulated host starts on
    // the node the simulator was pointed at (benchmarks place their fleet); the welcome's list then
    // tells it where to go when that node goes away.
    io.rackroll.wire.ControllerChannels channels = new io.rackroll.wire.ControllerChannels(
        controller, java.util.List.of(), r.getAgentId(),
        at -> channel(NettyChannelBuilder.forAddress(at.host(), at.port()).sslContext(tls)), list -> { });
    return new SimAgent(r.getAgentId(), facts(index), r.getLabelsMap(), channels, shared);
  }

  private ManagedChannel channel(NettyChannelBuilder builder) {
    return builder.eventLoopGroup(network).channelType(NioSocketChannel.class).executor(callbacks).build();
  }

  /** Plausible hardware for host {@code index}: varied but reproducible from the seed. */
  private Facts facts(int index) {
    int rack = index % settings.racks();
    int inRack = index / settings.racks();
    Random r = new Random(settings.seed() * 31 + index);
    int cores = List.of(16, 32, 48, 64).get(r.nextInt(4));
    long memory = List.of(64L, 128L, 256L, 512L).get(r.nextInt(4)) << 30;
    long disk = List.of(480L, 960L, 1920L).get(r.nextInt(3)) << 30;
    String serial = String.format("SIM%08d", index + 1);
    return Facts.newBuilder()
        .setHostname(String.format("sim-%s-%04d", rack(rack), inRack + 1))
        .setSystem(SystemInfo.newBuilder().setVendor("Rackroll Simulated").setModel("SR-" + cores).setSerial(serial)
            .setBaseboardSerial("BB" + serial))
        .setCpu(Cpu.newBuilder().setModel("Simulated CPU @ 2.4GHz").setSockets(cores > 32 ? 2 : 1)
            .setPhysicalCores(cores).setLogicalCores(cores * 2))
        .setArch("x86_64")
        .setMemoryBytes(memory)
        .addFileSystems(FileSystem.newBuilder().setMount("/").setType("ext4").setTotalBytes(disk)
            .setFreeBytes(disk / 2 + r.nextLong(disk / 4)))
        .addNics(Nic.newBuilder().setName("eth0").setMac(String.format("02:52:52:%02x:%02x:%02x", (index >> 16) & 0xff,
            (index >> 8) & 0xff, index & 0xff))
            .addAddresses(String.format("10.%d.%d.%d", rack & 0xff, (inRack >> 8) & 0xff, inRack & 0xff))
            .setSpeedBitsPerSecond(25_000_000_000L))
        .setOs(OperatingSystem.newBuilder().setFamily("Linux").setVersion("Debian 12").setKernel("6.1.0-sim"))
        .setBootTimeEpochSeconds(shared.clock().instant().getEpochSecond() - r.nextInt(90 * 86_400))
        .build();
  }

  /** How many simulated hosts hold a welcomed stream right now. */
  public int connected() throws InterruptedException {
    return onLoop(() -> (int) agents.stream().filter(SimAgent::connected).count());
  }

  /** Apps on simulated hosts by the phase of their last job, e.g. {ACTIVE=990, ROLLED_BACK=10}. */
  public Map<String, Integer> jobs() throws InterruptedException {
    return onLoop(() -> {
      Map<String, Integer> counts = new TreeMap<>();
      agents.forEach(a -> a.tally(counts));
      counts.remove("NONE");
      return counts;
    });
  }

  public int size() {
    return agents.size();
  }

  private <T> T onLoop(java.util.concurrent.Callable<T> read) throws InterruptedException {
    try {
      return shared.loop().submit(read).get();
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      shared.loop().submit(() -> agents.forEach(SimAgent::close)).get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
      out.println("some simulated agents did not hang up cleanly: " + e);
    }
    // Callbacks of streams still closing may come after this: dropped, not a stack trace.
    for (Object executor : List.of(shared.loop(), callbacks)) {
      if (executor instanceof java.util.concurrent.ThreadPoolExecutor pool) {
        pool.setRejectedExecutionHandler(new java.util.concurrent.ThreadPoolExecutor.DiscardPolicy());
      }
    }
    shared.loop().shutdownNow();
    callbacks.shutdownNow();
    network.shutdownGracefully(0, 2, TimeUnit.SECONDS);
  }
}
