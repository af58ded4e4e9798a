package io.rackroll.wire;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.function.Supplier;

/**
 * Plain HTTP {@code GET /metrics} in the Prometheus text format, from the JDK's own HTTP server on
 * one daemon thread. Plain HTTP because scrapers expect it: bind it to localhost or a management
 * network, never to the agents' network.
 */
public final class MetricsEndpoint implements AutoCloseable {
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService thread;

  private MetricsEndpoint(HttpServer server, ExecutorService thread) {
    this.server = server;
    this.thread = thread;
  }

  /** Starts serving {@code scrape()} on {@code address} (port 0: any free port). */
  public static MetricsEndpoint start(HostPort address, Supplier<String> scrape) throws IOException {
    HttpServer server;
    try {
      server = HttpServer.create(new InetSocketAddress(address.host(), address.port()), 16);
    } catch (IOException e) {
      throw new IOException("cannot serve metrics on " + address + ": " + e.getMessage()
          + " (change 'metrics' in the config file, or set it to off)", e);
    }
    server.createContext("/", exchange -> {
      try (exchange) {
        if (!exchange.getRequestURI().getPath().equals("/metrics")) {
          reply(exchange, 404, "not found; metrics are at /metrics\n");
        } else if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
          reply(exchange, 405, "only GET\n");
        } else {
          exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
          reply(exchange, 200, scrape.get());
        }
      }
    });
    ExecutorService thread = Threads.serial("metrics-http");
    server.setExecutor(thread);
    server.start();
    return new MetricsEndpoint(server, thread);
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    boolean head = exchange.getRequestMethod().equals("HEAD");
    exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  public HostPort address() {
    InetSocketAddress a = server.getAddress();
    return new HostPort(a.getHostString(), a.getPort());
  }

  @Override
  public void close() {
    server.stop(0);
    thread.shutdownNow();
  }
}
