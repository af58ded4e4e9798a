package io.rackroll.controller.cli;

import io.rackroll.proto.v1.KeyStatementRecord;
import io.rackroll.proto.v1.KeyStatementsResponse;
import io.rackroll.proto.v1.ListKeyStatementsRequest;
import io.rackroll.proto.v1.PushKeyStatementRequest;
import io.rackroll.release.Artifact;
import io.rackroll.release.Manifest;
import io.rackroll.release.UnpackLimits;
import io.rackroll.trust.KeyStatement;
import io.rackroll.trust.ReleaseKey;
import io.rackroll.trust.ReleaseSignature;
import io.rackroll.trust.SecureFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Release keys and signatures: made and used where the release manager works, with the private
 * key never leaving that machine. Only key statements reach the controller, which hands them to
 * the hosts; the hosts decide.
 */
final class SigningCommand {
  private SigningCommand() {}

  static PrivateKey readKey(Path file) {
    String text = InputFile.text(file, "the release signing key", 16 << 10);
    try {
      return ReleaseKey.privateKey(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage() + "; give the NAME.key file");
    }
  }

  static ReleaseKey readPublic(Path file) {
    String text = InputFile.text(file, "the release key", 16 << 10);
    try {
      return ReleaseKey.parse(text);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage() + "; give the NAME.pub file");
    }
  }

  @Command(name = "keygen", mixinStandardHelpOptions = true,
      description = {"Make a release signing key (Ed25519) here: NAME.key (private, 0600; keep it off the controller)"
          + " and NAME.pub (give it to hosts: releaseKeys, or 'rackroll token create --release-key NAME.pub')."})
  static final class Keygen implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "The key's name, e.g. release-2026.")
    String name;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write NAME.key and NAME.pub (default: here).")
    Path out = Path.of(".");

    @Override
    public Integer call() throws Exception {
      io.rackroll.wire.Names.RELEASE_KEY.check(name);
      Path key = out.resolve(name + ".key");
      Path pub = out.resolve(name + ".pub");
      if (Files.exists(key)) {
        throw new IllegalStateException(key + " exists; refusing to replace a signing key (choose another NAME)");
      }
      KeyPair pair = ReleaseKey.generate();
      ReleaseKey release = ReleaseKey.of(pair.getPublic());
      SecureFiles.writeString(key, ReleaseKey.privateKeyPem(pair.getPrivate()), SecureFiles.OWNER_ONLY);
      SecureFiles.writeString(pub, release.format(name) + "\n", SecureFiles.PUBLIC);
      System.out.println("wrote " + key + " (private: keep it here) and " + pub + "; key id " + release.id());
      return 0;
    }
  }

  @Command(name = "sign", mixinStandardHelpOptions = true,
      description = {"Sign a release artifact: writes FILE.sig over its SHA-256, name and version, which 'rackroll"
          + " release push FILE' sends with it."})
  static final class Sign implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "Artifact made by 'rackroll release pack'.")
    Path file;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "The private key 'rackroll release"
        + " keygen' wrote (NAME.key).")
    Path key;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write it (default: FILE.sig).")
    Path output;

    @Override
    public Integer call() throws Exception {
      InputFile.regular(file, "artifact", "an artifact made by 'rackroll release pack'");
      PrivateKey signer = readKey(key);
      Manifest m = Artifact.inspect(file, UnpackLimits.NONE).manifest();
      ReleaseSignature s = ReleaseSignature.sign(signer, m.name(), m.version(), ReleaseCommand.sha256(file));
      Path out = output != null ? output : file.resolveSibling(file.getFileName() + ".sig");
      SecureFiles.writeString(out, s.format(), SecureFiles.PUBLIC);
      System.out.println("signed " + m.ref() + " with key " + s.keyId() + ": wrote " + out);
      return 0;
    }
  }

  @Command(name = "key", mixinStandardHelpOptions = true,
      description = {"Move hosts to a new release key, or withdraw one, by statements signed with a key they trust.",
          "trust/withdraw write a statement here (with your private key); push hands it to the controller, which gives"
              + " it to every host."},
      subcommands = {Statement.Trust.class, Statement.Withdraw.class, PushStatement.class, ListStatements.class})
  static final class Key {}

  abstract static class Statement implements Callable<Integer> {
    @Parameters(paramLabel = "PUBFILE", description = "The key the statement is about (NAME.pub).")
    Path subject;

    @Option(names = "--key", required = true, paramLabel = "FILE", description = "A private key the hosts trust"
        + " now, to sign the statement with.")
    Path key;

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "Where to write it (default:"
        + " ACTION-KEYID.statement here).")
    Path output;

    abstract KeyStatement.Action action();

    @Override
    public Integer call() throws Exception {
      ReleaseKey about = readPublic(subject);
      PrivateKey signer = readKey(key);
      if (action() == KeyStatement.Action.TRUST && ReleaseKey.publicOf(signer).equals(about)) {
        throw new IllegalArgumentException("key " + about.id() + " would vouch for itself; sign the statement with a"
            + " key the hosts trust now (--key OLD.key)");
      }
      KeyStatement s = KeyStatement.sign(signer, action(), about, Instant.now());
      String verb = action().name().toLowerCase(java.util.Locale.ROOT);
      Path out = output != null ? output : Path.of(verb + "-" + about.id() + ".statement");
      SecureFiles.writeString(out, s.format(), SecureFiles.PUBLIC);
      System.out.println("wrote " + out + ": " + s.describe() + "; hand it to the hosts with 'rackroll release key"
          + " push " + out + "'");
      return 0;
    }

    @Command(name = "trust", mixinStandardHelpOptions = true,
        description = "Write a statement, signed with a key hosts trust, that they trust the key in PUBFILE too.")
    static final class Trust extends Statement {
      @Override
      KeyStatement.Action action() {
        return KeyStatement.Action.TRUST;
      }
    }

    @Command(name = "withdraw", mixinStandardHelpOptions = true,
        description = "Write a statement, signed with a key hosts trust, that they stop trusting the key in PUBFILE,"
            + " for good.")
    static final class Withdraw extends Statement {
      @Override
      KeyStatement.Action action() {
        return KeyStatement.Action.WITHDRAW;
      }
    }
  }

  @Command(name = "push", mixinStandardHelpOptions = true,
      description = "Hand a key statement to the controller, which keeps it and gives it to every host (operators).")
  static final class PushStatement implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "FILE", description = "A statement 'rackroll release key trust|withdraw' wrote.")
    Path file;

    @Override
    public Integer call() throws Exception {
      String text = InputFile.text(file, "the key statement", 16 << 10);
      KeyStatement s = KeyStatement.parse(text);
      return client.call(channel -> {
        print(client.stub(channel).pushKeyStatement(PushKeyStatementRequest.newBuilder().setStatement(text).build()));
        System.out.println("pushed: " + s.describe() + "; connected hosts that trust key " + s.signerId()
            + " apply it now, others when they connect");
        return 0;
      });
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Key statements the controller gives hosts.")
  static final class ListStatements implements Callable<Integer> {
    @Mixin AdminClient client;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        var statements = client.stub(channel).listKeyStatements(ListKeyStatementsRequest.getDefaultInstance());
        if (output.structured()) {
          output.print(System.out, statements);
        } else {
          print(statements);
        }
        return 0;
      });
    }
  }

  static void print(KeyStatementsResponse r) {
    System.out.printf("%-9s %-17s %-17s %-21s %-8s %s%n", "ACTION", "KEY", "SIGNED-BY", "ISSUED", "TRUSTING", "PUSHED");
    for (KeyStatementRecord s : r.getStatementsList()) {
      System.out.printf("%-9s %-17s %-17s %-21s %-8d %s%n", s.getAction(), s.getSubjectKey(), s.getSignedBy(),
          Instant.ofEpochMilli(s.getIssuedEpochMillis()), s.getHostsTrusting(), Instant.ofEpochMilli(
              s.getPushedEpochMillis()) + " by " + s.getPushedBy());
    }
  }
}
