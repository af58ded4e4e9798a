package io.rackroll.controller.web;

import io.grpc.BindableService;
import io.grpc.ServerInterceptor;
import io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.Channel;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInitializer;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.SimpleChannelInboundHandler;
import io.grpc.netty.shaded.io.netty.channel.WriteBufferWaterMark;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.SocketChannel;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioServerSocketChannel;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaders;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpObjectAggregator;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.QueryStringDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http.cookie.Cookie;
import io.grpc.netty.shaded.io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.timeout.ReadTimeoutHandler;
import io.rackroll.controller.auth.Admins;
import io.rackroll.controller.store.AuditEntry;
import io.rackroll.controller.store.AuditStore;
import io.rackroll.controller.store.AgentStore;
import io.rackroll.wire.HostPort;
import io.rackroll.wire.Threads;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The web console: HTTPS with the controller's own server certificate, pages served from this
 * jar, the admin API through {@link AdminBridge} as the signed-in admin, and live changes through
 * {@link ConsoleFeed}. One Netty event loop reads and writes; anything that touches the store runs
 * on a small bounded pool, so a slow query never stalls another tab.
 *
 * <p>Routes: {@code GET /} and its assets; {@code POST /api/session} (a login link's secret opens
 * a session and sets its cookie); {@code GET /api/me}; {@code POST /api/logout};
 * {@code POST /api/call/NAME} (an admin call, JSON in and out); {@code GET /api/fleet} (every
 * host's cell); {@code GET /api/events} (server-sent events). Every change needs the session's
 * cookie, its CSRF token in {@code X-Rackroll-Csrf} and a same-origin {@code Origin}.
 */
public final class WebConsole implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebConsole.class);
  static final String COOKIE = "__Host-rackroll";
  static final String CSRF_HEADER = "X-Rackroll-Csrf";
  private static final int MAX_BODY = 64 * 1024;
  private static final int MAX_CONNECTIONS = 1_000;
  private static final Map<String, String> TYPES = Map.of(
      "html", "text/html; charset=utf-8", "js", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8",
      "svg", "image/svg+xml");
  /** No script, style or connection but this origin's; no framing; no referrer leaves. */
  private static final Map<String, String> SECURITY_HEADERS = new LinkedHashMap<>(Map.of(
      "Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
      "Strict-Transport-Security", "max-age=31536000",
      "X-Content-Type-Options", "nosniff",
      "X-Frame-Options", "DENY",
      "Referrer-Policy", "no-referrer",
      "Cross-Origin-Opener-Policy", "same-origin",
      "Cross-Origin-Resource-Policy", "same-origin",
      "Permissions-Policy", "camera=(), microphone=(), geolocation=()"));

  private final WebSessions sessions;
  private final Admins admins;
  private final AuditStore audit;
  private final Clock clock;
  private final AdminBridge bridge;
  private final FleetView fleet;
  private final ConsoleFeed feed;
  private final Map<String, byte[]> assets = new HashMap<>();
  private final ThreadPoolExecutor work;
  private final ScheduledExecutorService feedThread;
  private final AtomicInteger connections = new AtomicInteger();
  /** Refused sign-ins not audited yet, and when the last entry about them was. Guarded by refusalLock. */
  private final Object refusalLock = new Object();
  private long refusedSinceAudit;
  private java.time.Instant lastRefusalAudited;
  static final java.time.Duration REFUSALS_EVERY = java.time.Duration.ofMinutes(1);
  private EventLoopGroup loop;
  private Channel listener;

  /**
   * A console over {@code admin}, its calls checked by {@code interceptors} (the certificate-less
   * caller check, {@link io.rackroll.controller.auth.CallerInterceptor#console()}, among them).
   */
  public WebConsole(WebSessions sessions, Admins admins, AgentStore agents, AuditStore audit, Clock clock,
      BindableService admin, ServerInterceptor... interceptors) throws IOException {
    this.sessions = sessions;
    this.admins = admins;
    this.audit = audit;
    this.clock = clock;
    this.work = new ThreadPoolExecutor(4, 4, 60, TimeUnit.SECONDS, new ArrayBlockingQueue<>(256), Threads.daemons("console-work"));
    this.feedThread = Threads.serial("console-feed");
    this.bridge = new AdminBridge(admin, work, interceptors);
    this.fleet = new FleetView(agents);
    this.feed = new ConsoleFeed(fleet, audit, sessions::alive, feedThread);
    for (String name : List.of("index.html", "app.js", "app.css", "favicon.svg")) {
      try (InputStream in = WebConsole.class.getResourceAsStream("/web/" + name)) {
        if (in == null) {
          throw new IOException("the console's " + name + " is missing from the controller's jar; rebuild it");
        }
        assets.put(name, in.readAllBytes());
      }
    }
  }

  /**
   * Serves on {@code address} with the controller's server key and chain; links that {@code access}
   * gives name {@code publicName} (a name the server certificate carries) when the address is a wildcard.
   */
  public void start(HostPort address, PrivateKey key, List<X509Certificate> chain, String publicName,
      ConsoleAccess access) throws IOException {
    SslContext tls = SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
        .protocols("TLSv1.3", "TLSv1.2").build();
    loop = new NioEventLoopGroup(1, Threads.daemons("console-http"));
    ServerBootstrap bootstrap = new ServerBootstrap().group(loop).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (connections.incrementAndGet() > MAX_CONNECTIONS) {
              connections.decrementAndGet();
              ch.close();
              return;
            }
            ch.closeFuture().addListener(f -> connections.decrementAndGet());
            ch.pipeline().addLast("tls", new TlsOrRedirect(tls))
                .addLast("idle", new ReadTimeoutHandler(120)) // an event stream has no request to read: see below
                .addLast("http", new HttpServerCodec(4096, 8192, 8192))
                .addLast("body", new HttpObjectAggregator(MAX_BODY))
                .addLast("console", new Handler());
          }
        });
    try {
      listener = bootstrap.bind(new InetSocketAddress(address.host(), address.port())).sync().channel();
    } catch (Exception e) {
      close();
      throw new IOException("cannot serve the web console on " + address + ": " + e.getMessage()
          + " (change 'web' in the config file, or set it to off)", e);
    }
    feed.start();
    HostPort bound = address();
    String host = wildcard(address.host()) ? publicName : address.host();
    String base = "https://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + bound.port();
    access.serving(base, feed::sessionsEnded);
    log.info("web console at {}/ (sign in: rackroll web login)", base);
  }

  private static boolean wildcard(String host) {
    return host.equals("0.0.0.0") || host.equals("::") || host.equals("[::]") || host.isEmpty();
  }

  public HostPort address() {
    InetSocketAddress a = (InetSocketAddress) listener.localAddress();
    return new HostPort(a.getHostString(), a.getPort());
  }

  /** Told by the controller: a host changed. */
  public void agentChanged(String agentId) {
    feed.agentChanged(agentId);
  }

  /** Told by the controller: a deployment changed. */
  public void deploymentChanged(String deploymentId) {
    feed.deploymentChanged(deploymentId);
  }

  /**
   * The first bytes tell TLS from plain HTTP: TLS goes on to the console; plain HTTP (someone
   * typed http://) is answered with a redirect to the same address over HTTPS, and nothing else.
   */
  private static final class TlsOrRedirect extends io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder {
    private final SslContext tls;

    TlsOrRedirect(SslContext tls) {
      this.tls = tls;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, io.grpc.netty.shaded.io.netty.buffer.ByteBuf in, List<Object> out) {
      if (in.readableBytes() < 5) {
        return; // a TLS record header is five bytes
      }
      if (io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler.isEncrypted(in)) {
        ctx.pipeline().replace(this, "tls", tls.newHandler(ctx.alloc()));
      } else {
        ctx.pipeline().replace("console", "redirect", new ToHttps());
        ctx.pipeline().remove(this);
      }
    }
  }

  /** Plain HTTP: every request is sent to its https:// address, then the connection closes. */
  private static final class ToHttps extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      String host = request.headers().get(HttpHeaderNames.HOST);
      FullHttpResponse r;
      if (host == null || !host.matches("[A-Za-z0-9.:\\[\\]-]{1,300}")) {
        r = text(HttpResponseStatus.BAD_REQUEST, "this is the Rackroll console over HTTPS: use https://");
      } else {
        r = text(HttpResponseStatus.PERMANENT_REDIRECT, "the Rackroll console is at https://" + host + "/");
        r.headers().set(HttpHeaderNames.LOCATION, "https://" + host + "/");
      }
      SECURITY_HEADERS.forEach(r.headers()::set);
      HttpUtil.setContentLength(r, r.content().readableBytes());
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private final class Handler extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (!request.decoderResult().isSuccess()) {
        reply(ctx, request, text(HttpResponseStatus.BAD_REQUEST, "not an HTTP request this console reads"));
        return;
      }
      String path = new QueryStringDecoder(request.uri()).path();
      HttpMethod method = request.method();
      if (!path.startsWith("/api/")) {
        String name = path.equals("/") ? "index.html" : path.substring(1);
        byte[] body = assets.get(name);
        if (body == null || (method != HttpMethod.GET && method != HttpMethod.HEAD)) {
          reply(ctx, request, text(HttpResponseStatus.NOT_FOUND, "no page " + shorten(path)));
          return;
        }
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK,
            Unpooled.wrappedBuffer(body));
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, TYPES.get(name.substring(name.lastIndexOf('.') + 1)));
        r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-cache");
        reply(ctx, request, r);
        return;
      }
      if (method == HttpMethod.POST && !sameOrigin(request)) {
        reply(ctx, request, json(HttpResponseStatus.FORBIDDEN, AdminBridge.error(403,
            "refused: this request came from another site (Origin " + shorten(request.headers().get("Origin")) + ")")));
        return;
      }
      String secret = cookie(request.headers()).orElse("");
      if (path.equals("/api/session") && method == HttpMethod.POST) {
        String body = request.content().toString(StandardCharsets.UTF_8);
        InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
        String remote = peer.getHostString() + ":" + peer.getPort();
        offload(ctx, request, () -> signIn(body, remote));
        return;
      }
      Optional<WebSessions.Session> session = secret.isEmpty() ? Optional.empty() : sessions.session(secret);
      if (session.isEmpty() || admins.grantOf(session.get().admin()).isEmpty()) {
        reply(ctx, request, json(HttpResponseStatus.UNAUTHORIZED, AdminBridge.error(401,
            "not signed in, or the session is over: run 'rackroll web login' and open the link it prints")));
        return;
      }
      WebSessions.Session s = session.get();
      if (method == HttpMethod.POST && !s.csrf().equals(request.headers().get(CSRF_HEADER))) {
        reply(ctx, request, json(HttpResponseStatus.FORBIDDEN, AdminBridge.error(403,
            "refused: the request lacks this session's " + CSRF_HEADER + " header; reload the page")));
        return;
      }
      if (path.equals("/api/me") && method == HttpMethod.GET) {
        reply(ctx, request, json(HttpResponseStatus.OK, new AdminBridge.Answer(200, me(s))));
      } else if (path.equals("/api/logout") && method == HttpMethod.POST) {
        sessions.end(secret);
        feed.sessionsEnded();
        offload(ctx, request, () -> {
          audit.record(AuditEntry.of(clock.instant(), s.admin(), "web logout", "web console", "signed out"));
          return new Reply(new AdminBridge.Answer(200, "{}"), clearCookie());
        });
      } else if (path.startsWith("/api/call/") && method == HttpMethod.POST) {
        String body = request.content().toString(StandardCharsets.UTF_8);
        String call = path.substring("/api/call/".length());
        offload(ctx, request, () -> Reply.of(bridge.call(s.admin(), call, body)));
      } else if (path.equals("/api/fleet") && method == HttpMethod.GET) {
        offload(ctx, request, () -> Reply.of(new AdminBridge.Answer(200, Json.write(Map.of("cells", fleet.all())))));
      } else if (path.equals("/api/events") && method == HttpMethod.GET) {
        events(ctx, request, secret);
      } else {
        reply(ctx, request, json(HttpResponseStatus.NOT_FOUND, AdminBridge.error(404, "no console call "
            + method + " " + shorten(path))));
      }
    }

    private void events(ChannelHandlerContext ctx, FullHttpRequest request, String secret) {
      HttpResponse head = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
      head.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/event-stream; charset=utf-8");
      head.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
      head.headers().set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      SECURITY_HEADERS.forEach(head.headers()::set);
      // A stream only writes: the keepalive comments, not requests, show it is alive.
      ctx.pipeline().remove("idle");
      ctx.writeAndFlush(head);
      if (!feed.open(ctx.channel(), secret)) {
        ctx.close();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("console connection from {} closed: {}", ctx.channel().remoteAddress(), cause.toString());
      ctx.close();
    }
  }

  private String me(WebSessions.Session s) {
    return Json.write(Map.of("admin", s.admin(), "role", admins.grantOf(s.admin()).map(g -> g.role().label()).orElse(""),
        "csrf", s.csrf(), "environments", admins.grantOf(s.admin()).map(g -> List.copyOf(g.environments()))
            .orElse(List.of())));
  }

  /** A login link's secret opens a session: the cookie, and the session's view. */
  private Reply signIn(String body, String remote) {
    Optional<WebSessions.Opened> opened = sessions.redeem(Json.field(body, "link"));
    if (opened.isEmpty() || admins.grantOf(opened.get().session().admin()).isEmpty()) {
      refusedSignIn(remote);
      return Reply.of(AdminBridge.error(401,
          "this sign-in link is used, expired or unknown: run 'rackroll web login' again"));
    }
    WebSessions.Session s = opened.get().session();
    audit.record(AuditEntry.of(clock.instant(), s.admin(), "web login", "web console", "session opened from " + remote));
    return new Reply(new AdminBridge.Answer(200, me(s)), sessionCookie(opened.get().secret()));
  }

  /**
   * Audits a refused sign-in, at most one entry per {@link #REFUSALS_EVERY} with how many came
   * since: anyone who can reach the console can send bad links, and must not fill the audit.
   */
  private void refusedSignIn(String remote) {
    java.time.Instant now = clock.instant();
    synchronized (refusalLock) {
      refusedSinceAudit++;
      if (lastRefusalAudited != null && now.isBefore(lastRefusalAudited.plus(REFUSALS_EVERY))) {
        log.debug("sign-in refused from {} (audited with the next)", remote);
        return;
      }
      long n = refusedSinceAudit;
      refusedSinceAudit = 0;
      lastRefusalAudited = now;
      audit.record(AuditEntry.of(now, "-", "refused", "web console", n == 1
          ? "a sign-in link that is unknown, used or expired, from " + remote
          : n + " sign-in links unknown, used or expired, the last from " + remote));
    }
  }

  /** An answer, and the cookie it sets (null: none). */
  private record Reply(AdminBridge.Answer answer, String setCookie) {
    static Reply of(AdminBridge.Answer answer) {
      return new Reply(answer, null);
    }
  }

  /** Answers on the console's pool, off the event loop: for anything that reads the store or calls the API. */
  private void offload(ChannelHandlerContext ctx, FullHttpRequest request, java.util.function.Supplier<Reply> task) {
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    boolean head = request.method() == HttpMethod.HEAD;
    // One request at a time per connection: the next is read once this one is answered, so
    // answers never overtake each other.
    ctx.channel().config().setAutoRead(false);
    try {
      work.execute(() -> {
        Reply reply;
        try {
          reply = task.get();
        } catch (RuntimeException e) {
          log.warn("console request failed: {}", e.toString());
          reply = Reply.of(AdminBridge.error(500, "the controller failed to answer: " + e.getMessage()));
        }
        FullHttpResponse r = json(HttpResponseStatus.valueOf(reply.answer().status()), reply.answer());
        if (reply.setCookie() != null) {
          r.headers().add(HttpHeaderNames.SET_COOKIE, reply.setCookie());
        }
        write(ctx, r, keepAlive, head);
        ctx.channel().config().setAutoRead(true);
      });
    } catch (RejectedExecutionException e) {
      ctx.channel().config().setAutoRead(true);
      reply(ctx, request, json(HttpResponseStatus.SERVICE_UNAVAILABLE, AdminBridge.error(503,
          "the console is busy; try again in a moment")));
    }
  }

  private static Optional<String> cookie(HttpHeaders headers) {
    String header = headers.get(HttpHeaderNames.COOKIE);
    if (header == null) {
      return Optional.empty();
    }
    for (Cookie c : ServerCookieDecoder.STRICT.decode(header)) {
      if (c.name().equals(COOKIE)) {
        return Optional.of(c.value());
      }
    }
    return Optional.empty();
  }

  static String sessionCookie(String secret) {
    return COOKIE + "=" + secret + "; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age="
        + WebSessions.MAX_AGE.toSeconds();
  }

  private static String clearCookie() {
    return COOKIE + "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0";
  }

  /** A change must come from a page of this console: its Origin is this server's. */
  private static boolean sameOrigin(FullHttpRequest request) {
    String origin = request.headers().get("Origin");
    String host = request.headers().get(HttpHeaderNames.HOST);
    return origin != null && host != null && origin.equals("https://" + host);
  }

  private static FullHttpResponse text(HttpResponseStatus status, String message) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    return r;
  }

  private static FullHttpResponse json(HttpResponseStatus status, AdminBridge.Answer answer) {
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
        Unpooled.copiedBuffer(answer.json(), StandardCharsets.UTF_8));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
    r.headers().set(HttpHeaderNames.CACHE_CONTROL, "no-store");
    return r;
  }

  private static void reply(ChannelHandlerContext ctx, FullHttpRequest request, FullHttpResponse response) {
    write(ctx, response, HttpUtil.isKeepAlive(request), request.method() == HttpMethod.HEAD);
  }

  private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive, boolean head) {
    SECURITY_HEADERS.forEach(response.headers()::set);
    HttpUtil.setContentLength(response, response.content().readableBytes());
    if (head) {
      response.content().clear();
    }
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }

  private static String shorten(String text) {
    if (text == null) {
      return "none";
    }
    return text.length() <= 100 ? text : text.substring(0, 100) + "…";
  }

  @Override
  public void close() {
    feed.close();
    if (listener != null) {
      listener.close();
    }
    if (loop != null) {
      loop.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    }
    feedThread.shutdownNow();
    work.shutdownNow();
    bridge.close();
  }
}
