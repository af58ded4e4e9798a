package io.rackroll.controller.fleet;

import io.rackroll.proto.v1.CheckResult;
import io.rackroll.proto.v1.HealthReport;
import io.rackroll.release.Sizes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Locale;

/** One line an operator reads for a health report: verdict, failing checks, then the host's load, memory and disk. */
final class HealthLine {
  private HealthLine() {}

  static String of(HealthReport r) {
    long passed = r.getChecksList().stream().filter(CheckResult::getOk).count();
    StringBuilder b = new StringBuilder(r.getHealthy() ? "healthy" : "UNHEALTHY");
    b.append(" (").append(passed).append(" of ").append(r.getChecksCount()).append(" checks pass) at ")
        .append(Instant.ofEpochMilli(r.getAtEpochMillis()).truncatedTo(ChronoUnit.SECONDS));
    for (CheckResult c : r.getChecksList()) {
      if (!c.getOk()) {
        b.append("; ").append(c.getDetail());
      }
    }
    if (r.getLoadAverage1M() >= 0) {
      b.append("; load ").append(String.format(Locale.ROOT, "%.2f", r.getLoadAverage1M()));
    }
    b.append(", ").append(Sizes.format(r.getMemoryAvailableBytes())).append(" memory available, ")
        .append(Sizes.format(r.getDiskFreeBytes())).append(" disk free");
    return b.toString();
  }
}
