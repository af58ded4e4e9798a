package io.rackroll.controller.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.grpc.StatusRuntimeException;
import io.rackroll.controller.testing.TestController;
import io.rackroll.proto.v1.AdminGrpc.AdminBlockingStub;
import io.rackroll.proto.v1.CreateWebLoginRequest;
import io.rackroll.proto.v1.EndWebSessionsRequest;
import io.rackroll.proto.v1.ListAuditRequest;
import io.rackroll.proto.v1.RevokeAdminRequest;
import io.rackroll.wire.HostPort;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The web console over real HTTPS, verified against the controller's CA: sign-in links, sessions,
 * the checks every change passes (cookie, CSRF token, origin), roles, and the audit.
 */
class WebConsoleTest {
  @TempDir Path dir;
  private TestController controller;
  private HttpClient http;

  @BeforeEach
  void start() throws Exception {
    controller = TestController.start(dir.resolve("data"), c -> c.withWeb(new HostPort("127.0.0.1", 0)),
        io.rackroll.controller.store.JdbcStore::embedded);
    http = controller.browser();
  }

  @AfterEach
  void stop() {
    controller.close();
  }

  /** A browser's session: the base address, its cookie and CSRF token. */
  private record Session(String base, String cookie, String csrf) {}

  private String link(AdminBlockingStub admin) {
    return admin.createWebLogin(CreateWebLoginRequest.getDefaultInstance()).getUrl();
  }

  private static String base(String link) {
    return link.substring(0, link.indexOf("/#login="));
  }

  private HttpResponse<String> signIn(String link) throws Exception {
    String secret = link.substring(link.indexOf("#login=") + 7);
    return http.send(HttpRequest.newBuilder(URI.create(base(link) + "/api/session"))
        .header("Origin", base(link)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString("{\"link\":\"" + secret + "\"}")).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private Session session(AdminBlockingStub admin) throws Exception {
    String link = link(admin);
    HttpResponse<String> r = signIn(link);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String cookie = r.headers().firstValue("set-cookie").orElseThrow();
    return new Session(base(link), cookie.substring(0, cookie.indexOf(';')), Json.field(r.body(), "csrf"));
  }

  private HttpResponse<String> call(Session s, String name, String json) throws Exception {
    return post(s, "/api/call/" + name, json, s.csrf(), s.base());
  }

  private HttpResponse<String> post(Session s, String path, String json, String csrf, String origin) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + path)).header("Cookie", s.cookie())
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    if (csrf != null) {
      b.header(WebConsole.CSRF_HEADER, csrf);
    }
    if (origin != null) {
      b.header("Origin", origin);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(Session s, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(s.base() + path)).header("Cookie", s.cookie()).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private List<String> audit() {
    return controller.admin().listAudit(ListAuditRequest.newBuilder().setLimit(50).build()).getEntriesList().stream()
        .map(a -> a.getActor() + " " + a.getAction() + ": " + a.getDetail()).toList();
  }

  @Test
  void aLinkOpensOneSessionOnceWithTheRoleOfTheAdminWhoAskedForIt() throws Exception {
    String link = link(controller.admin());
    assertThat(link).matches("https://127\\.0\\.0\\.1:\\d+/#login=[A-Za-z0-9_-]{43}");

    HttpResponse<String> first = signIn(link);
    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(Json.field(first.body(), "admin")).isEqualTo("admin");
    assertThat(Json.field(first.body(), "role")).isEqualTo("owner");
    assertThat(first.headers().firstValue("set-cookie").orElseThrow())
        .startsWith(WebConsole.COOKIE + "=").contains("Secure", "HttpOnly", "SameSite=Strict", "Path=/");

    // The same link again opens nothing, and the attempt is audited.
    HttpResponse<String> again = signIn(link);
    assertThat(again.statusCode()).isEqualTo(401);
    assertThat(Json.field(again.body(), "error")).isEqualTo(
        "this sign-in link is used, expired or unknown: run 'rackroll web login' again");
    assertThat(audit()).anyMatch(a -> a.startsWith("admin web link: sign-in link valid until"))
        .anyMatch(a -> a.startsWith("admin web login: session opened from 127.0.0.1:"))
        .anyMatch(a -> a.startsWith("- refused: a sign-in link that is unknown, used or expired"));
  }

  @Test
  void aFloodOfBadLinksIsAuditedOnceAMinuteWithItsCountNotOnceEach() throws Exception {
    String base = base(link(controller.admin()));
    for (int i = 0; i < 50; i++) {
      assertThat(signIn(base + "/#login=forged" + i).statusCode()).isEqualTo(401);
    }
    assertThat(audit().stream().filter(a -> a.startsWith("- refused")).toList())
        .containsExactly("- refused: a sign-in link that is unknown, used or expired, from 127.0.0.1:"
            + audit().stream().filter(a -> a.startsWith("- refused")).findFirst().orElseThrow().split("127.0.0.1:")[1]);
    controller.clock.advance(WebConsole.REFUSALS_EVERY);
    signIn(base + "/#login=one-more");
    assertThat(audit().stream().filter(a -> a.startsWith("- refused")).toList()).hasSize(2)
        .first().asString().startsWith("- refused: 50 sign-in links unknown, used or expired, the last from 127.0.0.1:");
  }

  @Test
  void plainHttpIsSentToHttpsAndReadsNothingElse() throws Exception {
    String https = base(link(controller.admin()));
    String http = https.replace("https://", "http://");
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(http + "/api/me"))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(308);
    assertThat(r.headers().firstValue("location")).contains(https + "/");
    assertThat(r.body()).doesNotContain("csrf");
  }

