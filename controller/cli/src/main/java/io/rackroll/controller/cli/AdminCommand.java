package io.rackroll.controller.cli;

import io.rackroll.proto.v1.AddAdminRequest;
import io.rackroll.proto.v1.AddAdminResponse;
import io.rackroll.proto.v1.AdminRecord;
import io.rackroll.proto.v1.ListAdminsRequest;
import io.rackroll.proto.v1.RenewAdminRequest;
import io.rackroll.proto.v1.RenewAdminResponse;
import io.rackroll.proto.v1.RevokeAdminRequest;
import io.rackroll.proto.v1.RevokeAdminResponse;
import io.rackroll.trust.Keys;
import io.rackroll.trust.PeerIdentity;
import io.rackroll.trust.Pem;
import io.rackroll.trust.SecureFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * People with certificates of their own. The private key is made where its owner works
 * ({@code admin request}) and never travels: an owner signs the request ({@code admin add}) and
 * hands back the certificate.
 */
@Command(name = "admin", mixinStandardHelpOptions = true,
    description = {"People (and CI systems) with certificates of their own, each with a role: viewer (reads),"
        + " deployer (also pushes, deploys, promotes, changes flags, pauses/resumes/approves/aborts deployments),"
        + " operator (also rollbacks, tokens, agents, the environments file, --force and --override-window),"
        + " owner (also admins and secrets)."},
    subcommands = {AdminCommand.Request.class, AdminCommand.Add.class, AdminCommand.ListAdmins.class,
        AdminCommand.Renew.class, AdminCommand.Revoke.class})
final class AdminCommand {
  static final String KEY = "admin.key";
  static final String CSR = "admin.csr";
  static final String CERTIFICATE = "admin.crt";
  static final String CA = "ca.crt";

  @Command(name = "request", mixinStandardHelpOptions = true,
      description = {"Make your key and a certificate request, on your own machine; nothing is sent anywhere.",
          "Give " + CSR + " to an owner, who runs 'rackroll admin add NAME --role ROLE --csr " + CSR + "' and hands"
              + " back " + CERTIFICATE + " and " + CA + "; put them beside your key and use --credentials DIR."})
  static final class Request implements Callable<Integer> {
    @Parameters(paramLabel = "NAME", description = "Your name, e.g. alice or ci-release.")
    String name;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write " + KEY + " and " + CSR
        + " (default: ./rackroll-NAME).")
    Path out;

