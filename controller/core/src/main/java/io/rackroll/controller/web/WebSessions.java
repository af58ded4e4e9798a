package io.rackroll.controller.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Who is signed in to the web console, and the one-time links that sign them in. An admin asks
 * for a link with its certificate ({@code rackroll web login}); following it once, before it
 * expires, opens a session for that admin. Secrets are kept only as their SHA-256, so a heap dump
 * or a log of this map opens nothing.
 *
 * <p>Kept in memory: a controller restart ends every session (sign in again with a new link).
 * Sessions end after {@link #IDLE} without a request, after {@link #MAX_AGE} in any case, when
 * their admin signs out, or when an admin ends them ({@code rackroll web logout}).
 */
public final class WebSessions {
  /** How long a link may wait to be followed. */
  public static final Duration LINK_LIFETIME = Duration.ofMinutes(5);
  /** A session unused this long is over. */
  public static final Duration IDLE = Duration.ofHours(1);
  /** A session is over this long after it opened, used or not: a shift, not forever. */
  public static final Duration MAX_AGE = Duration.ofHours(12);
  /** Links and sessions held at most: enough for any team, and a ceiling for a looping script. */
  static final int MAX_LINKS = 1_000;
  static final int MAX_SESSIONS = 5_000;

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();
  /** Link secret's digest to the link. Guarded by this. */
  private final Map<String, Link> links = new HashMap<>();
  /** Session secret's digest to the session. Guarded by this. */
  private final Map<String, Session> sessions = new HashMap<>();

  private record Link(String admin, Instant expires) {}

  /** A signed-in browser: whose it is, and the token its changes must carry (against cross-site requests). */
  public record Session(String admin, String csrf, Instant opened, Instant lastUsed) {}

  /** A new link's secret and when it stops working. */
  public record Issued(String secret, Instant expires) {}

  /** A session just opened: the secret its cookie carries, and the session. */
  public record Opened(String secret, Session session) {}

  public WebSessions(Clock clock) {
    this.clock = clock;
  }

  /** A one-time link secret for {@code admin}. */
  public synchronized Issued link(String admin) {
    Instant now = clock.instant();
    links.values().removeIf(l -> !now.isBefore(l.expires()));
    if (links.size() >= MAX_LINKS) {
      throw new IllegalStateException(links.size() + " sign-in links are waiting to be used; try again in "
          + LINK_LIFETIME.toMinutes() + " minutes, when they have expired");
    }
    String secret = secret();
    Instant expires = now.plus(LINK_LIFETIME);
    links.put(digest(secret), new Link(admin, expires));
    return new Issued(secret, expires);
  }

  /** Opens a session with a link's secret; empty when the link is unknown, used or expired. */
  public synchronized Optional<Opened> redeem(String linkSecret) {
    Link link = links.remove(digest(linkSecret));
    Instant now = clock.instant();
    if (link == null || !now.isBefore(link.expires())) {
      return Optional.empty();
    }
    sessions.values().removeIf(s -> !alive(s, now));
    if (sessions.size() >= MAX_SESSIONS) {
      throw new IllegalStateException(sessions.size() + " web sessions are open; end some (rackroll web logout --all)");
    }
    String secret = secret();
    Session session = new Session(link.admin(), secret(), now, now);
    sessions.put(digest(secret), session);
    return Optional.of(new Opened(secret, session));
  }

  /** The live session a cookie's secret opens, now marked used; empty when there is none. */
  public synchronized Optional<Session> session(String secret) {
    String key = digest(secret);
    Session s = sessions.get(key);
    Instant now = clock.instant();
    if (s == null) {
      return Optional.empty();
    }
    if (!alive(s, now)) {
      sessions.remove(key);
      return Optional.empty();
    }
    Session used = new Session(s.admin(), s.csrf(), s.opened(), now);
    sessions.put(key, used);
    return Optional.of(used);
  }

  /** Whether a cookie's secret still opens a session, without counting this as its use (open live pages do not keep a session alive). */
  public synchronized boolean alive(String secret) {
    Session s = sessions.get(digest(secret));
    return s != null && alive(s, clock.instant());
  }

  /** Ends the session a cookie's secret opens (signing out). */
  public synchronized boolean end(String secret) {
    return sessions.remove(digest(secret)) != null;
  }

  /** Ends every session of {@code admin}, or of everyone when null; returns how many were open. */
  public synchronized int endAll(String admin) {
    Instant now = clock.instant();
    sessions.values().removeIf(s -> !alive(s, now));
    int open = sessions.size();
    sessions.values().removeIf(s -> admin == null || s.admin().equals(admin));
    return open - sessions.size();
  }

  private static boolean alive(Session s, Instant now) {
    return now.isBefore(s.lastUsed().plus(IDLE)) && now.isBefore(s.opened().plus(MAX_AGE));
  }

  private String secret() {
    byte[] bytes = new byte[32];
    random.nextBytes(bytes);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }

  private static String digest(String secret) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(d);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
