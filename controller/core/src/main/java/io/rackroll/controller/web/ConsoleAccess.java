package io.rackroll.controller.web;

import java.time.Instant;
import java.util.Optional;

/**
 * What the admin API needs of the web console: a sign-in link for the calling admin, and the end
 * of sessions. Made before the console starts (the admin API is built first); told the console's
 * address once it listens. With the console off, there is no link to give.
 */
public final class ConsoleAccess {
  private final WebSessions sessions;
  /** Set once the console listens; null while it is off. */
  private volatile String base;
  /** Closes the open pages of ended sessions; set with {@link #base}. */
  private volatile Runnable sessionsEnded = () -> { };

  /** A link to open, and when it stops working. */
  public record Link(String url, Instant expires) {}

  public ConsoleAccess(WebSessions sessions) {
    this.sessions = sessions;
  }

  /** Called once the console listens at {@code base} (e.g. https://ctl1:8443); it closes ended sessions' pages. */
  void serving(String base, Runnable sessionsEnded) {
    this.sessionsEnded = sessionsEnded;
    this.base = base;
  }

  /** A one-time sign-in link for {@code admin}; empty when the console is off. */
  public Optional<Link> link(String admin) {
    String b = base;
    if (b == null) {
      return Optional.empty();
    }
    WebSessions.Issued issued = sessions.link(admin);
    // The secret rides in the fragment: browsers send it to no server and in no Referer; the page reads it.
    return Optional.of(new Link(b + "/#login=" + issued.secret(), issued.expires()));
  }

  /** Ends the sessions of {@code admin} (null: everyone's); their open pages close. Returns how many. */
  public int end(String admin) {
    int n = sessions.endAll(admin);
    sessionsEnded.run();
    return n;
  }
}
