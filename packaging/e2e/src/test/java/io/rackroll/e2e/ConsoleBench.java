package io.rackroll.e2e;

import static io.rackroll.e2e.Fleet.ok;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console's fleet page at fleet scale (bench/README.md, "The web console"): a controller,
 * {@code rackroll simulate} with N agents (default 5,000) in 10 racks, and headless Chromium.
 * Prints the fleet view's size on the wire, the time from opening the page to every host drawn,
 * and, when every agent drops at once (the simulator SIGKILLed), how long until the page shows
 * them all disconnected, how many messages that took, and how long the page's main thread was
 * busy in tasks over 50 ms. Measures; asserts no time.
 */
@Tag("bench")
class ConsoleBench {
  @TempDir Path dir;

  @Test
  void theFleetPageAtFleetScale() throws Exception {
    int agents = Integer.parseInt(System.getProperty("bench.agents", "5000"));
    try (Fleet fleet = Fleet.start(dir, "heartbeatInterval: 10s\nstaleAfter: 30s\nweb: 127.0.0.1:0", List.of("-Xmx1g"));
        Console console = Console.open(fleet, dir.resolve("browser"))) {
      fleet.simulate(agents, 10, "--step-time", "0s");
      console.signIn(ok(fleet.rackroll("web", "login")).out().strip());
      console.go("audit"); // away from the fleet page, to time its opening

      // Opening the fleet page: the view fetched, every cell drawn (timed in the page).
      @SuppressWarnings("unchecked")
      Map<String, Object> opened = (Map<String, Object>) console.script("""
          const done = arguments[arguments.length - 1];
          const n = arguments[0];
          const t0 = performance.now();
          location.hash = '#fleet';
          (function drawn() {
            if (document.querySelectorAll('.cell[data-id]').length >= n) {
              fetch('/api/fleet').then(r => r.text()).then(body => done({
                ms: performance.now() - t0, bytes: body.length,
                heap: performance.memory ? performance.memory.usedJSHeapSize : -1 }));
            } else {
              requestAnimationFrame(drawn);
            }
          })();""", agents);
      System.out.printf("N=%d: fleet view %.0f KiB; page open to every host drawn %.0f ms; JS heap %.1f MiB%n",
          agents, ((Number) opened.get("bytes")).doubleValue() / 1024, ((Number) opened.get("ms")).doubleValue(),
          ((Number) opened.get("heap")).doubleValue() / (1 << 20));

      // Every agent drops at once: count the messages and the main thread's long tasks until the
      // page shows them all disconnected.
      console.script("""
          const done = arguments[arguments.length - 1];
          window.bench = { messages: 0, longTasks: 0, longest: 0 };
          for (const type of ['fleet', 'deployments', 'audit']) S.events.addEventListener(type, () => window.bench.messages++);
          new PerformanceObserver(list => list.getEntries().forEach(e => {
            window.bench.longTasks += e.duration; window.bench.longest = Math.max(window.bench.longest, e.duration);
          })).observe({ type: 'longtask' });
          done();""");
      long killed = System.nanoTime();
      fleet.killSimulator();
      @SuppressWarnings("unchecked")
      Map<String, Object> storm = (Map<String, Object>) console.script("""
          const done = arguments[arguments.length - 1];
          const n = arguments[0];
          (function shown() {
            if (document.querySelectorAll('.cell.s-disconnected').length >= n) done(window.bench);
            else setTimeout(shown, 50);
          })();""", agents);
      double seconds = (System.nanoTime() - killed) / 1e9;
      System.out.printf("N=%d: all dropped: page shows every host disconnected %.1f s after the kill, in %s"
          + " messages; main thread busy in long tasks %.0f ms (longest %.0f ms)%n", agents, seconds,
          storm.get("messages"), ((Number) storm.get("longTasks")).doubleValue(),
          ((Number) storm.get("longest")).doubleValue());
    }
  }
}
