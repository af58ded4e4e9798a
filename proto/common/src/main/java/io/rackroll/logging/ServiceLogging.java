package io.rackroll.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * How a long-running Rackroll process logs: INFO and above to stderr (the journal under systemd),
 * as human-readable lines or, with {@code --log-format json}, one JSON object per line. gRPC's
 * java.util.logging goes through the same path. CLI commands keep {@link QuietConsole}'s quiet default.
 */
public final class ServiceLogging {
  /** The {@code --log-format} values. */
  public enum Format {
    text, json;

    public static Format parse(String option, String value) {
      try {
        return valueOf(value.toLowerCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(option + ": " + value + " (expected: text or json)", e);
      }
    }
  }

  /** Keys that tie a line to what it is about; set them with {@code log.atInfo().addKeyValue(...)} or the MDC. */
  public static final String AGENT = "agent";
  public static final String DEPLOYMENT = "deployment";

  private ServiceLogging() {}

  /** {@code fields} go on every JSON line (e.g. the agent's id in the agent process). */
  public static void install(Format format, Map<String, String> fields) {
    LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
    Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    if (format == Format.json) {
      for (Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
        if (it.next() instanceof OutputStreamAppender<ILoggingEvent> out) {
          JsonLines layout = new JsonLines(fields);
          layout.setContext(context);
          layout.start();
          LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
          encoder.setContext(context);
          encoder.setLayout(layout);
          encoder.start();
          out.stop();
          out.setEncoder(encoder);
          out.start();
        }
      }
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
  }
}
