package io.rackroll.controller.store;

/**
 * Group commit: what one thread writes while it handles a burst of events, joined into one
 * transaction. A thread that drains a queue of agent reports pays one commit (one fsync) for the
 * burst instead of one per report, and what it does in answer to them (commands sent to hosts)
 * waits for that commit, so nothing acted on is ever missing from the store.
 */
public interface Commits {
  /**
   * Runs {@code work} with every store call this thread makes in it joined into one transaction,
   * each call still all or nothing (a savepoint), committed once when {@code work} returns; then
   * runs what {@link #afterCommit} deferred, in order. If the commit fails, nothing of it is kept
   * and the deferred actions are dropped: the exception says so, and the caller must forget what
   * it believed it had written. Inside grouped work, runs {@code work} as part of it.
   */
  void grouped(Runnable work);

  /** Runs {@code action} once what this thread wrote is committed: at once outside grouped work. */
  void afterCommit(Runnable action);

  /** No grouping: every call its own transaction, every action at once. */
  Commits NONE = new Commits() {
    @Override
    public void grouped(Runnable work) {
      work.run();
    }

    @Override
    public void afterCommit(Runnable action) {
      action.run();
    }
  };
}
