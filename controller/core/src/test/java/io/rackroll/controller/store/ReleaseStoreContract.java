package io.rackroll.controller.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** What every backend's {@code ReleaseStore} must do: releases and who may fetch them. */
abstract class ReleaseStoreContract extends StoreContract {
  @Test
  void releasesAreImmutableAndTheFirstPushWins() {
    String app = id("app");
    StoredRelease first = new StoredRelease(app, "1.0.0", "a".repeat(64), 10, 20, 2, "name: x", "admin", T0);
    assertThat(store().releases().addRelease(first)).isEqualTo(first);
    StoredRelease other = new StoredRelease(app, "1.0.0", "b".repeat(64), 11, 21, 3, "name: y", "bob", T0.plusSeconds(5));
    assertThat(store().releases().addRelease(other)).as("the existing release is returned, unchanged").isEqualTo(first);
    assertThat(store().releases().release(app, "1.0.0")).contains(first);
    assertThat(store().releases().release(app, "9.9.9")).isEmpty();
  }

  @Test
  void racingPushesOfOneVersionAgreeOnOneWinner() throws Exception {
    String app = id("app");
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Callable<StoredRelease>> racers = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String digest = Integer.toHexString(i).repeat(64).substring(0, 64);
        racers.add(() -> store().releases().addRelease(new StoredRelease(app, "1", digest, 1, 1, 1, "m", "admin", T0)));
      }
      java.util.Set<String> winners = new java.util.HashSet<>();
      for (Future<StoredRelease> f : pool.invokeAll(racers)) {
        winners.add(f.get().digest());
      }
      assertThat(winners).hasSize(1);
      assertThat(store().releases().release(app, "1").orElseThrow().digest()).isEqualTo(winners.iterator().next());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void listsReleasesNewestFirstAndByName() {
    String app = id("app");
    store().releases().addRelease(new StoredRelease(app, "1", "c".repeat(64), 1, 1, 1, "m", "admin", T0));
    store().releases().addRelease(new StoredRelease(app, "2", "d".repeat(64), 1, 1, 1, "m", "admin", T0.plusSeconds(60)));
    store().releases().addRelease(new StoredRelease(app + "x", "1", "e".repeat(64), 1, 1, 1, "m", "admin", T0));
    assertThat(store().releases().list(app)).extracting(StoredRelease::version).containsExactly("2", "1");
    assertThat(store().releases().list("")).extracting(StoredRelease::name).contains(app, app + "x");
  }

  @Test
  void agentsMayFetchOnlyArtifactsADeploymentChoseThemFor() {
    String app = id("app");
    String chosen = id("ag-");
    String digest = id("f").repeat(8).substring(0, 64);
    store().releases().addRelease(new StoredRelease(app, "2", digest, 1, 1, 1, "m", "admin", T0));
    store().deployments().createDeployment(deployment(id("d-"), app, List.of(host(chosen, "r1", 0, ""))));
    assertThat(store().releases().agentMayFetch(chosen, digest)).isTrue();
    assertThat(store().releases().agentMayFetch(id("ag-"), digest)).isFalse();
    assertThat(store().releases().agentMayFetch(chosen, "0".repeat(64))).isFalse();
  }
}
