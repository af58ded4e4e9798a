package io.rackroll.controller.admin;

import io.grpc.stub.ServerCallStreamObserver;
import io.rackroll.controller.rollout.Rollouts;
import io.rackroll.controller.store.Deployment;
import io.rackroll.controller.store.DeploymentStore;
import io.rackroll.proto.v1.DeploymentRecord;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One admin following one deployment ({@code WatchDeployment}): the record now, then again
 * whenever the rollouts loop says it may have changed and it did, until it ends. Signals that come
 * while a send is pending fold into it, and nothing is sent while the stream is not ready, so a
 * slow reader gets the latest state, never a backlog.
 */
final class DeploymentFollower {
  private static final Logger log = LoggerFactory.getLogger(DeploymentFollower.class);

  private final String id;
  private final DeploymentStore store;
  private final Function<Deployment, DeploymentRecord> record;
  private final ServerCallStreamObserver<DeploymentRecord> out;
  private final Executor sender;
  private final AtomicBoolean pending = new AtomicBoolean();
  private volatile boolean done;
  private volatile AutoCloseable watch;
  /** Touched by the sender only (one task at a time per follower: {@link #pending}). */
  private DeploymentRecord last;

  DeploymentFollower(String id, DeploymentStore store, Function<Deployment, DeploymentRecord> record,
      ServerCallStreamObserver<DeploymentRecord> out, Executor sender) {
    this.id = id;
    this.store = store;
    this.record = record;
    this.out = out;
    this.sender = sender;
  }

  /** Starts following: sends the deployment as it is and every change after. */
  void start(Rollouts rollouts) {
    out.setOnCancelHandler(this::stop);
    out.setOnReadyHandler(this::signal);
    watch = rollouts.watch(id, this::signal);
    signal();
  }

  private void signal() {
    if (!done && pending.compareAndSet(false, true)) {
      sender.execute(this::send);
    }
  }

  private void send() {
    pending.set(false);
    if (done || !out.isReady()) {
      return; // the ready handler signals again
    }
    try {
      Deployment d = store.deployment(id).orElse(null);
      if (d == null) {
        stop();
        out.onCompleted();
        return;
      }
      DeploymentRecord now = record.apply(d);
      if (!now.equals(last)) {
        out.onNext(now);
        last = now;
      }
      if (d.ended()) {
        stop();
        out.onCompleted();
      }
    } catch (RuntimeException e) {
      log.warn("following deployment {} failed: {}", id, e.toString());
      stop();
      try {
        out.onError(io.grpc.Status.INTERNAL.withDescription("following deployment " + id + " failed: "
            + e.getMessage()).asRuntimeException());
      } catch (IllegalStateException alreadyClosed) {
        // the client went away
      }
    }
  }

  private void stop() {
    done = true;
    AutoCloseable w = watch;
    if (w != null) {
      try {
        w.close();
      } catch (Exception e) {
        log.debug("cannot stop watching {}: {}", id, e.toString());
      }
    }
  }
}
