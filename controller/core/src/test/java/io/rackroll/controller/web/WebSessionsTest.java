package io.rackroll.controller.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.rackroll.controller.testing.MutableClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Links and sessions on a clock the test moves: single use, lifetimes, idling, ending. */
class WebSessionsTest {
  private final MutableClock clock = MutableClock.startingNow();
  private final WebSessions sessions = new WebSessions(clock);

  @Test
  void aLinkOpensOneSessionForItsAdminOnceAndOnlyBeforeItExpires() {
    String link = sessions.link("alice").secret();
    WebSessions.Opened opened = sessions.redeem(link).orElseThrow();
    assertThat(opened.session().admin()).isEqualTo("alice");
    assertThat(opened.secret()).isNotEqualTo(link).hasSize(43);
    assertThat(opened.session().csrf()).isNotEqualTo(opened.secret()).hasSize(43);
    assertThat(sessions.redeem(link)).isEmpty();
    assertThat(sessions.session(opened.secret())).map(WebSessions.Session::admin).contains("alice");

    String late = sessions.link("alice").secret();
    clock.advance(WebSessions.LINK_LIFETIME);
    assertThat(sessions.redeem(late)).isEmpty();
    assertThat(sessions.redeem("")).isEmpty();
    assertThat(sessions.session("")).isEmpty();
  }

  @Test
  void aSessionEndsAfterAnHourUnusedOrTwelveHoursInAnyCase() {
    String idle = sessions.redeem(sessions.link("a").secret()).orElseThrow().secret();
    String busy = sessions.redeem(sessions.link("b").secret()).orElseThrow().secret();
    clock.advance(WebSessions.IDLE.minusMinutes(1));
    assertThat(sessions.session(busy)).isPresent();
    // An open page's stream asks whether its session is alive: that is not a use.
    assertThat(sessions.alive(idle)).isTrue();
    clock.advance(Duration.ofMinutes(1));
    assertThat(sessions.alive(idle)).isFalse();
    assertThat(sessions.session(idle)).isEmpty();

    // Used every 50 minutes, it still ends twelve hours after it opened.
    for (int i = 0; i < 14; i++) { // 60 + 14 × 50 minutes: past 12 hours
      clock.advance(Duration.ofMinutes(50));
      sessions.session(busy);
    }
    assertThat(sessions.session(busy)).isEmpty();
  }

  @Test
  void endingSessionsEndsOnesAdminsOrEveryones() {
    String a1 = sessions.redeem(sessions.link("a").secret()).orElseThrow().secret();
    String a2 = sessions.redeem(sessions.link("a").secret()).orElseThrow().secret();
    String b = sessions.redeem(sessions.link("b").secret()).orElseThrow().secret();
    assertThat(sessions.end(a1)).isTrue();
    assertThat(sessions.end(a1)).isFalse();
    assertThat(sessions.endAll("a")).isEqualTo(1);
    assertThat(sessions.session(a2)).isEmpty();
    assertThat(sessions.session(b)).isPresent();
    assertThat(sessions.endAll(null)).isEqualTo(1);
    assertThat(sessions.session(b)).isEmpty();
  }

  @Test
  void aLoopingScriptCannotFillTheControllersMemoryWithLinks() {
    for (int i = 0; i < WebSessions.MAX_LINKS; i++) {
      sessions.link("script");
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sessions.link("script"))
        .hasMessageContaining("sign-in links are waiting to be used");
    clock.advance(WebSessions.LINK_LIFETIME);
    assertThat(sessions.link("script").secret()).hasSize(43);
  }
}
