package io.rackroll.controller.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.MapEntry;
import com.google.protobuf.Message;
import com.google.protobuf.ProtocolMessageEnum;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/**
 * {@code -o text|json|yaml} of every command that lists or shows: one shape for scripts, the
 * same in JSON and YAML. A record is an object of every field of the controller's answer, named as
 * in the wire contract in lowerCamelCase, zeros, false and empty lists included; numbers are
 * numbers (64-bit ones too); times are ISO-8601 strings in UTC under the field's name without
 * its unit ({@code lastSeenEpochMillis} is {@code lastSeen}), null when unset; selectors are as
 * the operator wrote them. A list is an array of records. README: "Output for scripts".
 */
final class Output {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String MILLIS = "EpochMillis";
  private static final String SECONDS = "EpochSeconds";

  enum Format { text, table, json, yaml }

  /** The option, for a command to mix in. */
  static final class Option {
    @picocli.CommandLine.Option(names = {"-o", "--output"}, paramLabel = "FORMAT",
        description = "text (default), json or yaml; the shape is in the README, \"Output for scripts\".")
    Format format = Format.text;

    /** Whether the command prints records rather than its text. */
    boolean structured() {
      return format == Format.json || format == Format.yaml;
    }

    /** Prints {@code record} as the format asks. */
    void print(PrintStream out, Message record) {
      out.print(write(tree(record), format));
    }

    /** Prints {@code records} as one list. */
    void print(PrintStream out, List<? extends Message> records) {
      ArrayNode list = NODES.arrayNode();
      records.forEach(r -> list.add(tree(r)));
      out.print(write(list, format));
    }
  }

  private Output() {
  }

  static String write(JsonNode node, Format format) {
    try {
      if (format == Format.yaml) {
        return new ObjectMapper(new YAMLFactory().disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
            .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
            .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)).writeValueAsString(node);
      }
      return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(node) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a tree of plain values always writes
    }
  }

  /** {@code m} as the documented shape. */
  static ObjectNode tree(Message m) {
    ObjectNode o = NODES.objectNode();
    for (FieldDescriptor f : m.getDescriptorForType().getFields()) {
      String name = f.getJsonName();
      Object value = m.getField(f);
      if (f.isMapField()) {
        ObjectNode map = o.putObject(name);
        for (Object entry : (List<?>) value) {
          MapEntry<?, ?> e = (MapEntry<?, ?>) entry;
          map.set(String.valueOf(e.getKey()), scalar(f.getMessageType().findFieldByName("value"), e.getValue()));
        }
      } else if (f.isRepeated()) {
        ArrayNode list = o.putArray(name);
        ((List<?>) value).forEach(v -> list.add(scalar(f, v)));
      } else if (f.getJavaType() == FieldDescriptor.JavaType.LONG && name.endsWith(MILLIS)) {
        long at = (Long) value;
        o.set(name.substring(0, name.length() - MILLIS.length()), at == 0 ? NODES.nullNode()
            : NODES.textNode(Instant.ofEpochMilli(at).toString()));
      } else if (f.getJavaType() == FieldDescriptor.JavaType.LONG && name.endsWith(SECONDS)) {
        long at = (Long) value;
        o.set(name.substring(0, name.length() - SECONDS.length()), at == 0 ? NODES.nullNode()
            : NODES.textNode(Instant.ofEpochSecond(at).toString()));
      } else {
        o.set(name, scalar(f, value));
      }
    }
    return o;
  }

  private static JsonNode scalar(FieldDescriptor f, Object v) {
    return switch (f.getJavaType()) {
      case MESSAGE -> tree((Message) v);
      case INT -> NODES.numberNode((Integer) v);
      case LONG -> NODES.numberNode((Long) v);
      case FLOAT -> NODES.numberNode((Float) v);
      case DOUBLE -> NODES.numberNode((Double) v);
      case BOOLEAN -> NODES.booleanNode((Boolean) v);
      case ENUM -> NODES.textNode(v instanceof ProtocolMessageEnum e ? e.getValueDescriptor().getName()
          : ((com.google.protobuf.Descriptors.EnumValueDescriptor) v).getName());
      case BYTE_STRING -> NODES.binaryNode(((com.google.protobuf.ByteString) v).toByteArray());
      default -> NODES.textNode(String.valueOf(v));
    };
  }
}