  @Test
  void aLinkNotFollowedWithinFiveMinutesOpensNothing() throws Exception {
    String link = link(controller.admin());
    controller.clock.advance(WebSessions.LINK_LIFETIME);
    assertThat(signIn(link).statusCode()).isEqualTo(401);
  }

  @Test
  void everyChangeNeedsTheSessionItsCsrfTokenAndThisOrigin() throws Exception {
    Session s = session(controller.admin());
    assertThat(call(s, "ListAudit", "{\"limit\":5}").statusCode()).isEqualTo(200);

    HttpResponse<String> noToken = post(s, "/api/call/ListAudit", "{}", null, s.base());
    assertThat(noToken.statusCode()).isEqualTo(403);
    assertThat(Json.field(noToken.body(), "error")).contains("X-Rackroll-Csrf");
    assertThat(post(s, "/api/call/ListAudit", "{}", "not-the-token", s.base()).statusCode()).isEqualTo(403);

    HttpResponse<String> otherSite = post(s, "/api/call/ListAudit", "{}", s.csrf(), "https://evil.example");
    assertThat(otherSite.statusCode()).isEqualTo(403);
    assertThat(Json.field(otherSite.body(), "error")).contains("another site");
    assertThat(post(s, "/api/call/ListAudit", "{}", s.csrf(), null).statusCode()).isEqualTo(403);

    Session stranger = new Session(s.base(), WebConsole.COOKIE + "=forged", s.csrf());
    HttpResponse<String> forged = call(stranger, "ListAudit", "{}");
    assertThat(forged.statusCode()).isEqualTo(401);
    assertThat(Json.field(forged.body(), "error")).contains("rackroll web login");
  }

  @Test
  void aViewerReadsButIsRefusedChangesLikeTheCliAndTheRefusalIsAudited() throws Exception {
    Session vera = session(controller.addAdmin("vera", "viewer"));
    assertThat(Json.field(get(vera, "/api/me").body(), "role")).isEqualTo("viewer");
    assertThat(call(vera, "ListAgents", "{}").statusCode()).isEqualTo(200);

    HttpResponse<String> pause = call(vera, "ControlDeployment", "{\"id\":\"d1\",\"action\":\"pause\"}");
    assertThat(pause.statusCode()).isEqualTo(403);
    assertThat(Json.field(pause.body(), "error")).isEqualTo(
        "admin vera (viewer) may not call ControlDeployment: needs the deployer role or above");
    HttpResponse<String> rollback = call(vera, "Rollback", "{\"name\":\"web\",\"selector\":\"rack=r1\"}");
    assertThat(rollback.statusCode()).isEqualTo(403);
    assertThat(audit()).contains("vera refused: needs the deployer role or above; vera is viewer",
        "vera refused: needs the operator role or above; vera is viewer");
  }

