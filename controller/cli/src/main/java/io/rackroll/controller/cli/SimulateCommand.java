package io.rackroll.controller.cli;

import io.rackroll.controller.sim.Simulator;
import io.rackroll.wire.Durations;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = {"Run a fleet of simulated agents in this process against a real controller, to test and measure"
        + " it at scale. Each agent enrolls with its own certificate (labels rack=r1..rR, sim=true) and speaks the"
        + " real protocol over its own mTLS connection; a simulated installer walks the real lifecycle phases.",
        "Runs until interrupted (or --for). Simulated agents stay enrolled; they show as disconnected afterwards."})
final class SimulateCommand implements Callable<Integer> {
  @Mixin AdminClient client;

  @Option(names = "--agents", paramLabel = "N", required = true, description = "How many agents to simulate.")
  int agents;

  @Option(names = "--racks", paramLabel = "R", description = "Racks to spread them over, round robin (default: 1).")
  int racks = 1;

  @Option(names = "--step-time", paramLabel = "DURATION",
      description = "Mean time of each installer phase; each takes 0.5x to 1.5x of it (default: 0s).")
  String stepTime = "0s";

  @Option(names = "--failure-rate", paramLabel = "P",
      description = "Probability that a deploy fails its health check and rolls back, 0 to 1 (default: 0).")
  double failureRate;

  @Option(names = "--seed", paramLabel = "N", description = "Seed for facts, step times and failures (default: 1).")
  long seed = 1;

  @Option(names = "--for", paramLabel = "DURATION", description = "Stop after this long (default: until interrupted).")
  String duration;

  @Override
  public Integer call() throws Exception {
    Simulator.Settings settings = new Simulator.Settings(agents, racks, Durations.parse("--step-time", stepTime),
        failureRate, seed);
    Instant until = duration == null ? Instant.MAX : Instant.now().plus(Durations.parse("--for", duration));
    Simulator sim = new Simulator(settings, client.address(), System.out);
    Runtime.getRuntime().addShutdownHook(new Thread(sim::close, "sim-shutdown"));
    client.call(channel -> {
      sim.start(client.stub(channel).withDeadlineAfter(60, java.util.concurrent.TimeUnit.SECONDS));
      return null;
    });
    String shown = "";
    while (Instant.now().isBefore(until)) {
      String status = sim.connected() + " of " + sim.size() + " simulated agents connected; jobs: " + sim.jobs();
      if (!status.equals(shown)) {
        System.out.println(status);
        System.out.flush();
        shown = status;
      }
      Thread.sleep(Duration.ofSeconds(1).toMillis()); // a status line at most once a second
    }
    sim.close();
    return 0;
  }
}