    @Override
    public Integer call() throws Exception {
      PeerIdentity identity = PeerIdentity.admin(name);
      Path dir = out != null ? out : Path.of("rackroll-" + name);
      if (Files.exists(dir.resolve(KEY))) {
        throw new IllegalStateException(dir.resolve(KEY) + " exists; refusing to replace a key (use another --out)");
      }
      SecureFiles.privateDirectory(dir);
      KeyPair pair = Keys.newKeyPair();
      SecureFiles.writeString(dir.resolve(KEY), Pem.encode(pair.getPrivate()), SecureFiles.OWNER_ONLY);
      SecureFiles.writeString(dir.resolve(CSR), Pem.encodeCsr(Keys.csr(identity, pair)), SecureFiles.PUBLIC);
      System.out.println("wrote " + dir.resolve(KEY) + " (keep it here) and " + dir.resolve(CSR));
      System.out.println("next: an owner runs 'rackroll admin add " + name + " --role ROLE --csr " + CSR + "' and hands"
          + " back " + CERTIFICATE + " and " + CA + "; put them in " + dir + " and use --credentials " + dir);
      return 0;
    }
  }

  @Command(name = "add", mixinStandardHelpOptions = true,
      description = "Issue NAME a certificate for the key in its request, with a role (owners only; audited).")
  static final class Add implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME", description = "Who, as in the request.")
    String name;

    @Option(names = "--role", required = true, paramLabel = "ROLE", description = "viewer, deployer, operator or owner.")
    String role;

    @Option(names = "--env", paramLabel = "ENV", description = "For a deployer: an environment it may change"
        + " (repeat for more; default: every environment).")
    java.util.List<String> environments = new java.util.ArrayList<>();

    @Option(names = "--csr", required = true, paramLabel = "FILE", description = "The request 'rackroll admin request'"
        + " wrote (" + CSR + ").")
    Path csr;

    @Option(names = "--out", paramLabel = "DIR", description = "Where to write " + CERTIFICATE + " and " + CA
        + " (default: beside the request).")
    Path out;

    @Override
    public Integer call() throws Exception {
      String request = InputFile.text(csr, "the certificate request", 64 << 10);
      Path dir = out != null ? out : csr.toAbsolutePath().getParent();
      return client.call(channel -> {
        AddAdminResponse r = client.stub(channel).addAdmin(AddAdminRequest.newBuilder().setName(name).setRole(role)
            .addAllEnvironments(environments).setCsrPem(request).build());
        Files.createDirectories(dir);
        SecureFiles.writeString(dir.resolve(CERTIFICATE), r.getCertificatePem(), SecureFiles.PUBLIC);
        SecureFiles.writeString(dir.resolve(CA), r.getCaPem(), SecureFiles.PUBLIC);
        System.out.println("added admin " + name + " (" + role + (environments.isEmpty() ? "" : " in "
            + String.join(", ", environments)) + "), certificate valid until "
            + Instant.ofEpochMilli(r.getNotAfterEpochMillis()) + ": wrote " + dir.resolve(CERTIFICATE) + " and "
            + dir.resolve(CA) + "; hand both to " + name);
        return 0;
      });
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every admin, its role and state.")
  static final class ListAdmins implements Callable<Integer> {
    @Mixin AdminClient client;

    @Mixin Output.Option output;

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        if (output.structured()) {
          output.print(System.out, client.stub(channel).listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList());
          return 0;
        }
        System.out.printf("%-24s %-9s %-16s %-6s %-24s %s%n", "NAME", "ROLE", "ENVIRONMENTS", "CERTS", "ADDED", "STATE");
        for (AdminRecord a : client.stub(channel).listAdmins(ListAdminsRequest.getDefaultInstance()).getAdminsList()) {
          String added = a.getCreatedEpochMillis() == 0 ? "at init" : Instant.ofEpochMilli(a.getCreatedEpochMillis())
              + " by " + a.getCreatedBy();
          String envs = a.getEnvironmentsCount() == 0 ? "all" : String.join(",", a.getEnvironmentsList());
          System.out.printf("%-24s %-9s %-16s %-6d %-24s %s%n", a.getName(), a.getRole(), envs, a.getCertificates(), added,
              a.getRevokedEpochMillis() == 0 ? "active" : "revoked " + Instant.ofEpochMilli(a.getRevokedEpochMillis())
                  + " by " + a.getRevokedBy());
        }
        return 0;
      });
    }
  }

  @Command(name = "renew", mixinStandardHelpOptions = true,
      description = {"Get a new certificate for your own key before yours expires; your name and role stay.",
          "Replaces " + CERTIFICATE + " in --credentials (or the data directory's pki) in one step; the key stays."})
  static final class Renew implements Callable<Integer> {
    @Mixin AdminClient client;

    @Override
    public Integer call() throws Exception {
      Path dir = client.credentialsDir();
      return client.call(channel -> {
        RenewAdminResponse r = client.stub(channel).renewAdmin(RenewAdminRequest.getDefaultInstance());
        // One file replaced whole (written, fsynced, renamed): a kill leaves the old or the new certificate.
        SecureFiles.writeString(dir.resolve(CERTIFICATE), r.getCertificatePem(), SecureFiles.PUBLIC);
        System.out.println("renewed: " + dir.resolve(CERTIFICATE) + " is valid until "
            + Instant.ofEpochMilli(r.getNotAfterEpochMillis()));
        return 0;
      });
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true,
      description = "Refuse NAME's certificates at once and from then on, across restarts (owners only; audited).")
  static final class Revoke implements Callable<Integer> {
    @Mixin AdminClient client;

    @Parameters(paramLabel = "NAME", description = "Who.")
    String name;

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit log.")
    String reason = "";

    @Override
    public Integer call() throws Exception {
      return client.call(channel -> {
        RevokeAdminResponse r = client.stub(channel).revokeAdmin(RevokeAdminRequest.newBuilder().setName(name)
            .setReason(reason).build());
        System.out.println("revoked admin " + name + ": certificate" + (r.getSerialsCount() == 1 ? " " : "s ")
            + String.join(", ", r.getSerialsList()) + " refused from now on");
        return 0;
      });
    }
  }
}