  @Test
  void inputIsCheckedAsTheClisIsAndCallsTheConsoleDoesNotOfferDoNotExist() throws Exception {
    Session s = session(controller.admin());
    HttpResponse<String> bad = call(s, "GetAgent", "{\"agentId\":\"../../etc\"}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(Json.field(bad.body(), "error")).startsWith("agent id: ../../etc (expected:");
    assertThat(call(s, "GetAgent", "{\"agentId\":\"" + "a".repeat(10_000) + "\"}").statusCode()).isEqualTo(400);
    assertThat(call(s, "ListAgents", "{\"nope\":1}").statusCode()).isEqualTo(400);
    assertThat(call(s, "ListAgents", "not json").statusCode()).isEqualTo(400);
    assertThat(call(s, "GetDeployment", "{\"id\":\"d404\"}").statusCode()).isEqualTo(404);
    // Secrets, people, tokens and pushes stay with the CLI.
    for (String name : List.of("SetSecret", "AddAdmin", "CreateToken", "PushRelease", "CreateWebLogin", "Nope")) {
      assertThat(call(s, name, "{}").statusCode()).as(name).isEqualTo(404);
    }
    assertThat(post(s, "/api/call/ListAgents", "{\"selector\":\"" + "x".repeat(70_000) + "\"}", s.csrf(), s.base())
        .statusCode()).isEqualTo(413);
    assertThat(get(s, "/../../etc/passwd").statusCode()).isEqualTo(404);
    assertThat(get(s, "/api/nothing").statusCode()).isEqualTo(404);
  }

  @Test
  void everyAnswerCarriesTheSecurityHeadersAndThePagesComeFromTheJar() throws Exception {
    Session s = session(controller.admin());
    for (String path : List.of("/", "/app.js", "/app.css", "/api/me")) {
      HttpResponse<String> r = get(s, path);
      assertThat(r.statusCode()).as(path).isEqualTo(200);
      assertThat(r.headers().firstValue("content-security-policy").orElseThrow())
          .contains("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'");
      assertThat(r.headers().firstValue("x-content-type-options")).contains("nosniff");
      assertThat(r.headers().firstValue("strict-transport-security")).isPresent();
      assertThat(r.headers().firstValue("referrer-policy")).contains("no-referrer");
    }
    assertThat(get(s, "/").body()).contains("<script src=\"/app.js\"").doesNotContain("http://", "https://");
    assertThat(get(s, "/api/me").headers().firstValue("cache-control")).contains("no-store");
  }

  @Test
  void signingOutAndEndingSessionsCloseThemAndTheirOpenPagesAtOnce() throws Exception {
    Session mine = session(controller.admin());
    Session vera = session(controller.addAdmin("vera", "viewer"));

    // Signing out ends only that session.
    HttpResponse<String> out = post(mine, "/api/logout", "{}", mine.csrf(), mine.base());
    assertThat(out.statusCode()).isEqualTo(200);
    assertThat(out.headers().firstValue("set-cookie").orElseThrow()).contains("Max-Age=0");
    assertThat(get(mine, "/api/me").statusCode()).isEqualTo(401);
    assertThat(get(vera, "/api/me").statusCode()).isEqualTo(200);

    // A viewer may end its own sessions, not everyone's.
    AdminBlockingStub veraCli = controller.addAdmin("vera2", "viewer");
    assertThatThrownBy(() -> veraCli.endWebSessions(EndWebSessionsRequest.newBuilder().setAll(true).build()))
        .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("needs the owner role");

    // vera's page holds its event stream open; an owner ends every session, and the stream ends.
    try (InputStream events = openEvents(vera)) {
      BufferedReader lines = new BufferedReader(new InputStreamReader(events, StandardCharsets.UTF_8));
      assertThat(lines.readLine()).isEqualTo("event: hello");
      assertThat(controller.admin().endWebSessions(EndWebSessionsRequest.newBuilder().setAll(true).build())
          .getEnded()).isEqualTo(1);
      String line;
      do {
        line = lines.readLine();
      } while (line != null); // read to the end: the controller closed it
    }
    assertThat(get(vera, "/api/me").statusCode()).isEqualTo(401);
    assertThat(audit()).anyMatch(a -> a.equals("admin web logout: every admin's sessions ended: 1"))
        .anyMatch(a -> a.equals("admin web logout: signed out"));
  }

  private InputStream openEvents(Session s) throws Exception {
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(s.base() + "/api/events"))
        .header("Cookie", s.cookie()).build(), HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type")).contains("text/event-stream; charset=utf-8");
    return r.body();
  }

  @Test
  void aSessionEndsWhenItsAdminIsRevokedOrItIdlesAnHour() throws Exception {
    Session vera = session(controller.addAdmin("vera", "viewer"));
    Session mine = session(controller.admin());
    controller.admin().revokeAdmin(RevokeAdminRequest.newBuilder().setName("vera").build());
    assertThat(get(vera, "/api/me").statusCode()).isEqualTo(401);
    assertThat(call(vera, "ListAgents", "{}").statusCode()).isEqualTo(401);

    controller.clock.advance(WebSessions.IDLE.minusSeconds(1));
    assertThat(get(mine, "/api/me").statusCode()).isEqualTo(200); // used: an hour more from now
    controller.clock.advance(WebSessions.IDLE);
    assertThat(get(mine, "/api/me").statusCode()).isEqualTo(401);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void withTheConsoleOffALoginLinkSaysHowToTurnItOn() throws Exception {
    try (TestController off = TestController.start(dir.resolve("off"))) {
      assertThatThrownBy(() -> off.admin().createWebLogin(CreateWebLoginRequest.getDefaultInstance()))
          .isInstanceOf(StatusRuntimeException.class)
          .hasMessage("FAILED_PRECONDITION: the web console is off; set 'web: 127.0.0.1:8443' (or another address)"
              + " in controller.yaml and restart the controller");
    }
  }
}
