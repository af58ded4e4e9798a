package io.rackroll.controller.env;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import org.junit.jupiter.api.Test;

/** Window arithmetic: across midnight, across daylight-saving changes, in several time zones, with freezes. */
class ScheduleTest {
  private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  private static final ZoneId NEW_YORK = ZoneId.of("America/New_York");

  private static Schedule schedule(String yaml) {
    return EnvironmentsFile.parse("environments:\n  production:\n    selector: env=prod\n" + yaml.indent(4), "test.yaml",
        1, "admin", Instant.EPOCH).get("production").orElseThrow().schedule();
  }

  private static Instant at(String local, ZoneId zone) {
    return LocalDateTime.parse(local).atZone(zone).toInstant();
  }

  @Test
  void aWindowPastMidnightBelongsToTheDayItStarts() {
    // Friday night 22:00 to Saturday 02:00, Berlin time.
    Schedule s = schedule("timezone: Europe/Berlin\nwindows:\n  - {days: fri, start: \"22:00\", end: \"02:00\"}");
    assertThat(s.closed(at("2026-11-27T22:00", BERLIN))).isEmpty(); // Friday
    assertThat(s.closed(at("2026-11-28T01:59", BERLIN))).isEmpty(); // early Saturday: still Friday's window
    assertThat(s.openUntil(at("2026-11-27T23:00", BERLIN))).isEqualTo(at("2026-11-28T02:00", BERLIN));
    Schedule.Closed closed = s.closed(at("2026-11-28T02:00", BERLIN)).orElseThrow();
    assertThat(closed.opens()).isEqualTo(at("2026-12-04T22:00", BERLIN));
    assertThat(closed.why()).contains("outside its change windows (fri 22:00-02:00 Europe/Berlin)");
    // Early Friday morning is not in it: Thursday is not a window day.
    assertThat(s.closed(at("2026-11-27T01:00", BERLIN))).isPresent();
  }

  @Test
  void aStartInTheSkippedHourMovesToJustAfterIt() {
    // Berlin springs forward on 2026-03-29: 02:00 becomes 03:00, so 02:30 does not exist that day.
    Schedule s = schedule("windows:\n  - {days: daily, start: \"02:30\", end: \"04:00\", zone: Europe/Berlin}");
    assertThat(s.closed(at("2026-03-29T03:15", BERLIN))).isPresent();
    assertThat(s.nextOpen(at("2026-03-29T03:15", BERLIN))).isEqualTo(at("2026-03-29T03:30", BERLIN));
    assertThat(s.openUntil(at("2026-03-29T03:30", BERLIN))).isEqualTo(at("2026-03-29T04:00", BERLIN));
    // The day before and after, the window is the full hour and a half.
    assertThat(Duration.between(at("2026-03-28T02:30", BERLIN), s.openUntil(at("2026-03-28T02:30", BERLIN))))
        .isEqualTo(Duration.ofMinutes(90));
  }

  @Test
  void aWindowOverTheRepeatedHourLastsAnHourLonger() {
    // Berlin falls back on 2026-10-25: 03:00 CEST becomes 02:00 CET; 01:00-04:00 wall time is four real hours.
    Schedule s = schedule("timezone: Europe/Berlin\nwindows:\n  - {days: sun, start: \"01:00\", end: \"04:00\"}");
    Instant start = at("2026-10-25T01:00", BERLIN);
    assertThat(s.closed(start)).isEmpty();
    assertThat(Duration.between(start, s.openUntil(start))).isEqualTo(Duration.ofHours(4));
  }

  @Test
  void windowsAreInTheirOwnZoneWhateverTheControllersClock() {
    Schedule s = schedule("windows:\n  - {days: mon-fri, start: \"09:00\", end: \"17:00\", zone: America/New_York}");
    Instant noonUtc = Instant.parse("2026-11-23T12:00:00Z"); // Monday, 07:00 in New York
    assertThat(s.closed(noonUtc)).map(Schedule.Closed::opens).contains(at("2026-11-23T09:00", NEW_YORK));
    assertThat(s.closed(Instant.parse("2026-11-23T15:00:00Z"))).isEmpty(); // 10:00 in New York
    // Friday 17:00 New York: the next window is Monday's.
    assertThat(s.nextOpen(at("2026-11-27T17:00", NEW_YORK))).isEqualTo(at("2026-11-30T09:00", NEW_YORK));
  }

  @Test
  void adjoiningWindowsAreOneStretchAndAFreezeCutsIt() {
    Schedule s = schedule("timezone: Europe/Berlin\nwindows:\n"
        + "  - {days: mon, start: \"20:00\", end: \"24:00\"}\n"
        + "  - {days: tue, start: \"00:00\", end: \"06:00\"}\n"
        + "freezes:\n  - {from: \"2026-12-01T03:00\", to: \"2026-12-01T05:00\", reason: core switch upgrade}");
    assertThat(s.openUntil(at("2026-11-23T21:00", BERLIN))).isEqualTo(at("2026-11-24T06:00", BERLIN));
    // The week of the freeze: open until it starts, closed during it, open again after it.
    assertThat(s.openUntil(at("2026-11-30T21:00", BERLIN))).isEqualTo(at("2026-12-01T03:00", BERLIN));
    Schedule.Closed frozen = s.closed(at("2026-12-01T04:00", BERLIN)).orElseThrow();
    assertThat(frozen.why()).isEqualTo("frozen (core switch upgrade, 2026-12-01T03:00 to 2026-12-01T05:00 Europe/Berlin)");
    assertThat(frozen.opens()).isEqualTo(at("2026-12-01T05:00", BERLIN));
  }

  @Test
  void aFreezeOfWholeDaysEndsAtTheNextWindowAfterIt() {
    Schedule s = schedule("timezone: Europe/Berlin\nwindows:\n  - {days: mon-fri, start: \"09:00\", end: \"17:00\"}\n"
        + "freezes:\n  - {from: 2026-12-21, to: 2027-01-01, reason: year-end}");
    // A date in "to" is the whole day: the freeze holds through Friday 1 January, so Monday's window is next.
    Schedule.Closed c = s.closed(at("2026-12-22T10:00", BERLIN)).orElseThrow();
    assertThat(c.why()).startsWith("frozen (year-end");
    assertThat(c.opens()).isEqualTo(at("2027-01-04T09:00", BERLIN)); // the Monday after
  }

  @Test
  void noWindowsMeansAlwaysOpenButFreezesStillHold() {
    Schedule s = schedule("freezes:\n  - {from: 2026-12-24, to: 2026-12-26, reason: holidays}");
    assertThat(s.closed(Instant.parse("2026-12-23T23:59:59Z"))).isEmpty();
    assertThat(s.openUntil(Instant.parse("2026-12-23T12:00:00Z"))).isEqualTo(Instant.parse("2026-12-24T00:00:00Z"));
    assertThat(s.closed(Instant.parse("2026-12-25T12:00:00Z"))).map(Schedule.Closed::opens)
        .contains(Instant.parse("2026-12-27T00:00:00Z"));
    assertThat(Schedule.ALWAYS.openUntil(Instant.EPOCH)).isEqualTo(Instant.MAX);
  }

  @Test
  void timesAreShownInTheEnvironmentsZone() {
    Schedule s = schedule("timezone: Europe/Berlin");
    assertThat(s.show(at("2026-11-24T09:00", BERLIN))).isEqualTo("Tue 2026-11-24 09:00 CET");
  }
}
