package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsAndHostPortTest {
  @Test
  void readsEveryUnit() {
    assertThat(Durations.parse("x", "250ms")).isEqualTo(Duration.ofMillis(250));
    assertThat(Durations.parse("x", "10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(Durations.parse("x", "5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(Durations.parse("x", "2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("x", "90d")).isEqualTo(Duration.ofDays(90));
  }

  @Test
  void formatsWhatItReads() {
    for (String s : new String[] {"250ms", "10s", "5m", "2h", "90d", "0s", "1500ms"}) {
      assertThat(Durations.format(Durations.parse("x", s))).isEqualTo(s);
    }
  }

  @Test
  void errorNamesTheKeyAndTheExpectedForm() {
    assertThatThrownBy(() -> Durations.parse("staleAfter", "30"))
        .hasMessage("staleAfter: 30 (expected: a number and a unit: ms, s, m, h or d, e.g. 30s)");
    assertThatThrownBy(() -> Durations.parse("ttl", "1 week")).hasMessageStartingWith("ttl: 1 week");
  }

  @Test
  void hostPortParsesAndRefuses() {
    assertThat(HostPort.parse("x", "ctl.example:7443")).isEqualTo(new HostPort("ctl.example", 7443));
    assertThat(HostPort.parse("x", "[::1]:7443")).isEqualTo(new HostPort("::1", 7443));
    assertThat(new HostPort("::1", 1).toString()).isEqualTo("[::1]:1");
    assertThatThrownBy(() -> HostPort.parse("--controller", "ctl.example"))
        .hasMessageStartingWith("--controller: ctl.example (expected: HOST:PORT");
    assertThatThrownBy(() -> HostPort.parse("--controller", "ctl:99999"))
        .hasMessageContaining("port from 0 to 65535");
  }
}
