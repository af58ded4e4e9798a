package io.rackroll.controller.env;

import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * When an environment may change: inside any of its windows (always, when it declares none) and
 * in none of its freezes. Pure arithmetic over instants, so every rule is tested with a fixed clock.
 */
public record Schedule(List<ChangeWindow> windows, List<Freeze> freezes, ZoneId zone) {
  public static final Schedule ALWAYS = new Schedule(List.of(), List.of(), ZoneId.of("UTC"));
  private static final DateTimeFormatter SHOWN = DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm zzz", Locale.ENGLISH);

  public Schedule {
    windows = List.copyOf(windows);
    freezes = List.copyOf(freezes);
  }

  /** Why changes are refused at {@code now}, and when they are next allowed. */
  public record Closed(String why, Instant opens) {}

  /** Empty when changes are allowed at {@code now}. */
  public Optional<Closed> closed(Instant now) {
    Instant opens = nextOpen(now);
    if (opens.equals(now)) {
      return Optional.empty();
    }
    Optional<Freeze> frozen = freezeAt(now);
    String why = frozen.map(f -> "frozen (" + f.reason() + ", " + f.text() + ")")
        .orElse("outside its change windows (" + windows.stream().map(ChangeWindow::toString)
            .collect(Collectors.joining("; ")) + ")");
    return Optional.of(new Closed(why, opens));
  }

  /** The first instant at or after {@code t} when changes are allowed. */
  public Instant nextOpen(Instant t) {
    // Each step moves past a freeze or to a window's next start, so this ends quickly; the bound
    // only guards against a file whose freezes cover every window for years.
    for (int i = 0; i < 10_000; i++) {
      Optional<Freeze> f = freezeAt(t);
      if (f.isPresent()) {
        t = f.get().to();
        continue;
      }
      Instant from = t;
      if (windows.isEmpty() || windows.stream().anyMatch(w -> w.containing(from).isPresent())) {
        return t;
      }
      t = windows.stream().map(w -> w.nextStart(from)).min(Instant::compareTo).orElseThrow();
    }
    return Instant.MAX;
  }

  /**
   * While changes are allowed at {@code now}: when they stop (a window's end, adjoining windows
   * joined, or a freeze's start); {@link Instant#MAX} when nothing ends them.
   */
  public Instant openUntil(Instant now) {
    Instant end = Instant.MAX;
    if (!windows.isEmpty()) {
      end = now;
      for (int i = 0; i < 64; i++) {
        Instant at = end;
        Optional<Instant> further = windows.stream().flatMap(w -> w.containing(at).stream())
            .map(ChangeWindow.Occurrence::end).max(Instant::compareTo);
        if (further.isEmpty()) {
          break;
        }
        end = further.get();
      }
    }
    for (Freeze f : freezes) {
      if (f.from().isAfter(now) && f.from().isBefore(end)) {
        end = f.from();
      }
    }
    return end;
  }

  private Optional<Freeze> freezeAt(Instant t) {
    return freezes.stream().filter(f -> f.contains(t)).max((a, b) -> a.to().compareTo(b.to()));
  }

  /** {@code t} in this schedule's zone, as messages show it. */
  public String show(Instant t) {
    return t.equals(Instant.MAX) ? "never" : SHOWN.format(t.atZone(zone));
  }
}
