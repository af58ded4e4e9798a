package io.rackroll.release;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FlagValuesTest {
  @Test
  void valuesTypedOnTheCommandLineKeepTheirType() {
    assertThat(FlagValues.assignment("checkout.v2=true")).isEqualTo(Map.entry("checkout.v2", "true"));
    assertThat(FlagValues.assignment("rate=0.25")).isEqualTo(Map.entry("rate", "0.25"));
    assertThat(FlagValues.assignment("limit=-3")).isEqualTo(Map.entry("limit", "-3"));
    assertThat(FlagValues.assignment("color=blue")).isEqualTo(Map.entry("color", "\"blue\""));
    assertThat(FlagValues.assignment("label=\"true\"")).as("quotes make a string").isEqualTo(Map.entry("label", "\"true\""));
    assertThat(FlagValues.assignment("motto=a \"b\"=c")).isEqualTo(Map.entry("motto", "\"a \\\"b\\\"=c\""));
    assertThat(FlagValues.assignment("version=01")).as("not a JSON number").isEqualTo(Map.entry("version", "\"01\""));
  }

  @Test
  void badAssignmentsSayWhatIsExpected() {
    assertThatThrownBy(() -> FlagValues.assignment("checkout")).hasMessage(
        "flag \"checkout\": expected NAME=VALUE, e.g. checkout.v2=true");
    assertThatThrownBy(() -> FlagValues.assignment("=1")).hasMessageStartingWith("flag \"=1\": expected NAME=VALUE");
    assertThatThrownBy(() -> FlagValues.assignment("9lives=1")).hasMessage(
        "flag name \"9lives\": expected a letter, then letters, digits, '_', '.' or '-' (at most 128)");
  }

  @Test
  void changesMergeOverTheCurrentSetAndNullRemoves() {
    Map<String, String> current = Map.of("a", "true", "b", "\"x\"");
    Map<String, String> changes = Map.of("a", "false", "b", FlagValues.REMOVE, "c", "3");
    assertThat(FlagValues.merge(current, changes)).containsExactly(Map.entry("a", "false"), Map.entry("c", "3"));
    assertThat(FlagValues.holds(current, changes)).isFalse();
    assertThat(FlagValues.holds(current, Map.of("a", "true", "z", FlagValues.REMOVE))).isTrue();
  }

  @Test
  void jsonRoundTripsAndRefusesNesting() {
    Map<String, String> flags = Map.of("checkout.v2", "true", "rate", "0.25", "color", "\"blue\"");
    String json = FlagValues.toJson(flags);
    assertThat(json).isEqualTo("{\n  \"checkout.v2\" : true,\n  \"color\" : \"blue\",\n  \"rate\" : 0.25\n}\n");
    assertThat(FlagValues.fromJson(json)).isEqualTo(flags);
    assertThat(FlagValues.fromJson("{}")).isEmpty();
    assertThatThrownBy(() -> FlagValues.fromJson("{\"a\": {\"b\": 1}}")).hasMessage(
        "flag a: expected a boolean, number or string");
    assertThatThrownBy(() -> FlagValues.fromJson("[1]")).hasMessage("flags: expected a JSON object");
    assertThat(FlagValues.show(flags)).isEqualTo("checkout.v2=true color=\"blue\" rate=0.25");
  }

  @Test
  void aChangeThatRemovesAFlagRoundTripsButFlagsHoldNoNull() {
    Map<String, String> change = Map.of("checkout.v2", "true", "color", FlagValues.REMOVE);
    String json = FlagValues.toJson(change);
    assertThat(FlagValues.changesFromJson(json)).isEqualTo(change);
    assertThatThrownBy(() -> FlagValues.fromJson(json)).hasMessage("flag color: expected a boolean, number or string");
  }

  /** Values read as Jackson's tree model read them, before flags were read token by token. */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"1", "-0", "0.25", "1.50", "1e3", "-2.5E-3",
      "12345678901234567890", "1.0E400", "true", "false", "\"\"", "\"blue\"", "\"a/b\"", "\"tab\\there\"",
      "\"\\u0001\"", "\"\u00e9\"", "\"\\ud83d\\ude00\"", "\"\\\"q\\\"\""})
  void valuesReadAsTheTreeModelReadThem(String value) throws Exception {
    String tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(value).toString();
    assertThat(FlagValues.fromJson("{\"f\": " + value + "}")).containsExactly(Map.entry("f", tree));
    com.fasterxml.jackson.databind.node.ObjectNode o = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode();
    o.set("f", new com.fasterxml.jackson.databind.ObjectMapper().readTree(tree));
    assertThat(FlagValues.toJson(Map.of("f", tree))).isEqualTo(
        new com.fasterxml.jackson.databind.ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
  }

  @Test
  void brokenJsonIsNamed() {
    assertThatThrownBy(() -> FlagValues.fromJson("{\"a\": tru}")).hasMessageStartingWith("flags are not JSON: ");
    assertThatThrownBy(() -> FlagValues.fromJson("{\"a\": 1")).hasMessageStartingWith("flags are not JSON: ");
    assertThatThrownBy(() -> FlagValues.fromJson("{\"a\": 1} 2")).hasMessage("flags are not JSON: more after the object");
    assertThatThrownBy(() -> FlagValues.fromJson("")).hasMessage("flags: expected a JSON object");
    assertThatThrownBy(() -> FlagValues.toJson(Map.of("a", "[1]"))).hasMessage(
        "flag value is not JSON: a=[1] (expected: a boolean, number or string)");
    assertThatThrownBy(() -> FlagValues.toJson(Map.of("a", "1 2"))).hasMessage(
        "flag value is not JSON: a=1 2 (expected: one boolean, number or string)");
  }
}
