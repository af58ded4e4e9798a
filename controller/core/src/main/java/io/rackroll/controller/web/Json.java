package io.rackroll.controller.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The console's own JSON (its session and fleet views): Jackson, one shared mapper. */
final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
    }
  }

  static String quote(String text) {
    return write(text);
  }

  /** The text field {@code name} of a JSON object, or empty when the body is not one or lacks it. */
  static String field(String json, String name) {
    try {
      JsonNode node = MAPPER.readTree(json);
      JsonNode value = node == null ? null : node.get(name);
      return value != null && value.isTextual() ? value.asText() : "";
    } catch (JsonProcessingException e) {
      return "";
    }
  }
}
