package io.rackroll.logging;

import ch.qos.logback.classic.pattern.ThrowableProxyConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per log line, flat so that {@code jq} and log shippers need no schema:
 * {@code {"time":"2026-11-23T19:30:11.042Z","level":"INFO","logger":"Rollouts","thread":"rollouts",
 * "message":"...","deployment":"d-7f3a","agent":"ag-1c2d"}}. The process's fixed fields, then the
 * MDC, then the event's key-value pairs (the last wins on a clash); {@code error} holds a stack trace.
 */
final class JsonLines extends LayoutBase<ILoggingEvent> {
  private final Map<String, String> fields;
  private final ThrowableProxyConverter throwables = new ThrowableProxyConverter();

  JsonLines(Map<String, String> fields) {
    this.fields = Map.copyOf(fields);
  }

  @Override
  public void start() {
    throwables.setContext(getContext());
    throwables.start();
    super.start();
  }

  @Override
  public String doLayout(ILoggingEvent e) {
    Map<String, String> extra = new LinkedHashMap<>(fields);
    extra.putAll(e.getMDCPropertyMap());
    if (e.getKeyValuePairs() != null) {
      for (KeyValuePair kv : e.getKeyValuePairs()) {
        extra.put(kv.key, String.valueOf(kv.value));
      }
    }
    StringBuilder b = new StringBuilder(256).append('{');
    field(b, "time", Instant.ofEpochMilli(e.getTimeStamp()).toString());
    field(b, "level", e.getLevel().toString());
    String logger = e.getLoggerName();
    field(b, "logger", logger.substring(logger.lastIndexOf('.') + 1));
    field(b, "thread", e.getThreadName());
    field(b, "message", e.getFormattedMessage());
    extra.forEach((k, v) -> field(b, k, v));
    if (e.getThrowableProxy() != null) {
      field(b, "error", throwables.convert(e));
    }
    b.setLength(b.length() - 1);
    return b.append("}\n").toString();
  }

  private static void field(StringBuilder b, String key, String value) {
    quote(b, key);
    b.append(':');
    quote(b, value == null ? "" : value);
    b.append(',');
  }

  static void quote(StringBuilder b, String s) {
    b.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    b.append('"');
  }
}
