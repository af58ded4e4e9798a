package io.rackroll.controller.cli;

import io.rackroll.controller.store.HostPhase;
import io.rackroll.proto.v1.DeploymentHost;
import io.rackroll.proto.v1.DeploymentRecord;
import io.rackroll.wire.Durations;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A deployment drawn in place on a terminal: a title with its state in colour, the progress bar
 * with hosts done, the failure budget and the health gate's time left, then each batch as a line
 * with its hosts by phase, and the hosts that failed. The block is drawn again on every change,
 * and every second while a gate counts down. The ANSI sequences it uses (colours, cursor up, erase
 * below) are those every terminal emulator in use understands.
 */
final class LiveView implements DeploymentWatch.Screen {
  private static final String RESET = "\033[0m";
  private static final String BOLD = "\033[1m";
  private static final String DIM = "\033[2m";
  private static final String RED = "\033[31m";
  private static final String GREEN = "\033[32m";
  private static final String YELLOW = "\033[33m";
  /** Batches shown one per line at most; beyond, the finished ones fold into one line. */
  static final int MAX_BATCH_LINES = 12;
  /** Failed hosts listed at most. */
  static final int MAX_FAILED_LINES = 8;
  private static final Set<String> FAILED_STATES = Set.of("failed", "rolled_back", "rollback_failed", "aborted",
      "halting", "rolling_back", "aborting");
  private static final Set<String> WAITING_STATES = Set.of("awaiting_approval", "paused", "waiting_window");

  private final PrintStream out;
  private final ScheduledExecutorService ticker = io.rackroll.wire.Threads.serial("watch-countdown");
  /** Guarded by this: the record shown, and how many lines the last drawing took. */
  private DeploymentRecord last;
  private int drawn;
  private boolean closed;

  LiveView(PrintStream out) {
    this.out = out;
    ticker.scheduleWithFixedDelay(this::tick, 1, 1, TimeUnit.SECONDS);
  }

  /**
   * Whether to draw in place: on a terminal (stdin and stdout both one, as {@link System#console()}
   * tells), unless {@code NO_COLOR} is set (no-color.org) or the terminal is dumb.
   */
  static boolean wanted(Map<String, String> env) {
    return System.console() != null && !env.containsKey("NO_COLOR") && !"dumb".equals(env.getOrDefault("TERM", ""));
  }

  @Override
  public PrintStream out() {
    return out;
  }

  @Override
  public synchronized void show(DeploymentRecord d) {
    last = d;
    draw();
  }

  private synchronized void tick() {
    if (last != null && gateEnds(last).isPresent()) {
      draw();
    }
  }

  private void draw() {
    if (closed) {
      return;
    }
    StringBuilder b = new StringBuilder();
    if (drawn > 0) {
      b.append("\033[").append(drawn).append('F'); // to the start of the block drawn before
    }
    b.append("\033[J"); // and erase it
    List<String> lines = lines(last, Instant.now());
    for (String line : lines) {
      b.append(line).append(RESET).append('\n');
    }
    out.print(b);
    out.flush();
    drawn = lines.size();
  }

  @Override
  public synchronized void close() {
    closed = true;
    ticker.shutdownNow();
  }

