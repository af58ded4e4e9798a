package io.rackroll.controller.env;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.TextStyle;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * When changes are allowed: on {@code days}, from {@code start} to {@code end} wall-clock time in
 * {@code zone}. An end at or before the start runs past midnight into the next day (a Friday
 * 22:00-02:00 window ends on Saturday); {@code endOfDay} is "24:00". Occurrences follow the wall
 * clock across daylight-saving changes: a start in a skipped hour moves to just after it.
 */
public record ChangeWindow(Set<DayOfWeek> days, LocalTime start, LocalTime end, boolean endOfDay, ZoneId zone) {

  public ChangeWindow {
    days = Set.copyOf(EnumSet.copyOf(days));
  }

  /** One occurrence of a window: from {@code start} (inclusive) to {@code end} (exclusive). */
  public record Occurrence(Instant start, Instant end) {
    boolean contains(Instant t) {
      return !t.isBefore(start) && t.isBefore(end);
    }
  }

  /** The occurrence that contains {@code t}, if any. */
  public Optional<Occurrence> containing(Instant t) {
    LocalDate today = t.atZone(zone).toLocalDate();
    for (LocalDate d : new LocalDate[] {today.minusDays(1), today}) {
      if (days.contains(d.getDayOfWeek())) {
        Occurrence o = occurrence(d);
        if (o.contains(t)) {
          return Optional.of(o);
        }
      }
    }
    return Optional.empty();
  }

  /** The first occurrence starting after {@code t}. */
  public Instant nextStart(Instant t) {
    LocalDate d = t.atZone(zone).toLocalDate();
    for (int i = 0; i <= 8; i++, d = d.plusDays(1)) {
      if (days.contains(d.getDayOfWeek())) {
        Instant s = occurrence(d).start();
        if (s.isAfter(t)) {
          return s;
        }
      }
    }
    throw new IllegalStateException("a window without days: " + this);
  }

  private Occurrence occurrence(LocalDate day) {
    Instant s = ZonedDateTime.of(day, start, zone).toInstant();
    boolean nextDay = endOfDay || !end.isAfter(start);
    Instant e = ZonedDateTime.of(nextDay ? day.plusDays(1) : day, endOfDay ? LocalTime.MIDNIGHT : end, zone).toInstant();
    return new Occurrence(s, e);
  }

  /** "mon-fri 09:00-17:00 Europe/Berlin", as the operator wrote it. */
  @Override
  public String toString() {
    return Days.format(days) + " " + start + "-" + (endOfDay ? "24:00" : end.toString()) + " " + zone.getId();
  }

  /** Day-of-week sets as operators write them: "mon-fri", "sat,sun", "daily". */
  static final class Days {
    private Days() {}

    static Set<DayOfWeek> parse(String text) {
      String t = text.trim().toLowerCase(Locale.ROOT);
      if (t.equals("daily") || t.equals("every day")) {
        return EnumSet.allOf(DayOfWeek.class);
      }
      EnumSet<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
      for (String part : t.split("\\s*,\\s*")) {
        String[] range = part.split("\\s*-\\s*", -1);
        if (range.length == 1) {
          days.add(day(range[0]));
        } else if (range.length == 2) {
          DayOfWeek from = day(range[0]);
          DayOfWeek to = day(range[1]);
          for (DayOfWeek d = from; ; d = d.plus(1)) {
            days.add(d);
            if (d == to) {
              break;
            }
          }
        } else {
          throw new IllegalArgumentException("expected days like mon-fri or sat,sun, got \"" + text + "\"");
        }
      }
      return days;
    }

    private static DayOfWeek day(String name) {
      for (DayOfWeek d : DayOfWeek.values()) {
        String full = d.getDisplayName(TextStyle.FULL, Locale.ENGLISH).toLowerCase(Locale.ROOT);
        if (!name.isEmpty() && name.length() >= 3 && full.startsWith(name)) {
          return d;
        }
      }
      throw new IllegalArgumentException("unknown day \"" + name + "\" (expected mon, tue, wed, thu, fri, sat, sun)");
    }

    static String format(Set<DayOfWeek> days) {
      if (days.size() == 7) {
        return "daily";
      }
      StringBuilder b = new StringBuilder();
      for (DayOfWeek d : EnumSet.copyOf(days)) {
        b.append(b.length() == 0 ? "" : ",").append(d.getDisplayName(TextStyle.SHORT, Locale.ENGLISH)
            .toLowerCase(Locale.ROOT));
      }
      return b.toString();
    }
  }
}
