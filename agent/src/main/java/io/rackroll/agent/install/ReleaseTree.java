package io.rackroll.agent.install;

import io.rackroll.agent.install.Unpacker.UnsafeArchiveException;
import io.rackroll.trust.SecureFiles;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * A release directory as the agent sees it: a box that nothing the release brings can make the
 * agent leave. Every path the agent reads, writes or executes inside a release goes through here.
 *
 * <p>Links are judged by the tree as it is on disk, not by their text: {@link #resolve} follows
 * every link it meets, one component at a time, and refuses the moment the walk would step above
 * the release's root, loop, or end at nothing. A chain of links that each look harmless (a link to
 * {@code ..} inside a subdirectory, then a link through it) is caught because the walk goes through
 * the first link before it reads the second. Writes never follow a link at all: the file written
 * and every directory above it (up to the release's root) must be real directories and files.
 *
 * <p>Hooks run as the agent's user and can change the tree as they like; these checks are about
 * what the agent itself does with the release's bytes, before and after hooks run.
 */
public final class ReleaseTree {
  /** More link hops than this in one walk is a loop (Linux stops at 40 as well). */
  private static final int MAX_HOPS = 40;

  private ReleaseTree() {}

  /**
   * Checks that every link under {@code root} leads to something that exists inside it. Called on
   * a freshly unpacked release, once every entry is on disk: a link can only be judged once the
   * links it passes through are there.
   */
  public static void checkLinks(Path root) throws IOException {
    Path real = root.toRealPath();
    Files.walkFileTree(real, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (attrs.isSymbolicLink()) {
          String name = real.relativize(file).toString();
          String target = Files.readSymbolicLink(file).toString();
          walk(real, file.getParent(), target, name);
        }
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /**
   * The real path of {@code relative} (a '/'-separated path inside the release), following links
   * only as long as they stay inside {@code root}.
   *
   * @throws UnsafeArchiveException if it leads outside the release, loops or does not exist
   */
  public static Path resolve(Path root, String relative) throws IOException {
    Path real = root.toRealPath();
    return walk(real, real, relative, relative);
  }

  /**
   * Replaces the regular file {@code relative} under {@code root} with {@code content}, with
   * {@code mode} (write, fsync, rename). Refuses when the file or any directory above it is a link,
   * so a release cannot point the agent's write anywhere else; the rename replaces the file itself.
   */
  public static Path write(Path root, String relative, byte[] content, Set<PosixFilePermission> mode)
      throws IOException {
    Path target = regularFile(root, relative, "write", true);
    SecureFiles.write(target, content, mode);
    // Created with the umask applied: the mode asked for is what the file gets.
    Files.setPosixFilePermissions(target, mode);
    return target;
  }

  /** Reads the regular file {@code relative}, refusing links anywhere on its way. */
  public static String readString(Path root, String relative) throws IOException {
    return Files.readString(regularFile(root, relative, "read", false));
  }

  /**
   * The path of {@code relative} under {@code root}, which must be inside it with no link on its
   * way, and a regular file ({@code mayBeNew}: or nothing yet).
   */
  private static Path regularFile(Path root, String relative, String verb, boolean mayBeNew) throws IOException {
    Path real = root.toRealPath();
    Path target = real.resolve(relative).normalize();
    if (!target.startsWith(real) || target.equals(real)) {
      throw new UnsafeArchiveException(relative, "is not a file inside the release");
    }
    for (Path p = target; !p.equals(real); p = p.getParent()) {
      if (Files.isSymbolicLink(p)) {
        throw new UnsafeArchiveException(relative, "the agent does not " + verb + " through links ("
            + real.relativize(p) + " is a link)");
      }
    }
    boolean exists = Files.exists(target, LinkOption.NOFOLLOW_LINKS);
    if (exists ? !Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS) : !mayBeNew) {
      throw new UnsafeArchiveException(relative, "is not a regular file inside the release");
    }
    return target;
  }

  /**
   * Walks {@code path} from the directory {@code from} (real, inside {@code root}), following links
   * as the kernel would, but never above {@code root}. Returns the real path reached.
   */
  private static Path walk(Path root, Path from, String path, String name) throws UnsafeArchiveException {
    if (path.isEmpty() || path.startsWith("/")) {
      throw new UnsafeArchiveException(name, "links must be relative and stay inside the release (points to "
          + path + ")");
    }
    Deque<String> todo = new ArrayDeque<>();
    push(todo, path);
    Path cur = from;
    int hops = 0;
    while (!todo.isEmpty()) {
      String c = todo.pop();
      if (c.isEmpty() || c.equals(".")) {
        continue;
      }
      if (c.equals("..")) {
        if (cur.equals(root)) {
          throw new UnsafeArchiveException(name, "leads outside the release (through " + path + ")");
        }
        cur = cur.getParent();
        continue;
      }
      Path next = cur.resolve(c);
      if (Files.isSymbolicLink(next)) {
        if (++hops > MAX_HOPS) {
          throw new UnsafeArchiveException(name, "links loop (more than " + MAX_HOPS + " in a row)");
        }
        String target;
        try {
          target = Files.readSymbolicLink(next).toString();
        } catch (IOException e) {
          throw new UnsafeArchiveException(name, "link " + root.relativize(next) + " cannot be read");
        }
        if (target.isEmpty() || target.startsWith("/")) {
          throw new UnsafeArchiveException(name, "passes through " + root.relativize(next)
              + ", a link outside the release (" + target + ")");
        }
        push(todo, target);
      } else if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
        if (!todo.isEmpty() && !Files.isDirectory(next, LinkOption.NOFOLLOW_LINKS)) {
          throw new UnsafeArchiveException(name, root.relativize(next) + " is not a directory");
        }
        cur = next;
      } else {
        throw new UnsafeArchiveException(name, "leads to nothing: " + root.relativize(next) + " does not exist");
      }
    }
    return cur;
  }

  private static void push(Deque<String> todo, String path) {
    String[] parts = path.split("/");
    for (int i = parts.length - 1; i >= 0; i--) {
      todo.push(parts[i]);
    }
  }
}
