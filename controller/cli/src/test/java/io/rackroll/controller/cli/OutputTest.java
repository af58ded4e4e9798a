package io.rackroll.controller.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.rackroll.proto.v1.AgentRecord;
import io.rackroll.proto.v1.AppState;
import io.rackroll.proto.v1.Facts;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one shape of {@code -o json|yaml}: README, "Output for scripts". */
class OutputTest {
  private static final AgentRecord AGENT = AgentRecord.newBuilder().setAgentId("ag-0123456789ab").putLabels("rack", "r1")
      .setState("connected").setLastSeenEpochMillis(1_796_000_000_123L)
      .setFacts(Facts.newBuilder().setMemoryBytes(68_719_476_736L).setBootTimeEpochSeconds(1_790_000_000L))
      .addApps(AppState.newBuilder().setApp("web").addKeptVersions("1").addKeptVersions("2").setHealth("true")
          .setPhase("null").setFailure("no"))
      .build();

  @Test
  void everyFieldWithTimesInIsoAndNumbersAsNumbers() throws Exception {
    JsonNode a = new ObjectMapper().readTree(print(Output.Format.json, AGENT));
    assertThat(a.path("agentId").asText()).isEqualTo("ag-0123456789ab");
    assertThat(a.path("labels").path("rack").asText()).isEqualTo("r1");
    assertThat(a.path("lastSeen").asText()).isEqualTo(java.time.Instant.ofEpochMilli(1_796_000_000_123L).toString());
    assertThat(a.has("lastSeenEpochMillis")).isFalse();
    assertThat(a.path("firstSeen").isNull()).as("a time never set").isTrue();
    assertThat(a.path("facts").path("memoryBytes").isNumber()).as("64-bit numbers are numbers").isTrue();
    assertThat(a.path("facts").path("memoryBytes").asLong()).isEqualTo(68_719_476_736L);
    assertThat(a.path("facts").path("bootTime").asText()).isEqualTo(java.time.Instant.ofEpochSecond(1_790_000_000L).toString());
    assertThat(a.path("facts").path("cpu").path("logicalCores").asInt(-1)).as("zeros are there").isZero();
    assertThat(a.path("warnings").isArray()).as("empty lists are there").isTrue();
    assertThat(a.path("apps").get(0).path("keptVersions")).hasSize(2);
  }

  @Test
  void yamlIsTheSameRecordAndAListIsAnArray() throws Exception {
    JsonNode json = new ObjectMapper().readTree(print(Output.Format.json, AGENT));
    JsonNode yaml = new ObjectMapper(new YAMLFactory()).readTree(print(Output.Format.yaml, AGENT));
    assertThat(yaml).isEqualTo(json);
    Output.Option o = new Output.Option();
    o.format = Output.Format.json;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    o.print(new PrintStream(out, true, StandardCharsets.UTF_8), List.of(AGENT, AGENT));
    assertThat(new ObjectMapper().readTree(out.toByteArray())).hasSize(2);
  }

  private static String print(Output.Format format, AgentRecord record) {
    Output.Option o = new Output.Option();
    o.format = format;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    o.print(new PrintStream(out, true, StandardCharsets.UTF_8), record);
    return out.toString(StandardCharsets.UTF_8);
  }
}
