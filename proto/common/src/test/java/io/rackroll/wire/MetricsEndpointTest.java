package io.rackroll.wire;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class MetricsEndpointTest {
  private final HttpClient http = HttpClient.newHttpClient();

  private HttpResponse<String> get(MetricsEndpoint endpoint, String path, String method) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://" + endpoint.address() + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesAFreshScrapeAtSlashMetricsOnly() throws Exception {
    AtomicInteger scrapes = new AtomicInteger();
    try (MetricsEndpoint endpoint = MetricsEndpoint.start(new HostPort("127.0.0.1", 0),
        () -> "up " + scrapes.incrementAndGet() + "\n")) {
      HttpResponse<String> first = get(endpoint, "/metrics", "GET");
      assertThat(first.statusCode()).isEqualTo(200);
      assertThat(first.headers().firstValue("Content-Type")).contains(MetricsEndpoint.CONTENT_TYPE);
      assertThat(first.body()).isEqualTo("up 1\n");
      assertThat(get(endpoint, "/metrics", "GET").body()).isEqualTo("up 2\n");

      HttpResponse<String> other = get(endpoint, "/", "GET");
      assertThat(other.statusCode()).isEqualTo(404);
      assertThat(other.body()).contains("/metrics");
      assertThat(get(endpoint, "/metrics", "POST").statusCode()).isEqualTo(405);
    }
  }

  @Test
  void aTakenPortIsAClearError() throws Exception {
    try (MetricsEndpoint first = MetricsEndpoint.start(new HostPort("127.0.0.1", 0), () -> "")) {
      assertThatThrownBy(() -> MetricsEndpoint.start(first.address(), () -> ""))
          .hasMessageContaining("cannot serve metrics on 127.0.0.1:" + first.address().port())
          .hasMessageContaining("'metrics' in the config file");
    }
  }
}
