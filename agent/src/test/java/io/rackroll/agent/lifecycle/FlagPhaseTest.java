package io.rackroll.agent.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A flag change's phases: every move the table allows works, every other is refused; persisted and
 * reported by name, the install phases too.
 */
class FlagPhaseTest {
  @Test
  void everyPairOfPhasesIsAllowedExactlyWhenTheTableSaysSo() {
    for (FlagPhase from : FlagPhase.values()) {
      for (FlagPhase to : FlagPhase.values()) {
        if (from == to || from.next().contains(to)) {
          assertThatCode(() -> from.checkTransition(to)).as(from + " -> " + to).doesNotThrowAnyException();
        } else {
          assertThatThrownBy(() -> from.checkTransition(to)).as(from + " -> " + to)
              .hasMessage("flag change " + from + " -> " + to + " is not a legal move");
        }
      }
    }
  }

  @Test
  void eachPhaseIsReportedAsTheSharedLifecyclePhaseOfItsOwnName() {
    for (FlagPhase p : FlagPhase.values()) {
      assertThat(p.wire().name()).isEqualTo(p.name());
    }
    for (Phase p : Phase.values()) {
      assertThat(p.wire().name()).isEqualTo(p.name());
    }
  }

  @Test
  void aChangeIsPersistedWithItsPhaseByNameAsBefore() throws Exception {
    Flags.Change c = new Flags.Change("d-1", "web", FlagPhase.APPLYING, Map.of(), Map.of("a", "1"), "", "", 0);
    String json = new ObjectMapper().writeValueAsString(c);
    assertThat(json).contains("\"phase\":\"APPLYING\"");
    assertThat(new ObjectMapper().readValue(json, Flags.Change.class)).isEqualTo(c);
    assertThatThrownBy(() -> c.to(FlagPhase.ACTIVE, "", "", 1).to(FlagPhase.APPLYING, "", "", 2))
        .hasMessage("flag change ACTIVE -> APPLYING is not a legal move");
  }
}