  /** The block for {@code d} at {@code now}: what the terminal shows. */
  static List<String> lines(DeploymentRecord d, Instant now) {
    List<String> lines = new ArrayList<>();
    lines.add(BOLD + d.getKind() + " " + d.getId() + RESET + "  " + DeploymentWatch.what(d)
        + (d.getEnvironment().isEmpty() ? "" : " in " + d.getEnvironment()) + "  " + DIM + "selector \""
        + d.getSelector() + "\"" + RESET + "  " + colour(d.getState()) + BOLD + d.getState() + RESET);
    long planned = d.getHostsList().stream().filter(h -> h.getBatch() >= 0).count();
    long done = d.getHostsList().stream().filter(h -> h.getBatch() >= 0 && done(h)).count();
    int width = 30;
    int filled = planned == 0 ? width : (int) (width * done / planned);
    String budget = "failures " + d.getFailures() + " of " + d.getAllowedFailures() + " allowed";
    String gate = gateEnds(d).map(end -> "  health gate " + BOLD + Math.max(0, Duration.between(now, end).toSeconds()
        + (Duration.between(now, end).toMillis() % 1000 > 0 ? 1 : 0)) + " s" + RESET + " left").orElse("");
    lines.add(GREEN + "━".repeat(filled) + DIM + "━".repeat(width - filled) + RESET + " " + done + "/" + planned
        + " hosts done  " + (d.getFailures() > d.getAllowedFailures() ? RED : d.getFailures() > 0 ? YELLOW : "") + budget
        + RESET + gate);
    if (!d.getReason().isEmpty()) {
      lines.add(DIM + d.getReason() + RESET);
    }
    // Each batch: its hosts by phase. Many batches: the finished ones before the current fold.
    Map<Integer, Map<String, Integer>> batches = new TreeMap<>();
    for (DeploymentHost h : d.getHostsList()) {
      if (h.getBatch() >= 0) {
        batches.computeIfAbsent(h.getBatch(), k -> new TreeMap<>()).merge(h.getPhase(), 1, Integer::sum);
      }
    }
    int folded = batches.size() > MAX_BATCH_LINES ? Math.max(0, d.getBatch() - 1) : 0;
    if (folded > 0) {
      lines.add(DIM + "batches 1-" + folded + " done" + RESET);
    }
    int shown = 0;
    for (Map.Entry<Integer, Map<String, Integer>> batch : batches.entrySet()) {
      if (batch.getKey() < folded) {
        continue;
      }
      if (shown == MAX_BATCH_LINES - 1 && batches.size() - folded > MAX_BATCH_LINES) {
        lines.add(DIM + "… " + (batches.size() - folded - shown) + " more batches" + RESET);
        break;
      }
      int n = batch.getKey();
      boolean finished = d.getHostsList().stream().filter(h -> h.getBatch() == n).allMatch(LiveView::done);
      String marker = n == d.getBatch() && !DeploymentWatch.ended(d) ? YELLOW + "▶" : finished ? GREEN + "✓" : " ";
      StringBuilder phases = new StringBuilder();
      batch.getValue().forEach((phase, count) -> phases.append(phases.length() == 0 ? "" : ", ")
          .append(phaseColour(phase)).append(count).append(' ').append(phase).append(RESET));
      lines.add(marker + RESET + " batch " + (n + 1) + "  " + phases);
      shown++;
    }
    List<String> failed = d.getHostsList().stream()
        .filter(h -> HostPhase.named(h.getPhase()).map(HostPhase::failure).orElse(false))
        .map(h -> RED + DeploymentWatch.line(h, 1).strip() + RESET).toList();
    lines.addAll(failed.subList(0, Math.min(failed.size(), MAX_FAILED_LINES)));
    if (failed.size() > MAX_FAILED_LINES) {
      lines.add(DIM + "… " + (failed.size() - MAX_FAILED_LINES) + " more failed hosts (rackroll deployment show "
          + d.getId() + ")" + RESET);
    }
    return lines;
  }

  /**
   * When the health gate of the running batch ends: once its hosts are all active, the gate
   * ({@code healthGate}) after the last of them became so. Empty when no gate is counting.
   */
  static java.util.Optional<Instant> gateEnds(DeploymentRecord d) {
    if (!d.getState().equals("running")) {
      return java.util.Optional.empty();
    }
    List<DeploymentHost> batch = d.getHostsList().stream().filter(h -> h.getBatch() == d.getBatch()).toList();
    String gate = d.getOptionsMap().getOrDefault("healthGate", "");
    if (batch.isEmpty() || gate.isEmpty() || !batch.stream().allMatch(h -> h.getPhase().equals("ACTIVE"))) {
      return java.util.Optional.empty();
    }
    Duration length;
    try {
      length = Durations.parse("healthGate", gate);
    } catch (IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
    if (length.isZero()) {
      return java.util.Optional.empty();
    }
    long lastActive = batch.stream().mapToLong(DeploymentHost::getUpdatedEpochMillis).max().orElse(0);
    return java.util.Optional.of(Instant.ofEpochMilli(lastActive).plus(length));
  }

  private static boolean done(DeploymentHost h) {
    return HostPhase.named(h.getPhase()).map(HostPhase::done).orElse(false);
  }

  private static String colour(String state) {
    return state.equals("completed") || state.equals("running") ? GREEN
        : FAILED_STATES.contains(state) ? RED : WAITING_STATES.contains(state) ? YELLOW : "";
  }

  private static String phaseColour(String phase) {
    if (phase.equals("ACTIVE")) {
      return GREEN;
    }
    return HostPhase.named(phase).map(p -> p.failure() ? RED : p == HostPhase.PENDING ? DIM : YELLOW).orElse("");
  }
}
