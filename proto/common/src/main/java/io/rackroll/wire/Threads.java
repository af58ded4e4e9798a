package io.rackroll.wire;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named executors, one per purpose, so a thread dump says who is doing what. */
public final class Threads {
  private Threads() {}

  /**
   * Runs {@code task} on {@code executor} unless it has been shut down, which during a stop is
   * expected (gRPC callbacks keep arriving while a service closes) and not worth an exception.
   * Returns whether the task was accepted.
   */
  public static boolean post(Executor executor, Runnable task) {
    try {
      executor.execute(task);
      return true;
    } catch (RejectedExecutionException stopping) {
      return false;
    }
  }

  /**
   * One daemon thread running tasks in submission order, with timers: the home of state that
   * only one thread may touch. Cancelled timers are removed at once, not left to expire.
   */
  public static ScheduledExecutorService serial(String name) {
    ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, daemons(name));
    executor.setRemoveOnCancelPolicy(true);
    return executor;
  }

  /** Daemon threads named {@code name-1}, {@code name-2}, ... (just {@code name} for the first of a serial one). */
  public static ThreadFactory daemons(String name) {
    AtomicInteger count = new AtomicInteger();
    return r -> {
      int n = count.incrementAndGet();
      Thread t = new Thread(r, n == 1 ? name : name + "-" + n);
      t.setDaemon(true);
      return t;
    };
  }
}
