package io.rackroll.agent.lifecycle;

import io.rackroll.wire.Names;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Where an app's files live on this host, in one place for the lifecycle, flags and hooks:
 *
 * <pre>
 * apps/&lt;app&gt;/releases/&lt;release&gt;/     unpacked releases (&lt;version&gt; or &lt;version&gt;~&lt;digest&gt;)
 * apps/&lt;app&gt;/current -&gt; releases/&lt;release&gt;   switched atomically
 * apps/&lt;app&gt;/lifecycle.json               the persisted job
 * apps/&lt;app&gt;/history.json                 the releases that were active, oldest first
 * apps/&lt;app&gt;/flags.json                   the app's runtime flags (each release links it)
 * apps/&lt;app&gt;/flags-change.json            the persisted flag change
 * apps/&lt;app&gt;/logs/&lt;release&gt;-&lt;hook&gt;.log   hook output
 * apps/&lt;app&gt;/hook.json                    the hook running now (its process group)
 * </pre>
 *
 * Every name is checked against {@link Names} before a path is built from it, whoever sent it, so
 * no app or release name can lead out of the apps directory.
 */
final class HostLayout {
  static final String FLAGS = "flags.json";
  static final String FLAG_CHANGE = "flags-change.json";
  /** The hook run in progress, if any: see {@link HookRunner}. */
  static final String HOOK = "hook.json";

  private final Path apps;

  HostLayout(Path apps) {
    this.apps = apps;
  }

  Path apps() {
    return apps;
  }

  Path app(String app) {
    return apps.resolve(Names.APP.check(app));
  }

  Path releases(String app) {
    return app(app).resolve("releases");
  }

  Path release(String app, String release) {
    return releases(app).resolve(Names.RELEASE.check(release));
  }

  Path current(String app) {
    return app(app).resolve("current");
  }

  Path job(String app) {
    return app(app).resolve("lifecycle.json");
  }

  Path history(String app) {
    return app(app).resolve("history.json");
  }

  Path flags(String app) {
    return app(app).resolve(FLAGS);
  }

  Path flagChange(String app) {
    return app(app).resolve(FLAG_CHANGE);
  }

  Path logs(String app) {
    return app(app).resolve("logs");
  }

  /** The app directory a release directory (or its staging directory) belongs to: two levels up. */
  static Path appOf(Path releaseDir) {
    return releaseDir.toAbsolutePath().getParent().getParent();
  }

  /** The apps on this host, by name: directories under apps/ whose names are app names (others are not ours). */
  List<String> appNames() throws IOException {
    if (!Files.isDirectory(apps)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(apps)) {
      return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).filter(Names.APP::valid).sorted().toList();
    }
  }
}
