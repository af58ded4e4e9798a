package io.rackroll.controller.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The lease that decides which of several controller nodes on one PostgreSQL database leads, that
 * is runs the rollout engine, and the fencing epoch that keeps a node that lost it from changing a
 * deployment afterwards. Times are the database's, so the nodes' clocks need not agree.
 *
 * <p>A node takes the lease when it is free or has lapsed, which raises the epoch; renews it while
 * it leads; and, once {@link #fence fenced}, every deployment write it makes checks in its own
 * transaction that it still holds the lease of its epoch, so a node that paused past its lease, or
 * lost its database session, or was cut off, cannot write after another node took over. The check
 * takes a shared lock on the lease: a takeover waits for writes in flight, and writes after it see
 * the new epoch.
 */
public interface LeaseStore {
  /** Who holds the lease, of which epoch, until when. */
  record Holder(String node, long epoch, Instant expires) {}

  /**
   * Takes the lease for {@code node} for {@code ttl} if nobody holds it or its holder let it lapse,
   * raising the epoch; returns the new epoch, or empty while another node holds it.
   */
  OptionalLong acquire(String node, Duration ttl);

  /**
   * Extends {@code node}'s lease of {@code epoch} by {@code ttl} from now; false when it no longer
   * holds that epoch (another node took over), which a node must take as the end of its leading.
   */
  boolean renew(String node, long epoch, Duration ttl);

  /** Lets the lease go at once (a clean stop), so the next node need not wait for it to lapse. */
  void release(String node, long epoch);

  /** The lease as the database has it now. */
  Optional<Holder> holder();

  /**
   * From now on, every deployment write of this store checks that {@code node} holds the lease of
   * {@code epoch}, and fails with {@link Fenced} when it does not.
   */
  void fence(String node, long epoch);

  /** A write refused because its node no longer holds the lease of its epoch. */
  final class Fenced extends StoreException {
    public Fenced(String message) {
      super(message, null);
    }
  }
}
