package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class JsonRecordsTest {
  enum Phase { DOWNLOADING, ACTIVE }

  record Inner(String name, List<String> tags) {}

  record State(String id, Phase phase, int entries, long at, boolean stopped, Map<String, String> vars, Inner inner) {}

  /** Checks a value the way a state record does, in its compact constructor. */
  record Checked(String id) {
    Checked {
      if (id == null || id.isEmpty()) {
        throw new IllegalArgumentException("id is empty");
      }
    }
  }

  private static final State STATE = new State("d-1", Phase.ACTIVE, 2, 1_796_000_000_000L, true,
      new TreeMap<>(Map.of("b", "2", "a", "é \"quoted\"\n\u0001")), new Inner("x", List.of("t1", "t2")));

  @Test
  void aRecordRoundTrips() throws Exception {
    assertThat(JsonRecords.read(JsonRecords.write(STATE), State.class)).isEqualTo(STATE);
    assertThat(JsonRecords.read(JsonRecords.writePretty(STATE), State.class)).isEqualTo(STATE);
  }

  /** The files agents wrote with Jackson's data binding read the same, and are written the same. */
  @Test
  void writesAndReadsWhatJacksonDataBindingDid() throws Exception {
    ObjectMapper jackson = new ObjectMapper();
    assertThat(new String(JsonRecords.write(STATE), StandardCharsets.UTF_8)).isEqualTo(jackson.writeValueAsString(STATE));
    assertThat(new String(JsonRecords.writePretty(STATE), StandardCharsets.UTF_8))
        .isEqualTo(jackson.writerWithDefaultPrettyPrinter().writeValueAsString(STATE));
    assertThat(JsonRecords.read(jackson.writeValueAsBytes(STATE), State.class)).isEqualTo(STATE);
    List<String> history = List.of("3", "2~ab12");
    assertThat(JsonRecords.writeStrings(history)).isEqualTo(jackson.writeValueAsBytes(history));
    assertThat(JsonRecords.readStrings(jackson.writeValueAsBytes(history))).isEqualTo(history);
  }

  @Test
  void whatAnOlderOrNewerAgentWroteStillReads() throws Exception {
    State old = JsonRecords.read("{\"id\":\"d-1\",\"phase\":\"ACTIVE\",\"retired\":{\"a\":[1,{}]},\"extra\":null}"
        .getBytes(StandardCharsets.UTF_8), State.class);
    assertThat(old).isEqualTo(new State("d-1", Phase.ACTIVE, 0, 0, false, null, null));
  }

  @Test
  void whatIsNotTheRecordIsRefusedByName() {
    assertThatThrownBy(() -> read("{\"id\":3}")).isInstanceOf(JsonRecords.Malformed.class)
        .hasMessage("not the JSON expected (line 1, column 8): id: expected a String, found 3");
    assertThatThrownBy(() -> read("{\"phase\":\"GONE\"}")).hasMessageEndingWith(
        "phase: \"GONE\" is not one of [DOWNLOADING, ACTIVE]");
    assertThatThrownBy(() -> read("{\"vars\":{\"a\":1}}")).hasMessageEndingWith("vars.a: expected a string");
    assertThatThrownBy(() -> read("{\"inner\":{\"tags\":[1]}}")).hasMessageEndingWith("tags: expected a list of strings");
    assertThatThrownBy(() -> read("[]")).hasMessageEndingWith("expected an object");
    assertThatThrownBy(() -> read("{\"id\":\"d\"} {}")).hasMessageEndingWith("more after the object");
    assertThatThrownBy(() -> read("{\"id\":\"d\"")).isInstanceOf(java.io.IOException.class);
    assertThatThrownBy(() -> read("")).hasMessageEndingWith("expected an object");
    assertThatThrownBy(() -> JsonRecords.read("{\"id\":\"\"}".getBytes(StandardCharsets.UTF_8), Checked.class))
        .isInstanceOf(JsonRecords.Malformed.class).hasMessageEndingWith("Checked: id is empty");
  }

  private static State read(String json) throws Exception {
    return JsonRecords.read(json.getBytes(StandardCharsets.UTF_8), State.class);
  }
}
