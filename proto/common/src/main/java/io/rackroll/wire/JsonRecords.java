package io.rackroll.wire;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Records to and from JSON with jackson-core's streaming parser and generator alone: how the agent
 * keeps its state files without a data-binding library, which would be about 500 more classes in
 * every idle agent and a tenth of a second on the first write of each type.
 *
 * <p>A record is an object of its components, in order. Reading goes by component name: one the
 * text lacks is null (false or 0 for a primitive), a name the record lacks is skipped, so a file
 * an older or newer agent wrote still reads. Component types: String, boolean, int, long, enums
 * (by name), {@code List<String>}, {@code Map<String, String>}, and records of these. What the text
 * holds of another type is a {@link Malformed} naming the component.
 */
public final class JsonRecords {
  private static final JsonFactory JSON = new JsonFactory();

  private JsonRecords() {
  }

  /** The text did not hold what the record needs. */
  public static final class Malformed extends IOException {
    public Malformed(String message) {
      super(message);
    }
  }

  /** {@code record} as compact JSON, UTF-8. */
  public static byte[] write(Record record) {
    return write(record, false);
  }

  /** {@code record} as JSON for people: two-space indent, one component a line. */
  public static byte[] writePretty(Record record) {
    return write(record, true);
  }

  private static byte[] write(Record record, boolean pretty) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      if (pretty) {
        g.useDefaultPrettyPrinter();
      }
      writeRecord(g, record);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array does not fail
    }
    return out.toByteArray();
  }

  /** {@code strings} as a JSON array. */
  public static byte[] writeStrings(List<String> strings) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = JSON.createGenerator(out)) {
      writeValue(g, strings);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The record of {@code type} that {@code json} holds. */
  public static <T extends Record> T read(byte[] json, Class<T> type) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      p.nextToken();
      T value = readRecord(p, type);
      if (p.nextToken() != null) {
        throw malformed(p, "more after the object");
      }
      return value;
    }
  }

  /** The JSON array of strings {@code json} holds. */
  public static List<String> readStrings(byte[] json) throws IOException {
    try (JsonParser p = JSON.createParser(json)) {
      p.nextToken();
      return readList(p, "the list");
    }
  }

  private static void writeRecord(JsonGenerator g, Record record) throws IOException {
    g.writeStartObject();
    for (RecordComponent c : record.getClass().getRecordComponents()) {
      g.writeFieldName(c.getName());
      writeValue(g, get(c, record));
    }
    g.writeEndObject();
  }

  private static void writeValue(JsonGenerator g, Object v) throws IOException {
    if (v == null) {
      g.writeNull();
    } else if (v instanceof String s) {
      g.writeString(s);
    } else if (v instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (v instanceof Integer i) {
      g.writeNumber(i);
    } else if (v instanceof Long l) {
      g.writeNumber(l);
    } else if (v instanceof Enum<?> e) {
      g.writeString(e.name());
    } else if (v instanceof Record r) {
      writeRecord(g, r);
    } else if (v instanceof List<?> list) {
      g.writeStartArray();
      for (Object o : list) {
        writeValue(g, o);
      }
      g.writeEndArray();
    } else if (v instanceof Map<?, ?> map) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        g.writeFieldName(String.valueOf(e.getKey()));
        writeValue(g, e.getValue());
      }
      g.writeEndObject();
    } else {
      throw new IllegalArgumentException("cannot write a " + v.getClass().getName() + " as JSON");
    }
  }

  private static <T extends Record> T readRecord(JsonParser p, Class<T> type) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw malformed(p, "expected an object");
    }
    RecordComponent[] components = type.getRecordComponents();
    Object[] values = new Object[components.length];
    for (JsonToken t = next(p); t != JsonToken.END_OBJECT; t = next(p)) {
      String name = p.currentName();
      p.nextToken();
      int i = indexOf(components, name);
      if (i < 0) {
        p.skipChildren();
      } else {
        values[i] = readValue(p, components[i].getGenericType(), name);
      }
    }
    Class<?>[] types = new Class<?>[components.length];
    for (int i = 0; i < components.length; i++) {
      types[i] = components[i].getType();
      if (values[i] == null && types[i].isPrimitive()) {
        values[i] = types[i] == boolean.class ? Boolean.FALSE : types[i] == int.class ? (Object) 0 : (Object) 0L;
      }
    }
    try {
      Constructor<T> canonical = type.getDeclaredConstructor(types);
      canonical.setAccessible(true);
      return canonical.newInstance(values);
    } catch (InvocationTargetException e) {
      throw malformed(p, type.getSimpleName() + ": " + e.getCause().getMessage());
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(type + " has no canonical constructor", e);
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Object readValue(JsonParser p, Type type, String name) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
    if (raw == String.class && t == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    if ((raw == boolean.class || raw == Boolean.class) && t.isBoolean()) {
      return t == JsonToken.VALUE_TRUE;
    }
    if ((raw == int.class || raw == Integer.class) && t == JsonToken.VALUE_NUMBER_INT) {
      return p.getIntValue();
    }
    if ((raw == long.class || raw == Long.class) && t == JsonToken.VALUE_NUMBER_INT) {
      return p.getLongValue();
    }
    if (raw.isEnum() && t == JsonToken.VALUE_STRING) {
      try {
        return Enum.valueOf((Class<? extends Enum>) raw, p.getText());
      } catch (IllegalArgumentException e) {
        throw malformed(p, name + ": \"" + p.getText() + "\" is not one of " + Arrays.toString(raw.getEnumConstants()));
      }
    }
    if (raw.isRecord()) {
      return readRecord(p, (Class<? extends Record>) raw);
    }
    if (raw == List.class && strings(type, 0)) {
      return readList(p, name);
    }
    if (raw == Map.class && strings(type, 0) && strings(type, 1)) {
      if (t != JsonToken.START_OBJECT) {
        throw malformed(p, name + ": expected an object of strings");
      }
      Map<String, String> map = new LinkedHashMap<>();
      for (JsonToken k = next(p); k != JsonToken.END_OBJECT; k = next(p)) {
        String key = p.currentName();
        if (p.nextToken() != JsonToken.VALUE_STRING) {
          throw malformed(p, name + "." + key + ": expected a string");
        }
        map.put(key, p.getText());
      }
      return map;
    }
    throw malformed(p, name + ": expected " + describe(type) + ", found " + p.getText());
  }

  private static List<String> readList(JsonParser p, String name) throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw malformed(p, name + ": expected a list of strings");
    }
    List<String> list = new ArrayList<>();
    for (JsonToken e = next(p); e != JsonToken.END_ARRAY; e = next(p)) {
      if (e != JsonToken.VALUE_STRING) {
        throw malformed(p, name + ": expected a list of strings");
      }
      list.add(p.getText());
    }
    return list;
  }

  /** The next token; the end of the text inside an object or list is malformed. */
  private static JsonToken next(JsonParser p) throws IOException {
    JsonToken t = p.nextToken();
    if (t == null) {
      throw malformed(p, "the text ends early");
    }
    return t;
  }

  private static boolean strings(Type type, int argument) {
    return type instanceof ParameterizedType pt && pt.getActualTypeArguments()[argument] == String.class;
  }

  private static String describe(Type type) {
    return type instanceof Class<?> c ? (c.isEnum() ? "one of " + Arrays.toString(c.getEnumConstants())
        : "a " + c.getSimpleName()) : "a " + type.getTypeName().replace("java.lang.", "").replace("java.util.", "");
  }

  private static int indexOf(RecordComponent[] components, String name) {
    for (int i = 0; i < components.length; i++) {
      if (components[i].getName().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static Object get(RecordComponent c, Record r) {
    try {
      var accessor = c.getAccessor();
      accessor.setAccessible(true);
      return accessor.invoke(r);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Malformed malformed(JsonParser p, String what) {
    var at = p.currentLocation();
    return new Malformed("not the JSON expected (line " + at.getLineNr() + ", column " + at.getColumnNr() + "): " + what);
  }
}
