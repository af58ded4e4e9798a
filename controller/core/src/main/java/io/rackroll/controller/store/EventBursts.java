package io.rackroll.controller.store;

import io.rackroll.wire.Threads;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events handled in the order posted on one thread, in bursts: the events queued when the thread
 * gets to them, up to {@link #BURST}, with what they write to the store in one transaction and
 * what they do in answer deferred to its commit ({@link Commits}). A fleet's reports come in bursts
 * (a batch of hosts moving together, a fleet reconnecting); this pays one commit for each burst.
 */
public final class EventBursts {
  private static final Logger log = LoggerFactory.getLogger(EventBursts.class);
  /** Events in one transaction at most: a burst holds the store's write lock briefly. */
  static final int BURST = 256;

  private final String name;
  private final Executor thread;
  private final Commits commits;
  private final Consumer<RuntimeException> lost;
  private final ConcurrentLinkedQueue<Runnable> queued = new ConcurrentLinkedQueue<>();
  /** Whether a drain is scheduled and has not started yet. */
  private final AtomicBoolean scheduled = new AtomicBoolean();

  /**
   * @param name what the events are, for the log ("fleet event")
   * @param thread the one thread that runs them
   * @param lost told, on that thread, when a burst's transaction failed: nothing it wrote is kept,
   *     nothing it deferred was done, and what its events changed in memory must be read again
   */
  public EventBursts(String name, Executor thread, Commits commits, Consumer<RuntimeException> lost) {
    this.name = name;
    this.thread = thread;
    this.commits = commits;
    this.lost = lost;
  }

  /** Queues {@code event}; false when the thread no longer takes work (the controller is stopping). */
  public boolean post(Runnable event) {
    queued.add(event);
    if (!scheduled.compareAndSet(false, true)) {
      return true; // the drain already scheduled will take it
    }
    if (Threads.post(thread, this::drain)) {
      return true;
    }
    scheduled.set(false);
    return false;
  }

  private void drain() {
    scheduled.set(false); // first: an event queued from now on schedules the next drain
    try {
      commits.grouped(() -> {
        for (int i = 0; i < BURST; i++) {
          Runnable event = queued.poll();
          if (event == null) {
            return;
          }
          try {
            event.run();
          } catch (RuntimeException e) {
            log.error("{} failed: {}", name, e.getMessage(), e);
          }
        }
      });
    } catch (RuntimeException e) {
      log.error("cannot record a burst of {}s in the store: {}", name, e.getMessage(), e);
      lost.accept(e);
    }
    if (!queued.isEmpty() && scheduled.compareAndSet(false, true)) {
      Threads.post(thread, this::drain);
    }
  }
}
