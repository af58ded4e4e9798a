package io.rackroll.controller.testing;

import io.rackroll.controller.store.AgentStore;
import io.rackroll.controller.store.Store;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real store with a gate on the hello path: while closed, looking up an agent on the
 * controller's events thread waits. Lets a test hold an admission open for as long as it likes,
 * to see what the controller does with the hellos that arrive meanwhile.
 */
public final class GatedStore {
  private final Store store;
  private volatile CountDownLatch gate = new CountDownLatch(0);
  public final CountDownLatch waiting = new CountDownLatch(1);

  public GatedStore(Store real) {
    AgentStore agents = real.agents();
    this.store = real.withAgents((AgentStore) Proxy.newProxyInstance(AgentStore.class.getClassLoader(),
        new Class<?>[] {AgentStore.class}, (proxy, method, args) -> {
          if (method.getName().equals("agent") && Thread.currentThread().getName().equals("fleet-events")) {
            awaitGate();
          }
          try {
            return method.invoke(agents, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        }));
  }

  /** The store to give the controller. */
  public Store store() {
    return store;
  }

  public void close(boolean closed) {
    if (closed) {
      gate = new CountDownLatch(1);
    } else {
      gate.countDown();
    }
  }

  private void awaitGate() {
    if (gate.getCount() == 0) {
      return;
    }
    waiting.countDown();
    try {
      gate.await(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
