package io.rackroll.controller.strategy;

/**
 * A number of hosts written as a count ({@code 3}) or a share of the deployment ({@code 10%}).
 * How a share rounds depends on what it bounds: batch sizes round up (10% of 5 hosts is 1, never
 * 0), failure budgets round down (10% of 5 hosts allows 0 failures, never more than asked).
 */
public record Amount(int value, boolean percent) {
  public Amount {
    if (value < 0 || (percent && value > 100)) {
      throw new IllegalArgumentException("out of range: " + value + (percent ? "%" : ""));
    }
  }

  /** Parses "3" or "10%"; {@code what} names the option in the error. */
  public static Amount parse(String what, String text) {
    String t = text.trim();
    boolean percent = t.endsWith("%");
    String digits = percent ? t.substring(0, t.length() - 1).trim() : t;
    if (!digits.matches("\\d{1,6}") || (percent && Integer.parseInt(digits) > 100)) {
      throw new StrategyException(what + ": expected a number of hosts like 3 or a share like 10% (0-100%), got \""
          + text + "\"");
    }
    return new Amount(Integer.parseInt(digits), percent);
  }

  /** Rounded up, for sizes: at least 1 of a non-empty deployment unless the amount is 0. */
  public int ceilOf(int hosts) {
    if (!percent) {
      return Math.min(value, hosts);
    }
    return Math.min(hosts, (int) Math.ceil(value * (double) hosts / 100));
  }

  /** Rounded down, for budgets. */
  public int floorOf(int hosts) {
    return percent ? value * hosts / 100 : value;
  }

  @Override
  public String toString() {
    return value + (percent ? "%" : "");
  }
}
