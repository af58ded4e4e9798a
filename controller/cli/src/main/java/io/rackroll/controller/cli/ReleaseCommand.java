package io.rackroll.controller.cli;

import io.rackroll.proto.v1.AdminGrpc;
import io.rackroll.proto.v1.GetReleaseRequest;
import io.rackroll.proto.v1.PushReleaseResponse;
import io.rackroll.proto.v1.ReleaseRecord;
import io.rackroll.release.Artifact;
import io.rackroll.release.Manifest;
import io.rackroll.release.Sizes;
import io.rackroll.wire.ReleaseUpload;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "release", mixinStandardHelpOptions = true, description = "Build, push and inspect releases.",
    subcommands = {ReleaseCommand.Pack.class, ReleaseCommand.Push.class, ReleaseCommand.Show.class,
        SigningCommand.Keygen.class, SigningCommand.Sign.class, SigningCommand.Key.class})
final class ReleaseCommand {
  /** Well under gRPC's 4 MiB message limit; large enough that per-message overhead is noise. */

  @Command(name = "pack", mixinStandardHelpOptions = true,
      description = "Build a release artifact (.tar.gz) from a directory with rackroll.yaml at its root.")
  static final class Pack implements Callable<Integer> {
    @Parameters(paramLabel = "DIR", description = "Release directory.")
    Path dir;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Artifact to write (default: NAME-VERSION.tar.gz here).")
    Path output;

    @Override
    public Integer call() throws Exception {
      if (!Files.isDirectory(dir)) {
        throw new IllegalArgumentException(dir + ": not a directory (expected: a release directory with rackroll.yaml)");
      }
      Manifest m = Manifest.parse(readManifest(dir));
      Path out = output != null ? output : Path.of(m.name() + "-" + m.version() + ".tar.gz");
      Path tmp = out.toAbsolutePath().resolveSibling("." + out.getFileName() + ".tmp");
      try {
        Artifact.pack(dir, tmp);
        Files.move(tmp, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
      System.out.println("packed " + m.ref() + " into " + out + " (" + Sizes.format(Files.size(out)) + ", sha256 "
          + sha256(out) + ")");
      return 0;
    }

    private static String readManifest(Path dir) throws IOException {
      if (!Files.exists(dir.resolve(Manifest.FILE))) {
        throw new IllegalArgumentException(dir + ": no " + Manifest.FILE + " (expected: the release manifest at its root)");
      }
      return InputFile.text(dir.resolve(Manifest.FILE), "manifest", 256 << 10);
    }
  }

  @Command(name = "push", mixinStandardHelpOptions = true,
      description = {"Upload a release artifact to the controller, with its signature (FILE.sig, as 'rackroll"
          + " release sign' wrote it) when there is one. The same bytes again are a no-op, but for a new signature."})
  static final class Push implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "FILE", description = "Artifact made by 'rackroll release pack'.")
    Path file;

    @Option(names = "--signature", paramLabel = "FILE", description = "Its signature (default: FILE.sig, if it"
        + " exists).")
    Path signature;

    @Override
    public Integer call() throws Exception {
      InputFile.regular(file, "artifact", "an artifact made by 'rackroll release pack'");
      long size = Files.size(file);
      Path sig = signature != null ? signature : file.resolveSibling(file.getFileName() + ".sig");
      String signed = signature != null || Files.exists(sig) ? InputFile.text(sig, "the signature", 16 << 10) : "";
      return client.call(channel -> {
        PushReleaseResponse r = ReleaseUpload.upload(AdminGrpc.newStub(channel), file, size, signed);
        ReleaseRecord rel = r.getRelease();
        if (!r.getSignatureWarning().isEmpty()) {
          System.err.println("rackroll: warning: " + r.getSignatureWarning());
        }
        if (r.getAlreadyPresent() && !signed.isEmpty()) {
          System.out.println(rel.getName() + "@" + rel.getVersion() + " is already on the controller with these bytes;"
              + " signed by key " + rel.getSignedBy() + " now");
        } else if (r.getAlreadyPresent()) {
          System.out.println(rel.getName() + "@" + rel.getVersion() + " is already on the controller with these bytes;"
              + " nothing changed (sha256 " + rel.getDigest() + ")");
        } else {
          System.out.println("pushed " + rel.getName() + "@" + rel.getVersion() + " (" + Sizes.format(rel.getSizeBytes())
              + ", sha256 " + rel.getDigest() + (rel.getSignedBy().isEmpty() ? ", unsigned" : ", signed by key "
              + rel.getSignedBy()) + ")");
        }
        return 0;
      });
    }

  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Print a release's digest and manifest.")
  static final class Show implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME@VERSION", description = "The release, e.g. web@1.4.2.")
    String ref;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      Ref release = Ref.parse(ref);
      return client.call(channel -> {
        ReleaseRecord r = client.stub(channel).getRelease(GetReleaseRequest.newBuilder()
            .setName(release.name()).setVersion(release.version()).build());
        if (output.structured()) {
          output.print(System.out, r);
          return 0;
        }
        System.out.println("release    " + r.getName() + "@" + r.getVersion());
        System.out.println("sha256     " + r.getDigest());
        System.out.println("size       " + Sizes.format(r.getSizeBytes()) + " (" + Sizes.format(r.getUnpackedBytes())
            + " unpacked, " + r.getUnpackedEntries() + " entries)");
        System.out.println("pushed     " + Instant.ofEpochMilli(r.getPushedEpochMillis()) + " by " + r.getPushedBy());
        System.out.println("signed     " + (r.getSignedBy().isEmpty() ? "no" : "by key " + r.getSignedBy()));
        System.out.println("--- " + Manifest.FILE);
        System.out.print(r.getManifest().endsWith("\n") ? r.getManifest() : r.getManifest() + "\n");
        return 0;
      });
    }
  }

  /** NAME@VERSION as typed on the command line. */
  record Ref(String name, String version) {
    static Ref parse(String text) {
      int at = text.indexOf('@');
      if (at <= 0 || at == text.length() - 1) {
        throw new IllegalArgumentException("release: " + text + " (expected: NAME@VERSION, e.g. web@1.4.2)");
      }
      return new Ref(text.substring(0, at), text.substring(at + 1));
    }
  }

  static String sha256(Path file) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buf = new byte[ReleaseUpload.CHUNK];
      for (int n = in.read(buf); n > 0; n = in.read(buf)) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }
}
