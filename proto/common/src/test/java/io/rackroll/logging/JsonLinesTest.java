package io.rackroll.logging;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;
import org.slf4j.event.KeyValuePair;

class JsonLinesTest {
  private final LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
  private final Logger logger = context.getLogger("io.rackroll.controller.rollout.Rollouts");

  private JsonNode layout(Map<String, String> fields, LoggingEvent event) throws Exception {
    JsonLines layout = new JsonLines(fields);
    layout.setContext(context);
    layout.start();
    String line = layout.doLayout(event);
    assertThat(line).endsWith("}\n").doesNotContain("\n{").hasLineCount(1);
    return new ObjectMapper().readTree(line);
  }

  @Test
  void oneFlatObjectWithTheIdsAsFields() throws Exception {
    LoggingEvent event = new LoggingEvent("x", logger, Level.WARN, "deployment {}: host {} FAILED: {}", null,
        new Object[] {"d-1", "ag-7", "health check \"http\" failed\nline 2\ttab \\ end"});
    event.addKeyValuePair(new KeyValuePair(ServiceLogging.DEPLOYMENT, "d-1"));
    event.addKeyValuePair(new KeyValuePair(ServiceLogging.AGENT, "ag-7"));

    JsonNode json = layout(Map.of(), event);

    assertThat(json.get("level").asText()).isEqualTo("WARN");
    assertThat(json.get("logger").asText()).isEqualTo("Rollouts");
    assertThat(json.get("message").asText())
        .isEqualTo("deployment d-1: host ag-7 FAILED: health check \"http\" failed\nline 2\ttab \\ end");
    assertThat(json.get("deployment").asText()).isEqualTo("d-1");
    assertThat(json.get("agent").asText()).isEqualTo("ag-7");
    assertThat(json.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
    assertThat(json.has("error")).isFalse();
  }

  @Test
  void processFieldsMdcAndStackTraces() throws Exception {
    MDC.put("request", "r-9");
    try {
      LoggingEvent event = new LoggingEvent("x", logger, Level.ERROR, "boom \u0001", new IllegalStateException("disk"),
          null);
      JsonNode json = layout(Map.of(ServiceLogging.AGENT, "ag-self"), event);
      assertThat(json.get("agent").asText()).isEqualTo("ag-self");
      assertThat(json.get("request").asText()).isEqualTo("r-9");
      assertThat(json.get("message").asText()).isEqualTo("boom \u0001");
      assertThat(json.get("error").asText()).contains("java.lang.IllegalStateException: disk").contains("\tat ");
    } finally {
      MDC.clear();
    }
  }
}
