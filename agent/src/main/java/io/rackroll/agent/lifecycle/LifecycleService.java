package io.rackroll.agent.lifecycle;

import io.rackroll.agent.link.ControllerLink;
import io.rackroll.proto.v1.AgentMessage;
import io.rackroll.proto.v1.Command;
import io.rackroll.proto.v1.CommandResult;
import io.rackroll.proto.v1.DownloadProgress;
import io.rackroll.proto.v1.FlagsUpdate;
import io.rackroll.proto.v1.JobUpdate;
import io.rackroll.wire.Threads;
import io.rackroll.wire.Names;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connects the lifecycle to the controller link: deploy, rollback and flag commands are queued on
 * the one {@code lifecycle} thread (jobs on a host run one at a time, in order), every transition
 * is reported as a {@link JobUpdate} (a flag change as a {@link FlagsUpdate}), and after each
 * reconnect the last job and flag change of every app are reported again. On start it first
 * finishes whatever a restart interrupted.
 */
public final class LifecycleService implements ControllerLink.Commands, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LifecycleService.class);
  /** How long a stop waits for the step under way; within the unit's TimeoutStopSec. */
  static final Duration STOP_WAIT = Duration.ofSeconds(75);

  private final Lifecycle lifecycle;
  private final Flags flags;
  private final ExecutorService worker = Threads.serial("lifecycle");
  private final java.util.concurrent.ScheduledExecutorService probes = Threads.serial("health-probes");
  /** Fills in the host's load, memory and disk on each health report. */
  private volatile java.util.function.UnaryOperator<io.rackroll.proto.v1.HealthReport.Builder> hostMetrics = b -> b;
  /** Set once, before start(): where updates go. */
  private volatile Consumer<AgentMessage> reports = m -> { };

  /** {@code lifecycle} builds the Lifecycle around the listener this service gives it. */
  public LifecycleService(Function<Lifecycle.Listener, Lifecycle> lifecycle) {
    this.lifecycle = lifecycle.apply(new Lifecycle.Listener() {
      @Override
      public void transition(Job job) {
        reported(job);
      }

      @Override
      public void downloaded(Job job, long bytes) {
        reports.accept(AgentMessage.newBuilder().setProgress(DownloadProgress.newBuilder()
            .setDeploymentId(job.deploymentId()).setApp(job.app()).setVersion(Releases.versionOf(job.version()))
            .setBytes(bytes).setSize(job.size())).build());
      }

      @Override
      public void flags(Flags.Change change) {
        reports.accept(update(change));
      }
    });
    this.flags = this.lifecycle.flags();
  }

  public void reportTo(Consumer<AgentMessage> reports) {
    this.reports = reports;
  }

  /**
   * Reports the health of every active app every {@code interval}, with host metrics added by
   * {@code metrics}. Runs on its own thread so a slow check never delays a deployment.
   */
  public void reportHealthEvery(java.time.Duration interval,
      java.util.function.UnaryOperator<io.rackroll.proto.v1.HealthReport.Builder> metrics) {
    this.hostMetrics = metrics;
    probes.scheduleWithFixedDelay(this::reportHealth, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void reportHealth() {
    try {
      for (Job job : lifecycle.releases().jobs()) {
        var report = lifecycle.health().now(job.app());
        if (report.isPresent()) {
          reports.accept(AgentMessage.newBuilder().setHealth(hostMetrics.apply(report.get())).build());
          if (!report.get().getHealthy()) {
            // Within a release's bake time the host rolls back by itself (on the job thread).
            worker.execute(() -> runJob(() -> lifecycle.bakeFailed(job.app()), "bake check of " + job.app()));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      log.warn("health report failed: {}", e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public void start() {
    worker.execute(() -> {
      try {
        lifecycle.recover();
        flags.recover();
      } catch (IOException | RuntimeException e) {
        log.error("cannot recover interrupted jobs: {}", e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** Every name in {@code command} that the agent will build a path from, checked against {@link Names}. */
  static void checkNames(Command command) {
    switch (command.getKindCase()) {
      case DEPLOY -> {
        Names.APP.check(command.getDeploy().getApp());
        Names.VERSION.check(command.getDeploy().getVersion());
      }
      case ROLLBACK -> {
        Names.APP.check(command.getRollback().getApp());
        if (!command.getRollback().getToVersion().isEmpty()) {
          Names.RELEASE.check(command.getRollback().getToVersion());
        }
      }
      case SET_FLAGS -> {
        Names.APP.check(command.getSetFlags().getApp());
        command.getSetFlags().getChangesMap().keySet().forEach(Names.FLAG::check);
      }
      default -> { }
    }
  }

  @Override
  public CommandResult.Builder execute(Command command) {
    try {
      checkNames(command);
    } catch (IllegalArgumentException e) {
      // The controller checks names too; a host never builds a path from one it did not check itself.
      log.warn("refused command {}: {}", command.getId(), e.getMessage());
      return CommandResult.newBuilder().setOk(false).setMessage("refused: " + e.getMessage());
    }
    switch (command.getKindCase()) {
      case DEPLOY -> {
        var d = command.getDeploy();
        worker.execute(() -> runJob(() -> lifecycle.deploy(d.getDeploymentId(), d.getApp(), d.getVersion(),
            d.getDigest(), d.getSize(), d.getUnpackedBytes(), d.getUnpackedEntries(), new ReleaseConfig(d.getEnvironment(), d.getVariablesMap(), d.getConfigDigest(),
                d.getInitialFlagsMap()), io.rackroll.release.HostFit.fromWire(d.getRequires()), d.getSignature()),
            d.getApp() + "@" + d.getVersion()));
        return CommandResult.newBuilder().setOk(true).setMessage("queued " + d.getApp() + "@" + d.getVersion());
      }
      case ROLLBACK -> {
        var r = command.getRollback();
        worker.execute(() -> runJob(() -> lifecycle.rollback(r.getDeploymentId(), r.getApp(), r.getToVersion(),
            r.getConfigDigest()),
            "rollback of " + r.getApp()));
        return CommandResult.newBuilder().setOk(true).setMessage("queued rollback of " + r.getApp());
      }
      case SET_FLAGS -> {
        var f = command.getSetFlags();
        worker.execute(() -> runJob(() -> f.getRevertOf().isEmpty()
            ? flags.set(f.getDeploymentId(), f.getApp(), f.getChangesMap())
            : flags.revert(f.getDeploymentId(), f.getApp(), f.getRevertOf()), "flag change of " + f.getApp()));
        return CommandResult.newBuilder().setOk(true).setMessage("queued flag change of " + f.getApp());
      }
      default -> {
        return CommandResult.newBuilder().setOk(false).setMessage("unsupported command " + command.getKindCase());
      }
    }
  }

  private interface JobRun {
    Object run() throws IOException, InterruptedException;
  }

  private void runJob(JobRun run, String what) {
    try {
      run.run();
    } catch (IOException | RuntimeException e) {
      log.error("{} failed: {}", what, e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public List<AgentMessage> stateReport() {
    List<AgentMessage> out = new ArrayList<>();
    try {
      for (Job job : lifecycle.releases().jobs()) {
        out.add(update(job));
      }
      for (Flags.Change change : flags.lastChanges()) {
        out.add(update(change));
      }
    } catch (IOException e) {
      log.warn("cannot read lifecycle state: {}", e.getMessage());
    }
    return out;
  }

  void reported(Job job) {
    try {
      reports.accept(update(job));
    } catch (IOException e) {
      log.warn("cannot report {}@{}: {}", job.app(), job.version(), e.getMessage());
    }
  }

  private AgentMessage update(Job job) throws IOException {
    return AgentMessage.newBuilder().setJob(JobUpdate.newBuilder()
        .setDeploymentId(job.deploymentId()).setApp(job.app()).setVersion(Releases.versionOf(job.version()))
        .setPhase(job.phase().wire().name()).setFailureKind(job.failureKind()).setFailure(job.failure())
        .setPreviousVersion(Releases.versionOf(job.previous())).setCurrentVersion(lifecycle.releases().currentVersion(job.app()).orElse(""))
        .addAllKeptVersions(lifecycle.releases().keptVersions(job.app())).setAtEpochMillis(job.updatedAtMillis())
        .setCurrentConfigDigest(lifecycle.releases().currentConfigDigest(job.app()))).build();
  }

  private static AgentMessage update(Flags.Change change) {
    return AgentMessage.newBuilder().setFlags(FlagsUpdate.newBuilder().setDeploymentId(change.deploymentId())
        .setApp(change.app()).setPhase(change.phase().wire().name()).setFailureKind(change.failureKind()).setFailure(change.failure())
        .putAllFlags(change.ended() && change.phase() != FlagPhase.ACTIVE ? change.before() : change.after())
        .setAtEpochMillis(change.atMillis())).build();
  }

  /**
   * Stops cleanly: no new job starts, the job under way finishes the step it is in (hooks and
   * health checks keep their own timeouts) and stops before the next one, which the restart runs.
   * Waits up to {@link #STOP_WAIT} for that, then interrupts.
   */
  @Override
  public void close() {
    probes.shutdownNow();
    lifecycle.stop();
    worker.shutdown();
    try {
      if (!worker.awaitTermination(STOP_WAIT.toSeconds(), TimeUnit.SECONDS)) {
        log.warn("the lifecycle did not stop within {}; interrupting it", STOP_WAIT);
        worker.shutdownNow();
        worker.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
